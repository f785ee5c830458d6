"""What the report and the exports read: the output tables, interview metadata, reviews.

Everything comes from the output folder (or from the tables a run has just written),
so ``jtbd report --out OUT`` rebuilds the report without any model. Rows are plain
dicts with ``None`` for missing values, whatever the table's format on disk (Parquet
keeps the types; CSV is read as text and the numeric columns converted back).
"""

from __future__ import annotations

import csv
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from pipeline.errors import InputError
from pipeline.records import INTERVIEW_COLUMNS, QUOTE_COLUMNS, SEGMENT_COLUMNS, SENTENCE_COLUMNS

log = logging.getLogger("jtbd")

TABLES: dict[str, list[str]] = {
    "interviews": INTERVIEW_COLUMNS,
    "sentences": SENTENCE_COLUMNS,
    "segments": SEGMENT_COLUMNS,
    "quotes": QUOTE_COLUMNS,
}
# Columns that CSV gives back as text and that are numbers.
NUMERIC: dict[str, set[str]] = {
    "sentences": {"turn", "start", "end", "phase_score", "force_score", "job_type_score"},
    "segments": {
        "n_interviews", "n_sentences", "frequency", "pain", "dissatisfaction", "priority",
    },
    "quotes": {"rank", "start", "end", "similarity"},
    "interviews": {
        "duration", "n_turns", "n_sentences", "n_interviewee_sentences",
        *(c for c in INTERVIEW_COLUMNS if c.startswith(("phase_", "force_"))),
    },
}
TAG_FIELDS = ("phase", "force", "job_type")


