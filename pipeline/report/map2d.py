"""2-D coordinates of the job sentences for the report's map, computed once and cached.

The vectors are the ones the segment stage cached under ``OUT/interim/embeddings``:
the report never loads an embedding model (a sentence whose vector is not cached
leaves the map out, with a note). t-SNE runs with the segments' seed, and the result is
kept in ``OUT/interim/report_map.json``, keyed by the job sentences and the
``segments`` settings, so a re-run with nothing new redraws the same map at no cost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.cache import read_cached, stage_key, text_hash, write_cached
from pipeline.config import Config, section_hash
from pipeline.records import Sentence

log = logging.getLogger("jtbd")

MAX_POINTS = 4000  # beyond this, an even sample (SVG scatter stays responsive)


class _CacheOnly:
    """An embedder that only has a name: the cache must hold every vector."""

    def __init__(self, name: str):
        self.name = name

    def embed(self, texts: list[str]):
        raise LookupError(f"{len(texts)} sentence vector(s) are not in the embedding cache")


def _as_sentence(row: dict[str, Any]) -> Sentence:
    return Sentence(
        interview_id=str(row["interview_id"]),
        sentence_id=str(row["sentence_id"]),
        turn=int(row.get("turn") or 0),
        index=int(row.get("index") or 0),
        speaker=str(row.get("speaker") or ""),
        role=str(row.get("role") or ""),
        text=str(row.get("text") or ""),
        job_type=str(row.get("job_type") or "none"),
        segment_id=row.get("segment_id"),
    )


def job_sentence_map(
    rows: Sequence[dict[str, Any]], config: Config, out_dir: Path
) -> tuple[list[dict[str, Any]], str | None]:
    """Points ``{sentence_id, interview_id, segment_id, text, x, y}`` and a note (why the
    map is empty or sampled), from the cached embeddings."""
    from pipeline.segments import get_embedder, job_sentences, project_2d

    sentences = job_sentences([_as_sentence(r) for r in rows])
    if len(sentences) < 2:
        return [], "pas assez de phrases de job pour une carte"
    note = None
    if len(sentences) > MAX_POINTS:
        step = len(sentences) / MAX_POINTS
        sentences = [sentences[int(k * step)] for k in range(MAX_POINTS)]
        note = f"échantillon régulier de {MAX_POINTS} phrases de job"
    cache_dir = Path(out_dir) / "interim" / "embeddings"
    name = get_embedder(config.segments).name
    key = stage_key(
        "report-map/tsne",  # the projection method: an older UMAP map is redrawn
        text_hash(name, *(f"{s.sentence_id}|{s.text}" for s in sentences)),
        section_hash(config, "segments"),
    )
    cache_path = Path(out_dir) / "interim" / "report_map.json"
    cached = read_cached(cache_path, key)
    if cached is not None:
        coords = {k: tuple(v) for k, v in cached["coords"].items()}
    else:
        try:
            coords = project_2d(
                sentences, config.segments, cache_dir=cache_dir, embedder=_CacheOnly(name)
            )
        except LookupError as exc:
            return [], f"carte indisponible : {exc} (relancez `jtbd segment`)"
        write_cached(cache_path, key, {"coords": {k: list(v) for k, v in coords.items()}})
    points = []
    for s in sentences:
        if s.sentence_id in coords:
            x, y = coords[s.sentence_id]
            points.append(
                {
                    "sentence_id": s.sentence_id,
                    "interview_id": s.interview_id,
                    "segment_id": s.segment_id,
                    "text": s.text,
                    "x": round(float(x), 4),
                    "y": round(float(y), 4),
                }
            )
    return points, note
