"""``OUT/<name>.qdpx``: a REFI-QDA project, to go on with the analysis in QDA software.

REFI-QDA (the Rotterdam Exchange Format Initiative, https://www.qdasoftware.org) is the
exchange format that ATLAS.ti, NVivo, MAXQDA, QualCoder and others import. A ``.qdpx``
file is a zip archive with

- ``project.qde``: XML in the namespace ``urn:QDA-XML:project:1.0``, following the
  published Project schema (Project.xsd, 2019): ``Users``, ``CodeBook/Codes/Code``
  (nested), ``Cases`` (one per interview), ``Sources/TextSource`` with its
  ``PlainTextSelection`` elements, each holding ``Coding/CodeRef`` elements;
- ``sources/<guid>.txt``: the plain text of each source, referenced from its
  ``TextSource`` as ``plainTextPath="internal://<guid>.txt"``.

What is written:

- **Sources**: one text per interview, built from its sentences: one line per speaker
  turn, ``[hh:mm:ss] Speaker: sentence sentence ...`` (the time only when the sentence
  has one), UTF-8, ``\\n`` line ends. Audio interviews are exported as this transcript;
  the recording is not put in the archive.
- **Codes**, one parent per dimension (not codable itself): *Phases* (Avant,
  Déclencheur, Exploration, Décision, Après), *Forces* (Push, Pull, Habitude, Anxiété),
  *Types de job* (the four job types), *Segments de job* (one code per segment, named
  with its id and job statement). Colours are those of the HTML report.
- **Coded segments**: every sentence is one ``PlainTextSelection`` spanning exactly its
  text in the source, coded with its phase, and with its force, job type and job
  segment when they are not ``none``. Positions count Unicode code points from 0, the
  end excluded: ``text[startPosition:endPosition]`` in Python is the sentence. (NVivo
  counts UTF-16 code units instead, so an emoji shifts its later selections by one there.)

GUIDs are derived from the interview, sentence and label ids (UUID version 5), so a
re-run exports the same GUIDs for the same things.
"""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.cache import atomic_write
from pipeline.labels import PHASES
from pipeline.report.vocab import (
    FORCE_COLORS,
    FORCE_FR,
    FORCE_HINT_FR,
    FORCE_IDS,
    JOB_TYPE_COLORS,
    JOB_TYPE_FR,
    JOB_TYPE_IDS,
    PHASE_COLORS,
    PHASE_FR,
    segment_color,
)

NS = "urn:QDA-XML:project:1.0"
# Fixed namespace for the UUID-5 GUIDs of this tool's exports.
GUID_NAMESPACE = uuid.UUID("6c1f3d56-2b1e-5c8e-9a57-3f1d2a9b7e10")
USER_NAME = "jtbd-pipeline (étiquetage automatique)"

Row = dict[str, Any]


