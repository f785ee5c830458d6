"""The corrections store: every reviewer decision, appended, never rewritten.

Reviewers' corrections are the most valuable data of the project, so they live in one
plain, append-only JSON Lines file under ``data/`` (``review.store`` in the config,
default ``data/corrections/corrections.jsonl``), not in the review sheets (which are
regenerated) nor under the output folder (which ``make clean`` empties). One line is
one decision on one field of one sentence::

    {"v": 1, "sentence_id": "crm_cabinet-3f2a9c01de", "interview_id": "crm_cabinet",
     "text": "On perdait des clients.", "role": "interviewee", "field": "force",
     "old": "none", "new": "push", "model": "none", "kind": "correction",
     "time": "2025-03-14T09:12:03Z", "source": "data/processed/review/crm_cabinet.csv",
     "row": 7}

``field`` is ``phase``, ``force``, ``job_type`` or ``comment``; ``kind`` is
``correction`` (the reviewer changed the value) or ``confirmation`` (the reviewer ticked
the row as checked and kept the value). The latest line for a ``(sentence_id, field)``
is the reviewer's current word; older lines stay as history. The file is only ever
opened for appending: a line is never edited, reordered or deleted by this code, and a
damaged line (a crash in the middle of an append) is skipped when reading, with a
warning, and left where it is.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.review.vocabulary import LABELS

log = logging.getLogger("jtbd")

STORE_VERSION = 1
KINDS = ("correction", "confirmation")
EDITABLE_FIELDS: tuple[str, ...] = ("phase", "force", "job_type", "comment")

try:  # POSIX: two runs appending at once must not interleave their lines
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Correction:
    """One reviewer decision on one field of one sentence (one line of the store).

    ``old`` is the value the reviewer saw in the sheet (``None`` when unknown), ``new``
    the value they set (a label id of :mod:`pipeline.labels`, or the comment text),
    ``model`` the tagger's value at that time (``None`` for comments or when unknown).
    """

    sentence_id: str
    interview_id: str
    text: str
    field: str
    new: str
    old: str | None = None
    model: str | None = None
    kind: str = "correction"
    role: str | None = None
    time: str = ""
    source: str = ""
    row: int | None = None

    def to_json(self) -> str:
        return json.dumps({"v": STORE_VERSION, **asdict(self)}, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Correction:
        names = {f.name for f in fields(cls)}
        missing = {"sentence_id", "field", "new"} - data.keys()
        if missing:
            raise ValueError(f"missing {', '.join(sorted(missing))}")
        if data["field"] not in EDITABLE_FIELDS:
            raise ValueError(f"unknown field {data['field']!r}")
        labels = LABELS.get(data["field"])
        if labels is not None and data["new"] not in labels:
            raise ValueError(f"{data['new']!r} is not a {data['field']} label")
        values = {k: v for k, v in data.items() if k in names}
        values.setdefault("interview_id", "")
        values.setdefault("text", "")
        return cls(**values)


def now_utc() -> str:
    """The time stamp written in the store: UTC, ISO 8601, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CorrectionStore:
    """The append-only JSON Lines file of corrections (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"CorrectionStore({str(self.path)!r})"

    def read(self) -> list[Correction]:
        """Every correction, oldest first. A missing file is an empty store."""
        if not self.path.exists():
            return []
        out: list[Correction] = []
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    out.append(Correction.from_dict(json.loads(line)))
                except (ValueError, TypeError) as exc:
                    log.warning(
                        "%s, line %d: unreadable correction skipped (%s); the line is kept "
                        "in the file",
                        self.path,
                        number,
                        exc,
                    )
        return out

    def latest(self) -> dict[tuple[str, str], Correction]:
        """The reviewer's current value per ``(sentence_id, field)``: the last line wins."""
        return latest_by_key(self.read())

    def append(self, corrections: Sequence[Correction]) -> None:
        """Add corrections at the end of the file, in one write, flushed to disk.

        The file is opened in append mode only and locked while writing, so two runs
        cannot interleave; if the previous append was cut short (no final newline), a
        newline is added first so the new lines stay readable.
        """
        if not corrections:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        blob = "".join(c.to_json() + "\n" for c in corrections).encode("utf-8")
        with open(self.path, "ab") as fh:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                if fh.tell() > 0 and not _ends_with_newline(self.path):
                    blob = b"\n" + blob
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def latest_by_key(corrections: Iterable[Correction]) -> dict[tuple[str, str], Correction]:
    """Keep the last correction of each ``(sentence_id, field)``, in store order."""
    latest: dict[tuple[str, str], Correction] = {}
    for c in corrections:
        latest[(c.sentence_id, c.field)] = c
    return latest


