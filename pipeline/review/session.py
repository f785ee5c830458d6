"""The review step of a run: import reviewers' sheets, apply the store, write new sheets.

A run does, in this order (see :func:`pipeline.run.run_batch`):

1. :meth:`ReviewSession.open` imports every sheet of ``OUT/review/`` into the store,
   *before* anything is regenerated, so an edit is never overwritten unread. A sheet
   with an invalid value is not imported at all (and not overwritten); the other
   sheets go on, and the run ends with exit code 1.
2. :meth:`ReviewSession.apply` sets the reviewer's latest value on every sentence,
   *before* the job segments are built, so a corrected job type moves its sentence in
   or out of the segments. The model's own values are kept for the sheets and stats.
3. :meth:`ReviewSession.write_sheets` regenerates each sheet showing the reviewer's
   values; a sheet whose content would not change is not rewritten.

How an edit is recognised: every sheet carries a ``sheet_version``, and
``OUT/review/.state/<interview_id>.json`` remembers, for the last few versions, what
each row showed and the sha256 of the file as written. A cell that differs from what
its version showed is an edit; a file identical to one we wrote has none. Comparing with
what the reviewer *saw* (not with today's model) means that a model that changed since
the sheet was written, or an old copy of a sheet imported late, never passes for a
correction. Without a state (deleted, or a sheet made by hand), the sheet's own
``*_model`` and ``reviewed`` columns and the store stand in for it. A decision equal to
the reviewer's latest one in the store is never appended again, so importing the same
sheet twice adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.cache import atomic_write, atomic_write_json, text_hash
from pipeline.config import ReviewConfig
from pipeline.records import Sentence
from pipeline.review.sheets import (
    ReadRow,
    ReadSheet,
    SheetError,
    SheetRow,
    read_sheet,
    render_sheet,
)
from pipeline.review.store import (
    EDITABLE_FIELDS,
    Correction,
    CorrectionStore,
    follow_resplit,
    now_utc,
)
from pipeline.review.vocabulary import TAG_FIELDS

log = logging.getLogger("jtbd")

KEEP_VERSIONS = 5  # sheet versions remembered per interview (older copies fall back)
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".numbers"}
_SENTENCE_ID_RE = re.compile(r"^(?P<interview>.+)-[0-9a-f]{10}(?:-\d+)?$")


def interview_of(sentence_id: str) -> str | None:
    """The interview id inside a sentence id (``<interview>-<10 hex>[-n]``), if it has one."""
    match = _SENTENCE_ID_RE.match(sentence_id)
    return match.group("interview") if match else None


def resolve_store(store: str | Path) -> Path:
    """The store's path: as configured, relative paths from the current folder.

    Like ``--out data/processed``, ``data/corrections/...`` is relative to where the
    command runs (the project folder for ``make pipeline``).
    """
    path = Path(store).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(slots=True)
class Shown:
    """What one row of a sheet showed when it was written: the baseline of an edit."""

    interview_id: str
    tags: dict[str, str | None]
    comment: str = ""
    checked: bool = False
    model: dict[str, str] = field(default_factory=dict)
    text: str = ""
    role: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tags": self.tags,
            "comment": self.comment,
            "checked": self.checked,
            "model": self.model,
            "text": self.text,
            "role": self.role,
        }

    @classmethod
    def from_dict(cls, interview_id: str, data: dict[str, Any]) -> Shown:
        return cls(
            interview_id=interview_id,
            tags=dict(data.get("tags", {})),
            comment=data.get("comment", ""),
            checked=bool(data.get("checked", False)),
            model=dict(data.get("model", {})),
            text=data.get("text", ""),
            role=data.get("role"),
        )


class ReviewSession:
    """One run's review work on ``OUT/review/`` and the corrections store.

    Use :meth:`open` (imports the sheets), then :meth:`apply`, then
    :meth:`write_sheets`; :meth:`report` gives what the run summary shows.
    """

    def __init__(
        self, out_dir: str | Path, store: str | Path, *, sheets: bool = True, delimiter: str = ";"
    ):
        self.review_dir = Path(out_dir) / "review"
        self.state_dir = self.review_dir / ".state"
        self.store = CorrectionStore(resolve_store(store))
        self.sheets = sheets
        self.delimiter = delimiter
        self.failed: list[tuple[str, str]] = []  # (sheet, problem): the run exits 1
        self.notes: list[str] = []
        self.imported: dict[str, int] = {}  # sheet name -> corrections added
        self.latest: dict[tuple[str, str], Correction] = {}
        self._states: dict[str, dict[str, Any]] = {}
        self._seen: dict[Path, str] = {}  # sheet -> sha256 when imported
        self._known: set[str] = set()  # sha256 of the sheets the pipeline wrote
        self._ignored: dict[Path, list[str]] = {}  # sheet -> the reviewer's own columns
        self._failed_paths: set[Path] = set()
        self._model: dict[str, dict[str, tuple[str, float]]] = {}
        self._applied: list[tuple[str, str, str]] = []
        self._current: set[str] = set()
        self._followed: set[str] = set()  # old ids whose decisions apply to a new one

    # ------------------------------------------------------------ import

    @classmethod
    def open(cls, out_dir: str | Path, settings: ReviewConfig) -> ReviewSession:
        """Import the sheets of ``out_dir/review`` (per ``settings``, a ``ReviewConfig``)."""
        session = cls(
            out_dir, settings.store, sheets=settings.sheets, delimiter=settings.delimiter
        )
        session.latest = session.store.latest()
        if session.sheets:
            session.import_sheets()
        return session

    def _load_states(self) -> None:
        if not self.state_dir.is_dir():
            return
        for path in sorted(self.state_dir.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self._states[data["interview_id"]] = data
            except (OSError, ValueError, KeyError, TypeError):
                log.warning("%s: unreadable sheet state ignored", path)

    def import_sheets(self) -> None:
        """Import every sheet of the review folder; a bad sheet is listed in ``failed``."""
        if not self.review_dir.is_dir():
            return
        self._load_states()
        self._known = {
            gen.get("sha256")
            for state in self._states.values()
            for gen in state.get("generations", [])
        }
        for path in sorted(self.review_dir.iterdir()):
            if not path.is_file() or path.name.startswith((".", "~$")):
                continue  # lock files (.~lock.x.csv#), Excel owner files (~$x.csv)
            suffix = path.suffix.lower()
            if suffix in SPREADSHEET_SUFFIXES:
                self.failed.append(
                    (
                        str(path),
                        "not imported: review sheets are read as CSV only. Save it as CSV "
                        "(Excel: 'CSV UTF-8' or 'CSV (séparateur: point-virgule)'; "
                        "LibreOffice: 'Texte CSV') under the name <interview_id>.csv, then "
                        "move this file out of the review folder",
                    )
                )
                continue
            if suffix != ".csv":
                continue
            raw = path.read_bytes()
            self._seen[path] = _sha256(raw)
            if self._seen[path] in self._known:
                continue  # exactly as the pipeline wrote it: no edit
            try:
                sheet = read_sheet(path)
                added = self.import_sheet(sheet)
            except SheetError as exc:
                self.failed.append((exc.path, exc.problem))
                self._failed_paths.add(path)
                log.error("%s: %s", exc.path, exc.problem)
                continue
            self.imported[path.name] = added
            self._ignored[path] = sheet.ignored_columns
            if added:
                log.info("%-40s %d correction(s) imported", path.name, added)

    def _shown(self, row: ReadRow, sheet: ReadSheet) -> Shown:
        """What the row showed when the pipeline wrote it (see the module docstring)."""
        sid = row.sentence_id
        for iid in dict.fromkeys(filter(None, (interview_of(sid), sheet.path.stem))):
            generations = self._states.get(iid, {}).get("generations", [])
            # the row's own version first, then the newest
            ordered = sorted(
                generations,
                key=lambda g: (g.get("version") != row.version, -int(g.get("version", 0))),
            )
            for gen in ordered:
                data = gen.get("rows", {}).get(sid)
                if data is not None:
                    return Shown.from_dict(iid, data)
        # No state: the sheet's own columns and the store stand in for it.
        tags: dict[str, str | None] = {}
        for fld in TAG_FIELDS:
            current = self.latest.get((sid, fld))
            tags[fld] = current.new if fld in row.reviewed and current else row.model.get(fld)
        comment = self.latest.get((sid, "comment"))
        return Shown(
            interview_id=interview_of(sid) or sheet.path.stem,
            tags=tags,
            comment=comment.new if comment else "",
            model=dict(row.model),
            text=row.text or "",
            role=row.role,
        )

    def import_sheet(self, sheet: ReadSheet) -> int:
        """Append the edits of one parsed sheet to the store; returns how many.

        All or nothing: conflicting duplicate rows raise :class:`SheetError` before
        anything is written, and the sheet's corrections go to the store in one append.
        """
        now = now_utc()
        proposed: dict[tuple[str, str], tuple[Correction, int]] = {}
        problems: list[str] = []
        for row in sheet.rows:
            shown = self._shown(row, sheet)
            for correction in self._row_changes(row, shown, sheet, now):
                key = (correction.sentence_id, correction.field)
                previous = proposed.get(key)
                if previous is not None and previous[0].new != correction.new:
                    problems.append(
                        f"rows {previous[1]} and {row.row} are the same sentence "
                        f"({row.sentence_id}) with different {correction.field} values "
                        f"({previous[0].new!r}, {correction.new!r}); keep one of them"
                    )
                proposed.setdefault(key, (correction, row.row))
        if problems:
            raise SheetError(
                sheet.path,
                "review sheet not imported (nothing of it was applied):\n    "
                + "\n    ".join(problems),
            )
        corrections = [c for c, _ in proposed.values()]
        self.store.append(corrections)
        for c in corrections:
            self.latest[(c.sentence_id, c.field)] = c
        self.notes.extend(f"{sheet.path.name}: {note}" for note in sheet.notes)
        return len(corrections)

    def _row_changes(
        self, row: ReadRow, shown: Shown, sheet: ReadSheet, now: str
    ) -> Iterable[Correction]:
        sid = row.sentence_id

        def make(fld: str, new: str, kind: str) -> Correction:
            return Correction(
                sentence_id=sid,
                interview_id=shown.interview_id,
                text=shown.text or row.text or "",
                field=fld,
                new=new,
                old=shown.comment if fld == "comment" else shown.tags.get(fld),
                model=None if fld == "comment" else shown.model.get(fld),
                kind=kind,
                role=shown.role or row.role,
                time=now,
                source=str(sheet.path),
                row=row.row,
            )

        for fld in TAG_FIELDS:
            if fld not in row.tags:
                continue  # the column was removed: no statement about this field
            value = row.tags[fld]
            was = shown.tags.get(fld)
            if value is None:  # an emptied cell is "no change", never "delete"
                if not (row.checked and was):
                    continue
                value = was
            if value != was:
                kind = "correction"
            elif row.checked and not shown.checked:
                kind = "confirmation"
            else:
                continue
            current = self.latest.get((sid, fld))
            if current is not None and current.new == value:
                continue  # already the reviewer's word: importing twice adds nothing
            yield make(fld, value, kind)
        if row.comment is not None and row.comment != shown.comment:
            current = self.latest.get((sid, "comment"))
            if (current.new if current else "") != row.comment:
                yield make("comment", row.comment, "correction")

    # ------------------------------------------------------------ apply

    def apply(self, sentences: Sequence[Sentence]) -> None:
        """Set the reviewers' latest values on ``sentences`` (in place), score 1.0.

        The model's values are remembered first, for the sheets (``*_model`` columns)
        and for the statistics.
        """
        for old, new in follow_resplit(self.latest, sentences).items():
            for fld in EDITABLE_FIELDS:  # see follow_resplit: the store keeps the old id
                if (old, fld) in self.latest:
                    self.latest[(new, fld)] = self.latest[(old, fld)]
            self._followed.add(old)
        for s in sentences:
            model = self._model.setdefault(
                s.sentence_id, {f: (getattr(s, f), getattr(s, f"{f}_score")) for f in TAG_FIELDS}
            )
            self._current.add(s.sentence_id)
            for fld in TAG_FIELDS:
                correction = self.latest.get((s.sentence_id, fld))
                value = correction.new if correction else model[fld][0]
                setattr(s, fld, value)
                setattr(s, f"{fld}_score", 1.0 if correction else model[fld][1])
                if correction:
                    self._applied.append((s.sentence_id, fld, value))

    def applied_hash(self) -> str:
        """A hash of the reviewer values applied: part of the segment stage's cache key."""
        applied = sorted(f"{sid}|{fld}|{value}" for sid, fld, value in self._applied)
        return text_hash(*applied)[:16]

    def reviewed_fields(self, sentence_id: str) -> list[str]:
        return [f for f in TAG_FIELDS if (sentence_id, f) in self.latest]

    def comment(self, sentence_id: str) -> str:
        correction = self.latest.get((sentence_id, "comment"))
        return correction.new if correction else ""

    def sentence_columns(self, sentences: Iterable[Sentence]) -> dict[str, dict[str, str]]:
        """Extra columns for ``sentences.csv``: which tags a reviewer set, and comments."""
        reviewed, comments = {}, {}
        for s in sentences:
            reviewed[s.sentence_id] = ", ".join(self.reviewed_fields(s.sentence_id))
            comments[s.sentence_id] = self.comment(s.sentence_id)
        return {"reviewed": reviewed, "comment": comments}

    # ------------------------------------------------------------ sheets out

    def _sheet_row(self, s: Sentence) -> SheetRow:
        model = self._model.get(s.sentence_id) or {
            f: (getattr(s, f), getattr(s, f"{f}_score")) for f in TAG_FIELDS
        }
        reviewed = self.reviewed_fields(s.sentence_id)
        return SheetRow(
            sentence_id=s.sentence_id,
            start=s.start,
            speaker=s.speaker,
            role=s.role,
            text=s.text,
            tags={f: getattr(s, f) for f in TAG_FIELDS},
            comment=self.comment(s.sentence_id),
            checked=len(reviewed) == len(TAG_FIELDS),
            reviewed=reviewed,
            model={f: v for f, (v, _) in model.items()},
            confidence={f: score for f, (_, score) in model.items()},
        )

    def write_sheets(self, sentences: Sequence[Sentence]) -> list[Path]:
        """Write ``OUT/review/<interview_id>.csv`` for every interview; returns those written.

        A sheet that failed to import, or that changed on disk since it was imported
        (a reviewer saved during the run), is left as it is.
        """
        if not self.sheets:
            return []
        by_interview: dict[str, list[Sentence]] = defaultdict(list)
        for s in sentences:
            by_interview[s.interview_id].append(s)
        written = []
        for iid, sents in by_interview.items():
            path = self.review_dir / f"{iid}.csv"
            if path in self._failed_paths:
                continue
            if path.exists():
                current = _sha256(path.read_bytes())
                if path not in self._seen or current != self._seen[path]:
                    self.notes.append(
                        f"{path.name} changed during the run: not overwritten; "
                        "its edits will be imported by the next run"
                    )
                    continue
            rows = [self._sheet_row(s) for s in sorted(sents, key=lambda s: s.index)]
            state = self._states.get(iid) or {"interview_id": iid, "generations": []}
            generations = state.get("generations", [])
            version = max((g.get("version", 0) for g in generations), default=0)
            if version and path.exists() and render_sheet(rows, version, self.delimiter) == (
                path.read_bytes()
            ):
                continue  # unchanged: not rewritten, so a re-run changes nothing
            version += 1
            data = render_sheet(rows, version, self.delimiter)
            if path.exists() and self._seen.get(path) not in self._known:
                self._archive(path, iid, version - 1)
            shown = {
                r.sentence_id: Shown(
                    interview_id=iid,
                    tags=dict(r.tags),
                    comment=r.comment,
                    checked=r.checked,
                    model=r.model,
                    text=r.text,
                    role=r.role,
                ).to_dict()
                for r in rows
            }
            generation = {
                "version": version,
                "sha256": _sha256(data),
                "time": now_utc(),
                "rows": shown,
            }
            kept = [*generations, generation][-KEEP_VERSIONS:]
            state = {"interview_id": iid, "generations": kept}
            # The state first: a sheet on disk always has its version remembered.
            atomic_write_json(self.state_dir / f"{iid}.json", state)
            atomic_write(path, lambda p, data=data: p.write_bytes(data))
            self._states[iid] = state
            self._seen[path] = _sha256(data)
            self._known.add(self._seen[path])
            written.append(path)
        return written

    def _archive(self, path: Path, iid: str, version: int) -> None:
        """Keep a reviewer-saved sheet before it is regenerated.

        Its edits are in the store by now, but a reviewer may have written things the
        pipeline does not read (their own columns, colours are lost anyway in CSV):
        the file as they saved it stays in ``OUT/review/imported/``.
        """
        stamp = now_utc().replace(":", "").replace("-", "")
        target = self.review_dir / "imported" / f"{iid}.v{version}.{stamp}.csv"
        data = path.read_bytes()
        atomic_write(target, lambda p: p.write_bytes(data))
        extra = self._ignored.get(path)
        if extra:
            self.notes.append(
                f"{path.name}: columns not read by the pipeline ({', '.join(extra)}); the "
                f"sheet as saved is kept as {target.relative_to(self.review_dir.parent)}"
            )

    # ------------------------------------------------------------ report

    def orphans(self, interview_ids: Iterable[str]) -> list[Correction]:
        """Reviewer decisions on sentences that their (processed) interview no longer has.

        They stay in the store and are reported; they come back into force if the
        sentence comes back (same interview, same text).
        """
        done = set(interview_ids)
        return [
            c
            for (sid, fld), c in self.latest.items()
            if c.interview_id in done
            and sid not in self._current
            and sid not in self._followed
            and not (fld == "comment" and not c.new)
        ]

    def report(self, interview_ids: Iterable[str]) -> dict[str, Any]:
        """The ``review`` part of ``run_summary.json``."""
        ids = list(interview_ids)
        orphans = self.orphans(ids)
        return {
            "store": str(self.store.path),
            "sheets_imported": dict(self.imported),
            "new_corrections": sum(self.imported.values()),
            "reviewed_sentences": len({sid for sid, _, _ in self._applied}),
            "applied": len(self._applied),
            "orphans": [
                {
                    "sentence_id": c.sentence_id,
                    "interview_id": c.interview_id,
                    "field": c.field,
                    "value": c.new,
                    "text": c.text,
                    "time": c.time,
                }
                for c in orphans
            ],
            "notes": list(self.notes),
        }