def guid(*parts: str) -> str:
    """A stable GUID for a thing named by ``parts``."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(parts)))


def _tag(name: str) -> str:
    return f"{{{NS}}}{name}"


def _hms(seconds: float) -> str:
    total = int(seconds)  # floor: the player shows the same
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


@dataclass
class Span:
    """Where one sentence lies in its source text (code points, end excluded)."""

    row: Row
    start: int
    end: int


def source_text(rows: Sequence[Row]) -> tuple[str, list[Span]]:
    """The transcript of one interview as plain text, and every sentence's span in it.

    One line per turn (consecutive sentences with the same ``turn``):
    ``[hh:mm:ss] Speaker: first sentence second sentence``.
    """
    parts: list[str] = []
    spans: list[Span] = []
    pos = 0

    def put(text: str) -> None:
        nonlocal pos
        parts.append(text)
        pos += len(text)

    i = 0
    while i < len(rows):
        turn = rows[i].get("turn")
        j = i
        while j + 1 < len(rows) and rows[j + 1].get("turn") == turn and (
            rows[j + 1].get("speaker") == rows[i].get("speaker")
        ):
            j += 1
        start = rows[i].get("start")
        if start is not None:
            put(f"[{_hms(float(start))}] ")
        put(f"{rows[i].get('speaker') or '?'}: ")
        for k in range(i, j + 1):
            if k > i:
                put(" ")
            text = str(rows[k].get("text") or "")
            begin = pos
            put(text)
            spans.append(Span(rows[k], begin, pos))
        put("\n")
        i = j + 1
    return "".join(parts), spans


def _code(parent: ET.Element, code_id: str, name: str, codable: bool, color: str | None = None,
          description: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, _tag("Code"), {
        "guid": guid("code", code_id),
        "name": name,
        "isCodable": "true" if codable else "false",
    })
    if color:
        el.set("color", color)
    if description:
        ET.SubElement(el, _tag("Description")).text = description
    return el


def build_project(
    name: str,
    interviews: Sequence[Row],
    sentences: Sequence[Row],
    segments: Sequence[Row],
    *,
    origin: str = "jtbd-pipeline",
    now: dt.datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The ``project.qde`` XML and the source texts (``{"sources/<guid>.txt": text}``)."""
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    user = guid("user", "jtbd-pipeline")
    ET.register_namespace("", NS)
    root = ET.Element(_tag("Project"), {
        "name": name,
        "origin": origin,
        "creatingUserGUID": user,
        "creationDateTime": stamp,
    })
    users = ET.SubElement(root, _tag("Users"))
    ET.SubElement(users, _tag("User"), {"guid": user, "name": USER_NAME})

    # ------------------------------------------------------------------ code book
    codes = ET.SubElement(ET.SubElement(root, _tag("CodeBook")), _tag("Codes"))
    code_ids: dict[tuple[str, str], str] = {}
    parent = _code(codes, "dim:phase", "Phases", False,
                   description="Phases de la chronologie de la décision (toutes les phrases).")
    for p in PHASES:
        _code(parent, f"phase:{p}", PHASE_FR[p], True, PHASE_COLORS[p], f"phase = {p}")
        code_ids[("phase", p)] = guid("code", f"phase:{p}")
    parent = _code(codes, "dim:force", "Forces", False,
                   description="Les quatre forces (phrases de l'interviewé(e)).")
    for f in FORCE_IDS:
        _code(parent, f"force:{f}", FORCE_FR[f], True, FORCE_COLORS[f],
              f"force = {f} : {FORCE_HINT_FR[f]}")
        code_ids[("force", f)] = guid("code", f"force:{f}")
    parent = _code(codes, "dim:job_type", "Types de job", False,
                   description="Type de job exprimé (phrases de l'interviewé(e)).")
    for j in JOB_TYPE_IDS:
        _code(parent, f"job_type:{j}", JOB_TYPE_FR[j], True, JOB_TYPE_COLORS[j], f"job_type = {j}")
        code_ids[("job_type", j)] = guid("code", f"job_type:{j}")
    if segments:
        parent = _code(codes, "dim:segment", "Segments de job", False,
                       description="Groupes de phrases qui poursuivent le même job, "
                                   "à travers les entretiens.")
        for k, seg in enumerate(segments):
            sid = str(seg["segment_id"])
            statement = str(seg.get("job_statement") or seg.get("label") or "")
            _code(parent, f"segment:{sid}", f"{sid} · {statement}".strip(" ·"), True,
                  segment_color(k),
                  f"segment_id = {sid} ; mots-clés : {seg.get('label') or ''} ; "
                  f"{seg.get('n_interviews') or 0} entretien(s) ; priorité {seg.get('priority')}")
            code_ids[("segment_id", sid)] = guid("code", f"segment:{sid}")

    # ------------------------------------------------------------------ sources
    by_iv: dict[str, list[Row]] = {}
    for s in sentences:
        by_iv.setdefault(str(s["interview_id"]), []).append(s)
    files: dict[str, str] = {}
    cases = ET.SubElement(root, _tag("Cases"))
    sources = ET.SubElement(root, _tag("Sources"))
    for iv in interviews:
        iid = str(iv["interview_id"])
        rows = by_iv.get(iid, [])
        if not rows:
            continue
        src_guid = guid("source", iid)
        text, spans = source_text(rows)
        files[f"sources/{src_guid}.txt"] = text
        case = ET.SubElement(cases, _tag("Case"), {"guid": guid("case", iid), "name": iid})
        ET.SubElement(case, _tag("SourceRef"), {"targetGUID": src_guid})
        source = ET.SubElement(sources, _tag("TextSource"), {
            "guid": src_guid,
            "name": iid,
            "plainTextPath": f"internal://{src_guid}.txt",
            "creatingUser": user,
            "creationDateTime": stamp,
        })
        what = "transcription de l'audio" if iv.get("kind") == "audio" else "transcription"
        ET.SubElement(source, _tag("Description")).text = (
            f"Entretien {iid} ({what}, fichier {iv.get('source') or iid})"
        )
        for span in spans:
            row = span.row
            sel = ET.SubElement(source, _tag("PlainTextSelection"), {
                "guid": guid("selection", str(row["sentence_id"])),
                "name": str(row["sentence_id"]),
                "startPosition": str(span.start),
                "endPosition": str(span.end),
                "creatingUser": user,
                "creationDateTime": stamp,
            })
            for dim in ("phase", "force", "job_type", "segment_id"):
                value = row.get(dim)
                if value is None or value == "none" or (dim, str(value)) not in code_ids:
                    continue
                coding = ET.SubElement(sel, _tag("Coding"), {
                    "guid": guid("coding", str(row["sentence_id"]), dim),
                    "creatingUser": user,
                    "creationDateTime": stamp,
                })
                ET.SubElement(coding, _tag("CodeRef"), {"targetGUID": code_ids[(dim, str(value))]})
    if not len(cases):
        root.remove(cases)
    ET.SubElement(root, _tag("Description")).text = (
        "Entretiens JTBD étiquetés par jtbd-pipeline : phases, forces, types de job et "
        "segments de job. Positions en points de code Unicode, fin exclue."
    )
    ET.indent(root, space=" ")
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml, files


def write_qdpx(
    path: Path,
    name: str,
    interviews: Sequence[Row],
    sentences: Sequence[Row],
    segments: Sequence[Row],
) -> Path:
    """Write the REFI-QDA project ``path`` (a zip: ``project.qde`` + ``sources/``)."""
    from pipeline import __version__

    xml, files = build_project(
        name, interviews, sentences, segments, origin=f"jtbd-pipeline {__version__}"
    )

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("project.qde", xml)
            for arcname, text in files.items():
                zf.writestr(arcname, text.encode("utf-8"))

    atomic_write(path, write)
    return Path(path)
