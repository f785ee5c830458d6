"""The output tables: sentences, segments, quotes, interviews, as CSV and Parquet.

This is the one place where records become DataFrames, with the column names of
:mod:`pipeline.records`. CSV is UTF-8 with a BOM so that a double-click in Excel shows
accents correctly; Parquet keeps the types for pandas/BI tools. Files are written
atomically.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from pipeline.cache import atomic_write
from pipeline.labels import FORCES, INTERVIEWEE, INTERVIEWER, NONE, PHASES
from pipeline.records import (
    INTERVIEW_COLUMNS,
    QUOTE_COLUMNS,
    SEGMENT_COLUMNS,
    SENTENCE_COLUMNS,
    Quote,
    Segment,
    Sentence,
)


def sentences_frame(
    sentences: list[Sentence], extra: dict[str, dict[str, str]] | None = None
) -> pd.DataFrame:
    """One row per sentence; ``extra`` adds columns after the standard ones.

    ``extra`` maps a column name to ``{sentence_id: value}``; the review step uses it
    for ``reviewed`` (the tags a reviewer set) and ``comment``.
    """
    df = pd.DataFrame([asdict(s) for s in sentences], columns=[*SENTENCE_COLUMNS, "index"])
    df = df.sort_values(["interview_id", "index"], kind="stable")
    extra = extra or {}
    for name, values in extra.items():
        df[name] = df["sentence_id"].map(values).fillna("")
    return df[[*SENTENCE_COLUMNS, *extra]].reset_index(drop=True)


def segments_frame(segments: list[Segment]) -> pd.DataFrame:
    rows = []
    for seg in segments:
        row = asdict(seg)
        row["interviews"] = ";".join(seg.interviews)
        row["forces"] = ";".join(f"{k}={v}" for k, v in seg.forces.items() if v)
        row["job_types"] = ";".join(f"{k}={v}" for k, v in seg.job_types.items() if v)
        rows.append(row)
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)


def quotes_frame(quotes: list[Quote]) -> pd.DataFrame:
    return pd.DataFrame([asdict(q) for q in quotes], columns=QUOTE_COLUMNS)


def interviews_frame(
    interviews: list[dict], sentences: list[Sentence], segments: list[Segment]
) -> pd.DataFrame:
    """One row per interview: metadata, counts per phase and force, main job."""
    statements = {seg.segment_id: seg.job_statement for seg in segments}
    own = {seg.segment_id: seg.interview_statements for seg in segments}
    by_interview: dict[str, list[Sentence]] = {}
    for s in sentences:
        by_interview.setdefault(s.interview_id, []).append(s)
    rows = []
    for meta in interviews:
        iid = meta["interview_id"]
        sents = by_interview.get(iid, [])
        customer = [s for s in sents if s.role == INTERVIEWEE]
        phases = Counter(s.phase for s in sents)
        forces = Counter(s.force for s in customer)
        seg_counts = Counter(s.segment_id for s in customer if s.segment_id)
        main = seg_counts.most_common(1)[0][0] if seg_counts else None
        roles = meta.get("roles", {})
        interviewer = [sp for sp, r in roles.items() if r == INTERVIEWER]
        rows.append(
            {
                "interview_id": iid,
                "source": Path(meta.get("source", "")).name,
                "kind": meta.get("kind"),
                "duration": meta.get("duration"),
                "language": meta.get("language"),
                "speakers": ";".join(meta.get("speakers", [])),
                "interviewer": ";".join(interviewer),
                "n_turns": meta.get("n_turns"),
                "n_sentences": len(sents),
                "n_interviewee_sentences": len(customer),
                **{f"phase_{p}": phases.get(p, 0) for p in PHASES},
                **{f"force_{f}": forces.get(f, 0) for f in FORCES if f != NONE},
                "main_segment_id": main,
                # the interview's main job in its customer's own words, else the segment's
                "main_job": (own.get(main, {}).get(iid) or statements.get(main)) if main else None,
            }
        )
    return pd.DataFrame(rows, columns=INTERVIEW_COLUMNS)


def write_table(df: pd.DataFrame, out_dir: Path, name: str, formats: list[str]) -> None:
    if "csv" in formats:
        atomic_write(
            out_dir / f"{name}.csv",
            lambda p: df.to_csv(p, index=False, encoding="utf-8-sig", lineterminator="\n"),
        )
    if "parquet" in formats:
        atomic_write(out_dir / f"{name}.parquet", lambda p: df.to_parquet(p, index=False))


def write_outputs(
    out_dir: Path,
    interviews: list[dict],
    sentences: list[Sentence],
    segments: list[Segment],
    quotes: list[Quote],
    formats: list[str],
    extra: dict[str, dict[str, str]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Write the four tables and return them (handy for tests and notebooks).

    ``extra``: additional sentence columns (see :func:`sentences_frame`).
    """
    tables = {
        "sentences": sentences_frame(sentences, extra),
        "segments": segments_frame(segments),
        "quotes": quotes_frame(quotes),
        "interviews": interviews_frame(interviews, sentences, segments),
    }
    for name, df in tables.items():
        write_table(df, Path(out_dir), name, formats)
    return tables
