"""Review sheets: one CSV per interview that a reviewer opens in Excel or LibreOffice.

Writing (:func:`render_sheet`) targets a double-click in Excel with a French locale:
UTF-8 with a BOM (accents), ``;`` between cells (the French list separator), CRLF
between rows, every cell that holds a separator, a quote or a line break quoted (so a
long quote with line breaks stays in its cell). Free-text cells that start like a
formula (``=``, ``+``, ``-``, ``@``) get a leading apostrophe, otherwise Excel and
LibreOffice would evaluate them (``Err:509``); reading takes it off again.

Reading (:func:`read_sheet`) accepts what spreadsheets do to a file when they save it:
``;``, ``,`` or tab separators, CRLF or LF, a BOM or none, UTF-8, UTF-16 or
Windows-1252, rows sorted, filtered or deleted, columns moved, renamed in French or
added, title lines above the header. Tag values are mapped to label ids with
:mod:`pipeline.review.vocabulary`; any value that cannot be read makes the whole sheet
fail with :class:`SheetError`, which lists every bad cell (row, column, value, accepted
values), so that nothing of a half-understood sheet is applied.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputError
from pipeline.review.vocabulary import (
    CHECKED_ACCEPTED,
    LABELS,
    TAG_FIELDS,
    accepted_values,
    canonical_label,
    fields_accepting,
    normalise,
    parse_checked,
)

# The columns of a review sheet, in the order they are written.
SHEET_COLUMNS: list[str] = [
    "sentence_id",
    "start",
    "speaker",
    "role",
    "text",
    "phase",
    "force",
    "job_type",
    "comment",
    "checked",
    "reviewed",
    "phase_model",
    "phase_confidence",
    "force_model",
    "force_confidence",
    "job_type_model",
    "job_type_confidence",
    "sheet_version",
]
# What a reviewer may change; every other column is information and is never imported.
EDITABLE_COLUMNS: tuple[str, ...] = (*TAG_FIELDS, "comment", "checked")

# Header names accepted on import (compared after vocabulary.normalise), per column.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "sentence_id": ("sentence_id", "id", "id phrase", "identifiant", "phrase id"),
    "start": ("start", "début", "temps", "time", "heure"),
    "speaker": ("speaker", "locuteur", "intervenant"),
    "role": ("role", "rôle"),
    "text": ("text", "texte", "phrase", "sentence", "verbatim"),
    "phase": ("phase", "étape"),
    "force": ("force", "forces"),
    "job_type": ("job_type", "type de job", "type job", "jobtype"),
    "comment": (
        "comment",
        "comments",
        "commentaire",
        "commentaires",
        "note",
        "notes",
        "remarque",
        "remarques",
    ),
    "checked": ("checked", "vérifié", "vérifiée", "relu", "validé"),
    "reviewed": ("reviewed", "tags relus"),
    "phase_model": ("phase_model", "phase modèle"),
    "phase_confidence": ("phase_confidence", "confiance phase"),
    "force_model": ("force_model", "force modèle"),
    "force_confidence": ("force_confidence", "confiance force"),
    "job_type_model": ("job_type_model", "job type modèle"),
    "job_type_confidence": ("job_type_confidence", "confiance job type"),
    "sheet_version": ("sheet_version", "version"),
}
_HEADER_INDEX = {
    normalise(alias): col for col, aliases in HEADER_ALIASES.items() for alias in aliases
}
_DELIMITERS = (";", ",", "\t")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MAX_LISTED = 25  # problems listed in one error message


class SheetError(InputError):
    """A review sheet that cannot be imported; nothing of it has been applied."""


@dataclass(slots=True)
class SheetRow:
    """What is written for one sentence: the values shown and the model's view."""

    sentence_id: str
    start: float | None
    speaker: str
    role: str
    text: str
    tags: dict[str, str]  # field -> value shown (the reviewer's if any, else the model's)
    comment: str = ""
    checked: bool = False
    reviewed: list[str] = field(default_factory=list)  # tag fields a reviewer has set
    model: dict[str, str] = field(default_factory=dict)  # field -> the model's value
    confidence: dict[str, float] = field(default_factory=dict)  # field -> model score 0..1


