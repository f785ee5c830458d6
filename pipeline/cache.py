"""Content-hash keys and atomic writes: what makes re-runs cheap and interruptions harmless.

Every per-interview stage writes one JSON file that carries the key it was computed
from (content hash of the input + hash of the stage's config + the code's version).
A re-run reads the key back and skips the stage when it matches. Writes go to a
temporary file in the same folder and are renamed over the target, so an interrupted
run never leaves a half-written file behind and the next run simply resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline import __version__


def file_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes (streamed, so hour-long recordings cost no memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def text_hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=32)
def code_hash(*names: str) -> str:
    """Hash of the package's own source for some modules or subpackages (``"tagging"``).

    Part of a stage's cache key, so that improving the tagger or the clustering
    re-computes their results on the next run even without a version bump, while an
    unrelated change leaves the (expensive) transcripts alone.
    """
    digest = hashlib.sha256()
    for name in names:
        target = PACKAGE / name
        files = sorted(target.rglob("*")) if target.is_dir() else [target.with_suffix(".py")]
        for path in files:
            if path.is_file() and path.suffix in {".py", ".yaml", ".txt", ".json"}:
                digest.update(path.relative_to(PACKAGE).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def stage_key(stage: str, *parts: str) -> str:
    """The cache key of one stage: its name, the code version and its inputs' hashes."""
    return text_hash(stage, __version__, *parts)[:32]


def _read_umask() -> int:
    # read once, at import (single-threaded then): os.umask can only be read by setting it
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _umask() -> int:
    return _UMASK


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        # mkstemp makes the file private (0600); outputs are shared with colleagues and
        # spreadsheet tools like any file the user creates: apply the usual umask.
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding=encoding))


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1))


def read_cached(path: str | Path, key: str) -> dict[str, Any] | None:
    """The cached payload at ``path`` if it was computed from ``key``, else ``None``."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # a damaged cache file is recomputed, never trusted
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return data


def write_cached(path: str | Path, key: str, payload: dict[str, Any]) -> None:
    atomic_write_json(path, {"key": key, **payload})