def _tidy(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Numeric columns as floats, missing values as ``None`` (text columns stay text)."""
    df = df.copy()
    for col in NUMERIC[name] & set(df.columns):
        df[col] = pd.to_numeric(df[col].replace("", None), errors="coerce")
    df = df.astype(object)
    return df.where(df.notna(), None)


def read_table(out_dir: Path, name: str) -> pd.DataFrame:
    """One output table from ``out_dir``: Parquet when there, else CSV (UTF-8 with BOM)."""
    parquet, csv_path = out_dir / f"{name}.parquet", out_dir / f"{name}.csv"
    if parquet.exists():
        return _tidy(pd.read_parquet(parquet), name)
    if csv_path.exists():
        # keep_default_na=False: a sentence that reads "NA" or "null" stays text
        df = pd.read_csv(csv_path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        return _tidy(df.replace("", None), name)
    raise InputError(out_dir, f"no {name}.parquet or {name}.csv here; run `jtbd run` first")


def load_tables(
    out_dir: Path, tables: dict[str, pd.DataFrame] | None = None
) -> dict[str, pd.DataFrame]:
    """The four tables, from ``tables`` (a run's own) or from the files in ``out_dir``."""
    out = {}
    for name in TABLES:
        if tables is not None and name in tables:
            out[name] = _tidy(tables[name], name)
        else:
            out[name] = read_table(out_dir, name)
    return out


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return df.to_dict("records")


def split_list(value: Any) -> list[str]:
    """``"a;b"`` -> ``["a", "b"]`` (how lists are stored in the tables)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v for v in str(value).split(";") if v]


def split_counts(value: Any) -> dict[str, int]:
    """``"push=3;pull=1"`` -> ``{"push": 3, "pull": 1}``."""
    if isinstance(value, dict):
        return {str(k): int(v) for k, v in value.items()}
    out = {}
    for part in split_list(value):
        key, _, num = part.partition("=")
        try:
            out[key] = int(float(num))
        except ValueError:
            continue
    return out


# --------------------------------------------------------------------------- interviews


@dataclass
class InterviewInfo:
    """One interview as the report shows it."""

    interview_id: str
    kind: str
    source_name: str
    duration: float | None
    speakers: list[str]
    interviewer: list[str]
    main_segment_id: str | None
    main_job: str | None
    n_sentences: int
    audio_href: str | None = None  # the recording, relative to report.html, URL-quoted
    audio_note: str | None = None  # why there is no player for an audio interview
    row: dict[str, Any] = field(default_factory=dict)


def tagged_meta(out_dir: Path, interview_id: str) -> dict[str, Any]:
    """The interview metadata saved by the tag stage (source path, roles), or ``{}``."""
    path = out_dir / "interim" / "tagged" / f"{interview_id}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("interview", {})
    except (OSError, ValueError):
        return {}


def resolve_source(
    out_dir: Path, interview_id: str, source: str | None, sources: dict[str, Path] | None
) -> Path | None:
    """Where the interview's recording is now: the run's own path, else the saved one."""
    candidates: list[Path] = []
    if sources and interview_id in sources:
        candidates.append(Path(sources[interview_id]))
    if source:
        p = Path(source)
        candidates.append(p if p.is_absolute() else Path.cwd() / p)
    for cand in candidates:
        if cand.is_file():
            return cand.resolve()
    return None


def audio_href(out_dir: Path, recording: Path) -> str:
    """The recording's path relative to ``out_dir`` (where report.html is), as a URL.

    Relative, so the report keeps working when the project folder is moved or opened
    from another machine with the same layout; the audio itself is never copied.
    """
    rel = os.path.relpath(recording, Path(out_dir).resolve())
    return quote(rel.replace(os.sep, "/"))


def interview_infos(
    out_dir: Path, interviews: pd.DataFrame, sources: dict[str, Path] | None = None
) -> dict[str, InterviewInfo]:
    infos = {}
    for row in records(interviews):
        iid = str(row["interview_id"])
        meta = tagged_meta(out_dir, iid)
        info = InterviewInfo(
            interview_id=iid,
            kind=str(row.get("kind") or meta.get("kind") or "text"),
            source_name=str(row.get("source") or ""),
            duration=row.get("duration"),
            speakers=split_list(row.get("speakers")),
            interviewer=split_list(row.get("interviewer")),
            main_segment_id=row.get("main_segment_id"),
            main_job=row.get("main_job"),
            n_sentences=int(row.get("n_sentences") or 0),
            row=row,
        )
        if info.kind == "audio":
            recording = resolve_source(out_dir, iid, meta.get("source"), sources)
            if recording is None:
                info.audio_note = "enregistrement introuvable depuis le dossier du rapport"
            else:
                info.audio_href = audio_href(out_dir, recording)
        infos[iid] = info
    return infos


# --------------------------------------------------------------------------- reviews

_TRUE = {"1", "true", "vrai", "oui", "yes", "x", "o"}


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value == value and value != 0  # NaN is not a review
    return str(value).strip().lower() in _TRUE or (
        str(value).strip() not in {"", "0", "false", "faux", "non", "no", "nan"}
        and any(f in str(value) for f in TAG_FIELDS)
    )


def _from_store(path: Path) -> set[str]:
    ids: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                item = json.loads(line)
            except ValueError:
                continue  # a damaged line: the store's own reader warns about it
            if not isinstance(item, dict) or not item.get("sentence_id"):
                continue
            if item.get("field") in TAG_FIELDS:
                ids.add(str(item["sentence_id"]))
    return ids


def _from_sheets(folder: Path) -> set[str]:
    ids: set[str] = set()
    for sheet in sorted(folder.glob("*.csv")):
        try:
            text = sheet.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        header = text.split("\n", 1)[0]
        delimiter = max((";", ",", "\t"), key=header.count)
        for row in csv.DictReader(text.splitlines(), delimiter=delimiter):
            if row.get("sentence_id") and (
                _truthy(row.get("reviewed")) or _truthy(row.get("checked"))
            ):
                ids.add(row["sentence_id"])
    return ids


def reviewed_sentences(
    out_dir: Path, sentences: pd.DataFrame, config=None
) -> tuple[set[str], str | None]:
    """Sentence ids a reviewer has checked or corrected, and where that was read.

    In order: a ``reviewed`` column of the sentences table; the corrections store
    (``review.store``: any line on phase, force or job type, correction or
    confirmation); the review sheets ``OUT/review/*.csv`` (``reviewed`` or ``checked``
    filled). ``(set(), None)`` when there is no review at all yet.
    """
    known = set(sentences["sentence_id"]) if len(sentences) else set()
    if "reviewed" in sentences.columns:
        ids = {
            sid for sid, v in zip(sentences["sentence_id"], sentences["reviewed"], strict=True)
            if _truthy(v)
        }
        return ids, "colonne « reviewed » de sentences"
    ids: set[str] = set()
    where = []
    store = getattr(getattr(config, "review", None), "store", None)
    if store:
        path = Path(store)
        path = path if path.is_absolute() else Path.cwd() / path
        if path.is_file():
            try:
                ids |= _from_store(path)
                where.append("registre des corrections")
            except OSError as exc:
                log.warning("report: cannot read the corrections store %s: %s", path, exc)
    if (out_dir / "review").is_dir():
        ids |= _from_sheets(out_dir / "review")
        where.append("feuilles de relecture")
    if not where:
        return set(), None
    return ids & known, " et ".join(where)