@dataclass(slots=True)
class ReadRow:
    """One row of a sheet as a reviewer saved it, values already validated.

    ``tags`` and ``comment`` hold only the columns present in the file (a deleted
    column is not a deleted value); an empty tag cell is ``None`` ("no change").
    """

    row: int  # the row number a spreadsheet shows (the header row of our sheets is 1)
    sentence_id: str
    tags: dict[str, str | None] = field(default_factory=dict)
    comment: str | None = None
    checked: bool = False
    text: str | None = None
    role: str | None = None
    model: dict[str, str] = field(default_factory=dict)
    reviewed: set[str] = field(default_factory=set)
    version: int | None = None


@dataclass(slots=True)
class ReadSheet:
    """A parsed sheet: its rows, the columns it has, and notes for the reviewer."""

    path: Path
    rows: list[ReadRow]
    columns: set[str]
    encoding: str
    delimiter: str
    notes: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # the reviewer's own columns


# ---------------------------------------------------------------- writing


def guard(text: str) -> str:
    """Keep a free-text cell from being read as a formula by Excel/LibreOffice."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def unguard(text: str) -> str:
    """Undo :func:`guard` (and a reviewer's own leading apostrophe before ``=``)."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def format_time(seconds: float | None) -> str:
    """``65.4`` → ``"00:01:05"``: a time every spreadsheet shows as a time."""
    if seconds is None or seconds != seconds:  # None or NaN
        return ""
    total = int(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def _percent(score: float | None) -> str:
    # Whole percentages: "0.86" would be a date or text in a French Excel, "86" is a number.
    return "" if score is None else str(round(float(score) * 100))


def render_sheet(rows: Sequence[SheetRow], version: int, delimiter: str = ";") -> bytes:
    """The bytes of a review sheet (UTF-8 with BOM, CRLF rows, quoted where needed)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n"
    )
    writer.writerow(SHEET_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.sentence_id,
                format_time(r.start),
                guard(r.speaker),
                r.role,
                guard(r.text),
                *(r.tags.get(f, "") for f in TAG_FIELDS),
                guard(r.comment),
                "oui" if r.checked else "",
                ", ".join(f for f in TAG_FIELDS if f in r.reviewed),
                r.model.get("phase", ""),
                _percent(r.confidence.get("phase")),
                r.model.get("force", ""),
                _percent(r.confidence.get("force")),
                r.model.get("job_type", ""),
                _percent(r.confidence.get("job_type")),
                str(version),
            ]
        )
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------- reading


def decode_sheet(raw: bytes) -> tuple[str, str]:
    """``(text, encoding)`` of a saved sheet: UTF-8 (BOM or not), UTF-16, Windows-1252."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"  # Excel's "Unicode text" (tab separated)
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"  # Excel's "CSV (point-virgule)" on Windows
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _header_columns(cells: list[str]) -> list[str | None]:
    return [_HEADER_INDEX.get(normalise(c)) if c.strip() else None for c in cells]


def _records(text: str, delimiter: str, limit: int | None = None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(itertools.islice(reader, limit))
    except csv.Error:
        return []


def _find_header(text: str) -> tuple[str, int] | None:
    """The delimiter and the record index of the header (title rows may come first).

    The header is the first of the first ten records that names a ``sentence_id``
    column; among the separators that give one, the one that gives most known columns.
    """
    heads = {d: _records(text, d, limit=10) for d in _DELIMITERS}
    for index in range(10):
        best: tuple[int, int, str] | None = None
        for delimiter, records in heads.items():
            if index >= len(records):
                continue
            columns = [c for c in _header_columns(records[index]) if c]
            if "sentence_id" not in columns:
                continue
            candidate = (len(set(columns)), len(records[index]), delimiter)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        if best is not None:
            return best[2], index
    return None


def _map_header(header: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """Column -> position, problems, notes. A column's own name beats its aliases.

    A reviewer's own "Notes" column beside ``comment`` is one of their extra columns,
    not a second comment column; but two columns with the same real name (two
    ``phase``) are a problem: which one did the reviewer edit?
    """
    exact: dict[str, list[int]] = {}
    alias: dict[str, list[int]] = {}
    for position, cell in enumerate(header):
        key = normalise(cell) if cell.strip() else ""
        col = _HEADER_INDEX.get(key)
        if col is not None:
            (exact if key == normalise(col) else alias).setdefault(col, []).append(position)
    seen: dict[str, int] = {}
    problems: list[str] = []
    notes: list[str] = []
    for col in [*exact, *(c for c in alias if c not in exact)]:
        positions = exact.get(col) or alias[col]
        if len(positions) > 1:
            names = ", ".join(f"{p + 1} ({header[p].strip()!r})" for p in positions)
            if col in exact:
                problems.append(f"columns {names} are all {col!r}; keep one of them")
                continue
            notes.append(f"columns {names} could all be {col!r}: the first one was read")
        seen[col] = positions[0]
    return seen, problems, notes


def _problem(row: int, column: str, value: str, why: str) -> str:
    return f"row {row}, column {column!r}: {value!r} {why}"


def _tag_problem(row: int, header: str, fld: str, value: str) -> str:
    elsewhere = [f for f in fields_accepting(value) if f != fld]
    what = f"is not a {fld}" + (f" (it is a {elsewhere[0]} value)" if elsewhere else "")
    return _problem(row, header, value, f"{what}; accepted values: {accepted_values(fld)}")


def read_sheet(path: str | Path) -> ReadSheet:
    """Parse and validate a review sheet saved by a reviewer.

    Raises :class:`SheetError` naming the file, and for each bad cell its row, column,
    value and the accepted values. Unknown columns are ignored; rows without a
    ``sentence_id`` are skipped with a note.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SheetError(path, f"cannot read the sheet: {exc}") from None
    text, encoding = decode_sheet(raw)
    found = _find_header(text)
    if found is None:
        first = text.splitlines()[0][:120] if text.strip() else "(empty file)"
        raise SheetError(
            path,
            "no 'sentence_id' column found: is this a review sheet, and is its header row "
            f"still there? First line: {first!r}",
        )
    delimiter, header_index = found
    records = _records(text, delimiter)
    header = records[header_index]
    seen, problems, notes = _map_header(header)
    if problems:
        raise SheetError(path, _summarise(problems))
    header_name = {col: header[pos].strip() for col, pos in seen.items()}
    ignored = [c.strip() for pos, c in enumerate(header) if c.strip() and pos not in seen.values()]

    rows: list[ReadRow] = []
    for index in range(header_index + 1, len(records)):
        cells = records[index]
        number = index + 1
        if not any(c.strip() for c in cells):
            continue

        def cell(col: str, cells: list[str] = cells) -> str | None:
            pos = seen.get(col)
            if pos is None:
                return None
            return cells[pos] if pos < len(cells) else ""

        sid = (cell("sentence_id") or "").strip()
        if not sid:
            if any((cell(c) or "").strip() for c in EDITABLE_COLUMNS):
                notes.append(f"row {number} has no sentence_id: its cells were not imported")
            continue
        read = ReadRow(row=number, sentence_id=sid)
        for fld in TAG_FIELDS:
            value = cell(fld)
            if value is None:
                continue
            if not value.strip():
                read.tags[fld] = None
                continue
            label = canonical_label(fld, value)
            if label is None:
                problems.append(_tag_problem(number, header_name[fld], fld, value.strip()))
            read.tags[fld] = label
        comment = cell("comment")
        if comment is not None:
            read.comment = unguard(comment.replace("\r\n", "\n").replace("\r", "\n").strip())
        checked = cell("checked")
        if checked is not None:
            flag = parse_checked(checked)
            if flag is None:
                problems.append(
                    _problem(
                        number,
                        header_name["checked"],
                        checked.strip(),
                        f"is not understood; accepted values: {CHECKED_ACCEPTED}",
                    )
                )
            read.checked = bool(flag)
        text_cell = cell("text")
        read.text = unguard(text_cell) if text_cell is not None else None
        read.role = (cell("role") or "").strip() or None
        for fld in TAG_FIELDS:
            model = (cell(f"{fld}_model") or "").strip()
            if model in LABELS[fld]:
                read.model[fld] = model
        listed = {normalise(part) for part in (cell("reviewed") or "").split(",")}
        read.reviewed = {f for f in TAG_FIELDS if normalise(f) in listed}
        version = (cell("sheet_version") or "").strip()
        read.version = int(version) if version.isdigit() else None
        rows.append(read)
    if problems:
        raise SheetError(path, _summarise(problems))
    return ReadSheet(path, rows, set(seen), encoding, delimiter, notes, ignored)


def _summarise(problems: list[str]) -> str:
    listed = problems[:_MAX_LISTED]
    more = len(problems) - len(listed)
    tail = f"\n    … and {more} more" if more > 0 else ""
    return (
        "review sheet not imported (nothing of it was applied; the other sheets go on). "
        "Fix these cells, save, and run again:\n    " + "\n    ".join(listed) + tail
    )