def load_corrections(path: str | Path) -> dict[tuple[str, str], Correction]:
    """The reviewers' current labels, for training and evaluation code.

    Signature: ``load_corrections(path) -> dict[(sentence_id, field), Correction]``.

    - ``path``: the store, ``config.review.store`` (default
      ``data/corrections/corrections.jsonl``); a missing file gives ``{}``.
    - keys: ``(sentence_id, field)`` with ``field`` in ``"phase"``, ``"force"``,
      ``"job_type"`` and ``"comment"``; only the latest decision of each key is kept.
    - values: :class:`Correction`; ``.new`` is the reviewer's label (a label id of
      :mod:`pipeline.labels`) or comment, ``.text`` the sentence as the reviewer saw it,
      ``.interview_id``, ``.role`` (``interviewer``/``interviewee``, may be ``None``),
      ``.model`` the tagger's value at that time, ``.kind`` ``"correction"`` or
      ``"confirmation"`` (a row the reviewer checked and left as it was: also a
      human label), ``.time`` (UTC ISO 8601), ``.source`` (the sheet).

    Reviewer labels outrank any other annotation of the same sentence. A sentence that
    no longer exists in its transcript is still returned (its text is in ``.text``).
    Example, the force labels as training pairs::

        pairs = [(c.text, c.new) for (sid, fld), c in load_corrections(path).items()
                 if fld == "force"]
    """
    return CorrectionStore(path).latest()


def _words(text: str) -> str:
    """A sentence's words, lower case, without punctuation: what survives a re-split."""
    return " ".join(re.findall(r"\w+", text.lower()))


def follow_resplit(
    latest: dict[tuple[str, str], Correction], sentences: Sequence[Any]
) -> dict[str, str]:
    """``{old sentence id: new sentence id}`` for decisions whose sentence is gone from
    ``sentences`` (one interview's, or more) but whose words are now another's.

    A sentence's id comes from its exact text, so a change of the sentence splitter (a
    "?" given back to the question it closes) would leave a reviewer's decision on the
    old text behind. A decision follows the sentence of the same interview with the
    same words, lower-cased and without punctuation, when exactly one old and one new
    sentence have them and the new one has no decision of its own. The store is not
    rewritten: what the reviewer wrote stays under the id they saw, and the match is
    made again on every run (review sheets and training alike).
    """
    here = {s.sentence_id for s in sentences}
    decided = {sid for sid, _ in latest}
    gone: dict[tuple[str, str], set[str]] = {}
    for (sid, _), c in latest.items():
        if sid not in here and c.text:
            gone.setdefault((c.interview_id, _words(c.text)), set()).add(sid)
    if not gone:
        return {}
    new: dict[tuple[str, str], list[str]] = {}
    for s in sentences:
        new.setdefault((s.interview_id, _words(s.text)), []).append(s.sentence_id)
    moved = {}
    for key, old_ids in gone.items():
        targets = new.get(key, [])
        if len(old_ids) == 1 and len(targets) == 1 and targets[0] not in decided:
            moved[next(iter(old_ids))] = targets[0]
    return moved


def reviewer_labels(
    path: str | Path, fields: Sequence[str] = ("phase", "force", "job_type")
) -> dict[str, dict[str, str]]:
    """The reviewers' current tags as ``{sentence_id: {field: label}}``.

    The same data as :func:`load_corrections`, in the shape training code overlays on
    annotations; use :func:`load_corrections` for the sentence texts and roles.
    """
    return labels_of(load_corrections(path), fields)


def labels_of(
    latest: dict[tuple[str, str], Correction],
    fields: Sequence[str] = ("phase", "force", "job_type"),
) -> dict[str, dict[str, str]]:
    """:func:`reviewer_labels` of corrections already read (:func:`load_corrections`)."""
    labels: dict[str, dict[str, str]] = {}
    for (sid, fld), c in latest.items():
        if fld in fields:
            labels.setdefault(sid, {})[fld] = c.new
    return labels
