"""The exports: the Excel workbook and the REFI-QDA project (.qdpx).

The .qdpx is read back the way a QDA program reads it: unzip, parse ``project.qde``
(namespace ``urn:QDA-XML:project:1.0``), follow ``plainTextPath`` to the source text,
and for every ``PlainTextSelection`` take ``text[startPosition:endPosition]`` (Unicode
code points, end excluded) and the codes its ``CodeRef`` elements point at. That must
give back every sentence, exactly, with exactly the tags of sentences.csv. The
structure is checked against the rules of the published Project schema (Project.xsd,
REFI-QDA 1.0) for the elements written: required attributes, GUID and colour
formats, the order of child elements.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from report_sample import fast_config, handmade, sample_run

from pipeline.report import export_name, write_reports
from pipeline.report.data import load_tables, records
from pipeline.report.qdpx import build_project, source_text

NS = "urn:QDA-XML:project:1.0"
Q = f"{{{NS}}}"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
RGB = re.compile(r"^#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$")
# From Project.xsd: child order (sequence) and required attributes of what we write.
SEQUENCE = {
    "Project": ["Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Links", "Sets",
                "Graphs", "Description", "NoteRef"],
    "Code": ["Description", "NoteRef", "Code"],
    "Case": ["Description", "CodeRef", "VariableValue", "SourceRef", "SelectionRef"],
    "TextSource": ["Description", "PlainTextContent", "PlainTextSelection", "Coding", "NoteRef",
                   "VariableValue"],
    "PlainTextSelection": ["Description", "Coding", "NoteRef"],
    "Coding": ["CodeRef", "NoteRef"],
}
REQUIRED = {
    "Project": ["name"],
    "User": ["guid"],
    "Code": ["guid", "name", "isCodable"],
    "Case": ["guid"],
    "TextSource": ["guid"],
    "PlainTextSelection": ["guid", "startPosition", "endPosition"],
    "Coding": ["guid"],
    "CodeRef": ["targetGUID"],
    "SourceRef": ["targetGUID"],
}
GUID_ATTRS = {"guid", "targetGUID", "creatingUser", "creatingUserGUID"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory, data_dir):
    return sample_run(tmp_path_factory, data_dir)


def _local(tag: str) -> str:
    assert tag.startswith(Q), f"{tag} is not in the REFI-QDA namespace"
    return tag[len(Q):]


def check_schema_rules(root: ET.Element) -> None:
    """The Project.xsd rules for every element written (see SEQUENCE and REQUIRED)."""
    assert _local(root.tag) == "Project"
    for el in root.iter():
        name = _local(el.tag)
        for attr in REQUIRED.get(name, []):
            assert el.get(attr), f"{name} without {attr}"
        for attr, value in el.attrib.items():
            if attr in GUID_ATTRS:
                assert GUID.match(value), f"{name}@{attr}={value!r} is not a GUID"
            if attr == "color":
                assert RGB.match(value), value
            if attr == "isCodable":
                assert value in {"true", "false"}
            if attr.endswith("Position"):
                assert value.isdigit()
        if name in SEQUENCE:
            order = [SEQUENCE[name].index(_local(c.tag)) for c in el]
            assert order == sorted(order), f"children of {name} out of order"
        if name == "Coding":
            assert len(el.findall(f"{Q}CodeRef")) == 1


def read_qdpx(path: Path):
    """(root, {guid: code element}, {parent name: [child names]}, coded) as a reader sees it.

    ``coded``: sentence id -> (source text slice, set of code names).
    """
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert "project.qde" in names
        root = ET.fromstring(zf.read("project.qde"))
        texts = {}
        for src in root.iter(f"{Q}TextSource"):
            ref = src.get("plainTextPath")
            assert ref.startswith("internal://")
            member = "sources/" + ref[len("internal://"):]
            assert member in names, member
            texts[src.get("guid")] = zf.read(member).decode("utf-8")
    codes = {c.get("guid"): c for c in root.iter(f"{Q}Code")}
    tree = {
        c.get("name"): [k.get("name") for k in c.findall(f"{Q}Code")]
        for c in root.find(f"{Q}CodeBook").find(f"{Q}Codes").findall(f"{Q}Code")
    }
    coded = {}
    for src in root.iter(f"{Q}TextSource"):
        text = texts[src.get("guid")]
        for sel in src.findall(f"{Q}PlainTextSelection"):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert 0 <= start <= end <= len(text)
            names_ = set()
            for ref in sel.iter(f"{Q}CodeRef"):
                target = ref.get("targetGUID")
                assert target in codes, f"CodeRef to a missing code {target}"
                assert codes[target].get("isCodable") == "true"
                names_.add(codes[target].get("name"))
            coded[sel.get("name")] = (text[start:end], names_)
    return root, codes, tree, coded


def expected_codes(row: dict, segment_names: dict[str, str]) -> set[str]:
    from pipeline.report.vocab import FORCE_FR, JOB_TYPE_FR, PHASE_FR

    out = {PHASE_FR[row["phase"]]}
    if row["force"] != "none":
        out.add(FORCE_FR[row["force"]])
    if row["job_type"] != "none":
        out.add(JOB_TYPE_FR[row["job_type"]])
    if row.get("segment_id"):
        out.add(segment_names[row["segment_id"]])
    return out


def _check_project(path: Path, sentences: pd.DataFrame, segments: pd.DataFrame) -> None:
    root, codes, tree, coded = read_qdpx(path)
    check_schema_rules(root)
    parents = ["Phases", "Forces", "Types de job"] + (["Segments de job"] if len(segments) else [])
    assert list(tree) == parents
    assert all(codes[g].get("isCodable") == "false" for g in codes
               if codes[g].get("name") in parents)
    assert tree["Phases"] == ["Avant", "Déclencheur", "Exploration", "Décision", "Après"]
    assert tree["Forces"] == ["Push", "Pull", "Habitude", "Anxiété"]
    segment_names = dict(zip(segments["segment_id"], tree.get("Segments de job", []), strict=True))
    rows = records(sentences)
    assert set(coded) == {r["sentence_id"] for r in rows}  # every sentence, once
    for r in rows:
        text, names = coded[r["sentence_id"]]
        assert text == r["text"], r["sentence_id"]
        assert names == expected_codes(r, segment_names), r["sentence_id"]


# --------------------------------------------------------------------------- qdpx


def test_qdpx_of_a_run_reads_back_exactly(sample):
    out, summary = sample
    assert "projet_test.qdpx" in summary.report["written"]
    tables = load_tables(out)
    _check_project(out / "projet_test.qdpx", tables["sentences"], tables["segments"])
    with zipfile.ZipFile(out / "projet_test.qdpx") as zf:
        root = ET.fromstring(zf.read("project.qde"))
        assert root.get("name") == "projet_test"
        assert [c.get("name") for c in root.iter(f"{Q}Case")] == sorted(
            tables["interviews"]["interview_id"]
        )
        text = zf.read(
            "sources/" + root.find(f".//{Q}TextSource").get("plainTextPath")[11:]
        ).decode("utf-8")
    first = text.splitlines()[0]  # one line per turn: "[hh:mm:ss] Speaker: sentences"
    assert re.match(r"^(\[\d\d:\d\d:\d\d\] )?[^:]+: \S", first), first


def test_qdpx_positions_count_code_points(tmp_path, data_dir):
    """Emoji (outside the BMP), combining accents, markup: slices stay exact."""
    tables, _ = handmade(data_dir / "audio" / "two_voices.wav")
    outcome = write_reports(tmp_path, fast_config(tmp_path, "--report.html", "false"))
    assert not outcome.written  # no tables there: reported, nothing written
    for name, df in tables.items():
        df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    outcome = write_reports(tmp_path, fast_config(tmp_path, "--report.html", "false",
                                                   "--report.name", "piège"))
    assert outcome.ok, outcome.errors
    loaded = load_tables(tmp_path)
    _check_project(tmp_path / "piège.qdpx", loaded["sentences"], loaded["segments"])
    _, _, _, coded = read_qdpx(tmp_path / "piège.qdpx")
    text, names = coded["appel_audio-05"]
    assert "😀" in text and "c\u0327a" in text and names >= {"Décision", "Pull", "Fonctionnel"}


def test_qdpx_is_stable_and_well_formed():
    base = {"interview_id": "a", "phase": "before", "segment_id": None}
    rows = [
        {**base, "sentence_id": "a-1", "turn": 0, "speaker": "Q", "role": "interviewer",
         "text": "Bonjour ?", "start": 61.0, "force": "none", "job_type": "none"},
        {**base, "sentence_id": "a-2", "turn": 1, "speaker": "R", "role": "interviewee",
         "text": "On perdait des clients.", "start": 63.5, "force": "push",
         "job_type": "functional"},
        {**base, "sentence_id": "a-3", "turn": 1, "speaker": "R", "role": "interviewee",
         "text": "C'était pas la joie.", "start": 65.0, "force": "push",
         "job_type": "emotional_personal"},
    ]
    text, spans = source_text(rows)
    assert text == (
        "[00:01:01] Q: Bonjour ?\n"
        "[00:01:03] R: On perdait des clients. C'était pas la joie.\n"
    )
    assert [text[s.start:s.end] for s in spans] == [r["text"] for r in rows]
    interviews = [{"interview_id": "a", "kind": "text", "source": "a.txt"}]
    xml1, files1 = build_project("p", interviews, rows, [])
    xml2, files2 = build_project("p", interviews, rows, [])
    strip = re.compile(rb'creationDateTime="[^"]+"')
    assert strip.sub(b"", xml1) == strip.sub(b"", xml2) and files1 == files2  # same GUIDs
    root = ET.fromstring(xml1)
    check_schema_rules(root)
    assert root.find(f"{Q}CodeBook") is not None and xml1.startswith(b"<?xml")


def test_export_name(tmp_path):
    assert export_name(tmp_path / "mes entretiens", fast_config(tmp_path)) == "mes_entretiens"
    assert export_name(tmp_path, fast_config(tmp_path, "--report.name", "crm")) == "crm"
    from pipeline.config import load_config
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="report.name"):
        load_config(overrides={"report": {"name": "../hors"}})


# --------------------------------------------------------------------------- xlsx


def test_workbook_has_one_sheet_per_table(sample):
    out, _ = sample
    sheets = pd.read_excel(out / "projet_test.xlsx", sheet_name=None, engine="openpyxl")
    assert list(sheets) == ["interviews", "sentences", "segments", "quotes"]
    for name, df in sheets.items():
        csv = pd.read_csv(out / f"{name}.csv", encoding="utf-8-sig")
        assert list(df.columns) == list(csv.columns), name
        assert len(df) == len(csv), name
    csv = pd.read_csv(out / "sentences.csv", encoding="utf-8-sig", keep_default_na=False)
    assert sheets["sentences"]["text"].tolist() == csv["text"].tolist()
    assert sheets["sentences"]["sentence_id"].tolist() == csv["sentence_id"].tolist()


def test_workbook_keeps_text_as_text(tmp_path, data_dir):
    from openpyxl import load_workbook

    from pipeline.report.excel import write_workbook

    tables, _ = handmade(data_dir / "audio" / "two_voices.wav")
    tables["sentences"].loc[0, "text"] = "bip\x07 =1+1"
    path = write_workbook(tmp_path / "t.xlsx", tables)
    ws = load_workbook(path)["sentences"]
    header = [c.value for c in ws[1]]
    col = header.index("text") + 1
    texts = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
    formula = next(c for c in texts if str(c.value).startswith("=SOMME"))
    assert formula.data_type == "s"  # a string, never evaluated as a formula
    assert texts[0].value == "bip =1+1"  # a control character Excel refuses is dropped
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref


# --------------------------------------------------------------------------- re-runs


def test_a_run_with_nothing_new_rewrites_nothing(sample):
    out, _ = sample
    config = fast_config(out.parent)
    files = ["report.html", "projet_test.xlsx", "projet_test.qdpx"]
    assert write_reports(out, config).ok
    before = {f: (out / f).read_bytes() for f in files}
    assert write_reports(out, config).ok
    assert {f: (out / f).read_bytes() for f in files} == before
    # a changed table: all three are made again
    tables = load_tables(out)
    df = tables["sentences"]
    k = df.index[(df["role"] == "interviewee") & (df["force"] != "none")][0]  # a quoted one
    df.loc[k, "text"] = df.loc[k, "text"] + " (corrigée)"
    assert write_reports(out, config, tables=tables).ok
    assert all((out / f).read_bytes() != before[f] for f in files)
    assert write_reports(out, config).ok  # back to the tables on disk
    _check_project(out / "projet_test.qdpx", load_tables(out)["sentences"],
                   load_tables(out)["segments"])
