"""Review: sheets out, reviewers' edits in (whatever the spreadsheet did), kept forever, winning.

The end-to-end tests share one run of the small text fixtures (spaCy sm, rule tagger)
and copy its output folder, so that every test starts from sheets written by the
pipeline and re-runs only what the review changes. The LibreOffice round trip needs
``soffice`` (``make system-deps``) and skips, saying so, without it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import TaggingConfig, load_config
from pipeline.labels import FORCES, JOB_TYPES, PHASES
from pipeline.records import SENTENCE_COLUMNS
from pipeline.review import (
    SHEET_COLUMNS,
    SYNONYMS,
    Correction,
    CorrectionStore,
    SheetError,
    canonical_label,
    load_corrections,
    read_sheet,
    render_sheet,
    reviewer_labels,
)
from pipeline.review.sheets import SheetRow
from pipeline.review.stats import review_stats
from pipeline.review.vocabulary import LABELS, TAG_FIELDS, normalise
from pipeline.run import run_batch

DATA = Path(__file__).resolve().parent / "data"
FAST = ["--nlp.spacy_model", "fr_core_news_sm", "--transcribe.progress", "false"]
if "method" in TaggingConfig.model_fields:  # review tests need no trained tagger
    FAST += ["--tagging.method", "rules"]


# ---------------------------------------------------------------- vocabulary


def test_every_label_has_its_id_and_french_names():
    for fld, labels in LABELS.items():
        assert set(SYNONYMS[fld]) == set(labels), fld
        for label in labels:
            assert canonical_label(fld, label) == label
            assert canonical_label(fld, label.upper().replace("_", " ")) == label
            french = [w for w in SYNONYMS[fld][label] if w != label]
            assert french, f"{fld}.{label} has no French name"
            for word in SYNONYMS[fld][label]:
                assert canonical_label(fld, word) == label, (fld, word)


@pytest.mark.parametrize(
    ("fld", "written", "label"),
    [
        ("force", "habitude", "habit"),
        ("force", "Habitudes", "habit"),
        ("force", "anxiété", "anxiety"),
        ("force", "ANXIETE", "anxiety"),
        ("force", "peur", "anxiety"),
        ("force", "Push", "push"),
        ("force", " poussée ", "push"),
        ("force", "Aucune", "none"),
        ("force", "-", "none"),
        ("phase", "déclencheur", "trigger"),
        ("phase", "Élément déclencheur", "trigger"),
        ("phase", "après", "after"),
        ("phase", "Apres.", "after"),
        ("phase", "décision", "deciding"),
        ("job_type", "Émotionnel-Personnel", "emotional_personal"),
        ("job_type", "émotionnel  social", "emotional_social"),
        ("job_type", "emotional_social", "emotional_social"),
        ("job_type", "fonctionnel", "functional"),
        ("job_type", "lié", "related"),
    ],
)
def test_french_names_and_variants(fld, written, label):
    assert canonical_label(fld, written) == label


def test_wrong_column_and_ambiguous_words_are_not_guessed():
    assert canonical_label("phase", "push") is None
    assert canonical_label("force", "avant") is None
    assert canonical_label("job_type", "émotionnel") is None  # personal or social?
    assert normalise("  Émotionnel_Personnel. ") == "emotionnel personnel"


# ---------------------------------------------------------------- sheets


def _rows() -> list[SheetRow]:
    return [
        SheetRow(
            sentence_id="ent-0123456789",
            start=65.4,
            speaker="Intervieweuse",
            role="interviewer",
            text="Qu'est-ce qui s'est passé ce jour-là ?",
            tags={"phase": "trigger", "force": "none", "job_type": "none"},
            model={"phase": "trigger", "force": "none", "job_type": "none"},
            confidence={"phase": 0.91, "force": 1.0, "job_type": 1.0},
        ),
        SheetRow(
            sentence_id="ent-abcdef0123",
            start=None,
            speaker="Client",
            role="interviewee",
            text='Il a dit : "on perd des clients"; c\'était long\net pénible',
            tags={"phase": "before", "force": "push", "job_type": "functional"},
            comment="= à revoir",
            reviewed=["force"],
            model={"phase": "before", "force": "none", "job_type": "functional"},
            confidence={"phase": 0.5, "force": 0.4, "job_type": 0.77},
        ),
    ]


def test_sheet_is_what_a_french_excel_opens(tmp_path):
    data = render_sheet(_rows(), version=3)
    assert data.startswith(codecs.BOM_UTF8)
    text = data[3:].decode("utf-8")
    header = text.split("\r\n", 1)[0]
    assert header.split(";") == SHEET_COLUMNS
    assert "00:01:05" in text and ";91;" in text  # times and whole percentages
    assert "'= à revoir" in text  # a formula-looking cell is kept as text
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(records) == 3  # the line break stays inside its quoted cell
    assert records[2][SHEET_COLUMNS.index("text")] == _rows()[1].text
    path = tmp_path / "ent.csv"
    path.write_bytes(data)
    sheet = read_sheet(path)
    second = sheet.rows[1]
    assert second.row == 3 and second.comment == "= à revoir"
    assert second.tags == {"phase": "before", "force": "push", "job_type": "functional"}
    assert second.reviewed == {"force"} and second.version == 3
    assert second.model == {"phase": "before", "force": "none", "job_type": "functional"}


def _resave(data: bytes, effect: str) -> bytes:
    """``data`` (a sheet as written) as a spreadsheet would save it after ``effect``."""
    text = data.decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header, body = records[0], records[1:]
    delimiter, encoding, newline, bom = ";", "utf-8", "\r\n", True
    if effect == "comma":
        delimiter = ","
    elif effect == "lf":
        newline = "\n"
    elif effect == "no_bom":
        bom = False
    elif effect == "windows_1252":
        encoding, bom = "cp1252", False
    elif effect == "sorted":
        body = sorted(body, key=lambda r: r[header.index("text")], reverse=True)
    elif effect == "deleted":
        body = body[1:]
    elif effect == "moved_columns":
        order = list(reversed(range(len(header))))
        header, body = [header[i] for i in order], [[r[i] for i in order] for r in body]
    elif effect == "extra_columns":
        header = ["Priorité", *header, "Notes"]  # "Notes" beside "comment": the reviewer's own
        body = [["haute", *r, "à voir"] for r in body]
    elif effect == "french_headers":
        names = {"text": "Texte", "comment": "Commentaire", "job_type": "Type de job"}
        header = [names.get(h, h) for h in header]
    elif effect == "title_line":
        body = [header, *body]
        header = ["Relecture de l'entretien", *[""] * (len(header) - 1)]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(body)
    return (codecs.BOM_UTF8 if bom else b"") + out.getvalue().encode(encoding)


def _edit(data: bytes, sentence_id: str, **cells: str) -> bytes:
    text = data.decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header = records[0]
    for record in records[1:]:
        if record[0] == sentence_id:
            for name, value in cells.items():
                record[header.index(name)] = value
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(records)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


EFFECTS = [
    "comma",
    "lf",
    "no_bom",
    "windows_1252",
    "sorted",
    "deleted",
    "moved_columns",
    "extra_columns",
    "french_headers",
    "title_line",
]


@pytest.mark.parametrize("effect", EFFECTS)
def test_read_sheet_survives_what_spreadsheets_do(tmp_path, effect):
    edited = _edit(
        render_sheet(_rows(), 1),
        "ent-abcdef0123",
        phase="Déclencheur",
        force="peur",
        job_type="émotionnel social",
        comment="Très juste ; à garder\navec « guillemets »",
    )
    path = tmp_path / "ent.csv"
    path.write_bytes(_resave(edited, effect))
    sheet = read_sheet(path)
    row = next(r for r in sheet.rows if r.sentence_id == "ent-abcdef0123")
    assert row.tags == {"phase": "trigger", "force": "anxiety", "job_type": "emotional_social"}
    assert row.comment == "Très juste ; à garder\navec « guillemets »"
    assert len(sheet.rows) == (1 if effect == "deleted" else 2)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("phase", "push", "it is a force value"),
        ("force", "enthousiasme", "accepted values: push"),
        ("job_type", "émotionnel", "emotional_personal (émotionnel personnel"),
        ("checked", "peut-être", "accepted values: oui"),
    ],
)
def test_invalid_value_names_file_row_column_value_and_accepted(tmp_path, column, value, expected):
    path = tmp_path / "ent.csv"
    path.write_bytes(_edit(render_sheet(_rows(), 1), "ent-abcdef0123", **{column: value}))
    with pytest.raises(SheetError) as err:
        read_sheet(path)
    message = str(err.value)
    assert str(path) in message and "row 3" in message and f"column {column!r}" in message
    assert repr(value) in message and expected in message


def test_two_columns_with_the_same_name_are_refused(tmp_path):
    text = render_sheet(_rows(), 1).decode("utf-8-sig")
    header, rest = text.split("\r\n", 1)
    path = tmp_path / "ent.csv"
    path.write_text(header + ";phase\r\n" + rest.replace("\r\n", ";after\r\n"), "utf-8-sig")
    with pytest.raises(SheetError, match="'phase'; keep one of them"):
        read_sheet(path)


def test_a_file_that_is_no_sheet(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("Bonjour;à tous\n", encoding="utf-8")
    with pytest.raises(SheetError, match="no 'sentence_id' column"):
        read_sheet(path)


# ---------------------------------------------------------------- store


def _correction(sid: str, fld: str, new: str, **kw) -> Correction:
    return Correction(sentence_id=sid, interview_id="ent", text=f"texte {sid}", field=fld,
                      new=new, **kw)  # fmt: skip


def test_store_is_append_only_and_the_last_word_wins(tmp_path):
    path = tmp_path / "data" / "corrections" / "corrections.jsonl"
    store = CorrectionStore(path)
    assert store.read() == [] and not path.exists()
    store.append([_correction("a", "force", "push"), _correction("a", "phase", "after")])
    first = path.read_bytes()
    store.append([_correction("a", "force", "habit", old="push")])
    assert path.read_bytes().startswith(first)  # earlier lines untouched
    latest = load_corrections(path)
    assert latest[("a", "force")].new == "habit" and latest[("a", "phase")].new == "after"
    assert latest[("a", "force")].text == "texte a"
    assert reviewer_labels(path) == {"a": {"force": "habit", "phase": "after"}}
    assert len(store.read()) == 3


def test_damaged_lines_are_skipped_and_kept(tmp_path, caplog):
    path = tmp_path / "corrections.jsonl"
    store = CorrectionStore(path)
    store.append([_correction("a", "force", "push")])
    with open(path, "ab") as fh:  # a crash in the middle of an append, then a bad label
        fh.write(b'{"sentence_id": "b", "field": "force", "new": "pu')
    store.append([_correction("c", "force", "pull")])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"sentence_id": "d", "field": "force", "new": "joie"}) + "\n")
    assert [c.sentence_id for c in store.read()] == ["a", "c"]
    assert "line 2" in caplog.text and "line 4" in caplog.text
    assert b'"new": "pu' in path.read_bytes()  # never removed


def test_stats_kappa_and_confusion(tmp_path):
    path = tmp_path / "c.jsonl"
    pairs = [("push", "push"), ("none", "none"), ("none", "push"), ("pull", "pull")]
    pairs.append(("none", "none"))
    CorrectionStore(path).append(
        [
            _correction(f"s{i}", "force", rev, model=model, role="interviewee",
                        kind="confirmation" if model == rev else "correction")  # fmt: skip
            for i, (model, rev) in enumerate(pairs)
        ]
        + [_correction("s9", "force", "push", model="none", role="interviewer")]
    )
    stats = review_stats(path)
    from sklearn.metrics import cohen_kappa_score

    force = next(t for t in stats.tags if t.field == "force")
    assert stats.reviewed_sentences == 6 and force.n == 5  # interviewer rows left out
    assert force.kappa == pytest.approx(
        cohen_kappa_score([m for m, _ in pairs], [r for _, r in pairs])
    )
    assert force.confusion.loc["none", "push"] == 1 and force.corrected == 1
    phase = next(t for t in stats.tags if t.field == "phase")
    assert phase.n == 0 and math.isnan(phase.kappa)
    text = stats.format()
    assert "Reviewed sentences: 6" in text and "Cohen's kappa" in text


# ---------------------------------------------------------------- end to end


@dataclass
class Project:
    """A copy of a processed output folder, its drop folder and its own store."""

    drop: Path
    out: Path
    store: Path

    def overrides(self) -> list[str]:
        return [*FAST, "--review.store", str(self.store)]

    def run(self, upto: str = "segment"):
        return run_batch(self.drop, self.out, load_config(overrides=self.overrides()), upto=upto)

    def cli(self, *args: str):
        return CliRunner().invoke(app, [*args, *self.overrides()])

    def sheet_path(self, iid: str) -> Path:
        return self.out / "review" / f"{iid}.csv"

    def sheet(self, iid: str) -> list[dict[str, str]]:
        text = self.sheet_path(iid).read_bytes().decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))

    def edit(self, iid: str, sentence_id: str, **cells: str) -> None:
        path = self.sheet_path(iid)
        path.write_bytes(_edit(path.read_bytes(), sentence_id, **cells))

    def sentences(self) -> pd.DataFrame:
        return pd.read_csv(self.out / "sentences.csv", encoding="utf-8-sig", keep_default_na=False)

    def store_lines(self) -> list[dict]:
        if not self.store.exists():
            return []
        return [json.loads(line) for line in self.store.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("review")
    drop = root / "drop"
    shutil.copytree(DATA / "transcripts", drop)
    out = root / "out"
    config = load_config(overrides=[*FAST, "--review.store", str(root / "store.jsonl")])
    summary = run_batch(drop, out, config)
    assert summary.ok, summary.failed
    return drop, out


@pytest.fixture
def project(processed, tmp_path) -> Project:
    drop, out = processed
    shutil.copytree(drop, tmp_path / "drop")
    shutil.copytree(out, tmp_path / "out")
    return Project(tmp_path / "drop", tmp_path / "out", tmp_path / "data" / "corrections.jsonl")


def _other(fld: str, value: str, prefer: str) -> str:
    """A label of ``fld`` different from ``value`` (``prefer`` when it is)."""
    return prefer if prefer != value else next(v for v in LABELS[fld] if v != value)


def _french(fld: str, label: str) -> str:
    """The first French name of a label, as a reviewer would type it."""
    return next(w for w in SYNONYMS[fld][label] if w != label).capitalize()


def test_every_interview_has_its_sheet_in_sentence_order(project):
    sentences = project.sentences()
    for iid, group in sentences.groupby("interview_id", sort=False):
        raw = project.sheet_path(iid).read_bytes()
        assert raw.startswith(codecs.BOM_UTF8) and b"\r\n" in raw
        rows = project.sheet(iid)
        assert list(rows[0]) == SHEET_COLUMNS
        assert [r["sentence_id"] for r in rows] == list(group["sentence_id"])
        assert [r["text"].lstrip("'") for r in rows] == list(group["text"])
        for r in rows:
            assert r["phase"] in PHASES and r["force"] in FORCES and r["job_type"] in JOB_TYPES
            assert 0 <= int(r["phase_confidence"]) <= 100
            assert r["reviewed"] == "" and r["checked"] == ""
    assert list(sentences.columns[: len(SENTENCE_COLUMNS)]) == SENTENCE_COLUMNS
    assert {"reviewed", "comment"} <= set(sentences.columns)


def test_edits_win_in_every_output_and_are_stored(project):
    rows = {r["text"]: r for r in project.sheet("crm_cabinet")}
    target = rows["Chacun avait sa version."]
    phase = _other("phase", target["phase_model"], "after")
    force = _other("force", target["force_model"], "habit")
    job_type = _other("job_type", target["job_type_model"], "functional")
    project.edit(
        "crm_cabinet",
        target["sentence_id"],
        phase=_french("phase", phase),
        force=_french("force", force),
        job_type=_french("job_type", job_type),
        comment="Plutôt une habitude ; à discuter\navec l'équipe",
    )
    # every job sentence of the interview set to "aucun": none may stay in a segment
    job_rows = [r for r in rows.values() if r["job_type"] != "none" and r is not target]
    for r in job_rows:
        project.edit("crm_cabinet", r["sentence_id"], job_type="aucun")
    summary = project.run()
    assert summary.ok and summary.work["segment"] == 1  # segments rebuilt on the new tags
    assert summary.review["new_corrections"] == 4 + len(job_rows)

    df = project.sentences().set_index("sentence_id")
    sid = target["sentence_id"]
    assert (df.loc[sid, "phase"], df.loc[sid, "force"], df.loc[sid, "job_type"]) == (
        phase,
        force,
        job_type,
    )
    assert df.loc[sid, "force_score"] == 1.0
    assert df.loc[sid, "reviewed"] == "phase, force, job_type"
    assert df.loc[sid, "comment"] == "Plutôt une habitude ; à discuter\navec l'équipe"
    for r in job_rows:
        assert df.loc[r["sentence_id"], "job_type"] == "none"
        assert df.loc[r["sentence_id"], "segment_id"] == ""
    quotes = pd.read_csv(project.out / "quotes.csv", encoding="utf-8-sig")
    assert not set(quotes["sentence_id"]) & {r["sentence_id"] for r in job_rows}

    regenerated = {r["sentence_id"]: r for r in project.sheet("crm_cabinet")}
    shown = regenerated[sid]
    assert (shown["phase"], shown["force"], shown["job_type"]) == (phase, force, job_type)
    assert shown["phase_model"] == target["phase_model"]  # the model's view is kept beside
    assert shown["reviewed"] == "phase, force, job_type" and shown["checked"] == "oui"
    assert shown["comment"] == "Plutôt une habitude ; à discuter\navec l'équipe"
    assert shown["sheet_version"] == "2"

    lines = project.store_lines()
    by_field = {line["field"]: line for line in lines if line["sentence_id"] == sid}
    assert by_field["force"]["new"] == force and by_field["force"]["old"] == target["force"]
    assert by_field["force"]["model"] == target["force_model"]
    assert by_field["force"]["text"] == "Chacun avait sa version."
    assert by_field["force"]["interview_id"] == "crm_cabinet"
    assert by_field["force"]["source"].endswith("crm_cabinet.csv") and by_field["force"]["time"]
    assert by_field["comment"]["new"].startswith("Plutôt")
    latest = load_corrections(project.store)
    assert latest[(sid, "phase")].new == phase and latest[(sid, "phase")].text == target["text"]


def test_running_again_changes_nothing(project):
    rows = project.sheet("velo_cargo")
    target = rows[-1]
    force = _other("force", target["force"], "pull")
    project.edit("velo_cargo", target["sentence_id"], force=force)
    project.edit("velo_cargo", rows[0]["sentence_id"], checked="x", comment="ok")
    first = project.run()
    assert first.ok and first.review["new_corrections"] == 5  # 1 change, 3 checked, comment
    snapshot = {p: p.read_bytes() for p in project.out.rglob("*") if p.is_file()}
    store = project.store.read_bytes()
    for _ in range(2):
        again = project.run()
        assert again.ok and again.review["new_corrections"] == 0 and not again.work
        assert project.store.read_bytes() == store
        after = {p: p.read_bytes() for p in project.out.rglob("*") if p.is_file()}
        changed = [p.name for p in after if after[p] != snapshot.get(p)]
        assert changed == ["run_summary.json"]


def test_spreadsheet_resaves_are_imported(project):
    """Every effect of a re-save together: cp1252, commas, sorted, deleted, moved, extra."""
    rows = project.sheet("courses_en_ligne")
    target = rows[1]
    new_phase = _other("phase", target["phase"], "exploring")
    project.edit("courses_en_ligne", target["sentence_id"], phase=_french("phase", new_phase),
                 comment="Très bien vu")  # fmt: skip
    path = project.sheet_path("courses_en_ligne")
    data = path.read_bytes()
    for effect in ("deleted", "sorted", "moved_columns", "extra_columns", "comma"):
        data = _resave(data, effect)
    path.write_bytes(data.decode("utf-8-sig").encode("cp1252"))  # and no BOM
    summary = project.run(upto="tag")
    assert summary.ok, summary.failed
    df = project.sentences().set_index("sentence_id")
    assert df.loc[target["sentence_id"], "phase"] == new_phase
    assert df.loc[target["sentence_id"], "comment"] == "Très bien vu"
    # the deleted row is not a deletion of anything, and the sheet comes back whole
    assert len(project.sheet("courses_en_ligne")) == len(rows)
    # the file as the reviewer saved it (with their own columns) is kept
    (kept,) = (project.out / "review" / "imported").glob("courses_en_ligne.v1.*.csv")
    assert "Priorité" in kept.read_bytes().decode("cp1252")
    assert any("Priorité" in note for note in summary.review["notes"])


def test_invalid_value_stops_that_sheet_only(project):
    bad = project.sheet("crm_cabinet")[2]
    good = project.sheet("velo_cargo")[1]
    project.edit("crm_cabinet", bad["sentence_id"], phase="push")
    project.edit("crm_cabinet", project.sheet("crm_cabinet")[3]["sentence_id"], force="peur")
    project.edit("velo_cargo", good["sentence_id"], comment="Bien")
    bad_bytes = project.sheet_path("crm_cabinet").read_bytes()
    result = project.cli("run", str(project.drop), "--out", str(project.out))
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "crm_cabinet.csv" in message and "row 4" in message and "column 'phase'" in message
    assert "'push'" in message and "it is a force value" in message
    assert "accepted values: before" in message
    assert [line["sentence_id"] for line in project.store_lines()] == [good["sentence_id"]]
    assert project.sheet_path("crm_cabinet").read_bytes() == bad_bytes  # edits not lost
    summary = json.loads((project.out / "run_summary.json").read_text(encoding="utf-8"))
    assert any(f["file"].endswith("crm_cabinet.csv") for f in summary["failed"])
    assert summary["succeeded"] and summary["review"]["new_corrections"] == 1
    # fixed, it goes in on the next run
    project.edit("crm_cabinet", bad["sentence_id"], phase="après")
    assert project.run(upto="tag").ok
    assert load_corrections(project.store)[(bad["sentence_id"], "phase")].new == "after"


def test_deleted_sheet_keeps_its_corrections(project):
    target = project.sheet("velo_cargo")[2]
    force = _other("force", target["force"], "anxiety")
    project.edit("velo_cargo", target["sentence_id"], force=force, comment="Gardé")
    assert project.run(upto="tag").ok
    lines = project.store_lines()
    project.sheet_path("velo_cargo").unlink()
    summary = project.run(upto="tag")
    assert summary.ok and summary.review["new_corrections"] == 0
    assert project.store_lines() == lines
    shown = {r["sentence_id"]: r for r in project.sheet("velo_cargo")}[target["sentence_id"]]
    assert shown["force"] == force and shown["comment"] == "Gardé" and "force" in shown["reviewed"]
    df = project.sentences().set_index("sentence_id")
    assert df.loc[target["sentence_id"], "force"] == force


def _review_then_rewrite(project, new_text: str, **edit):
    """Review "Chacun avait sa version." (``edit``), run, then make the transcript say
    ``new_text`` instead and tag again: ``(the reviewed sheet row, the CLI result)``."""
    rows = project.sheet("crm_cabinet")
    target = next(r for r in rows if r["text"] == "Chacun avait sa version.")
    project.edit("crm_cabinet", target["sentence_id"], **edit)
    assert project.run(upto="tag").ok
    transcript = project.drop / "crm_cabinet.txt"
    transcript.write_text(
        transcript.read_text(encoding="utf-8").replace("Chacun avait sa version.", new_text),
        encoding="utf-8",
    )
    result = project.cli("tag", str(project.drop), "--out", str(project.out))
    assert result.exit_code == 0, result.output
    return target, result


def test_vanished_sentence_is_kept_and_reported(project):
    target, result = _review_then_rewrite(
        project, "Chacun avait sa propre version.", force="habitude"
    )
    assert "no longer in their transcript" in result.output
    assert target["sentence_id"] in result.output
    summary = json.loads((project.out / "run_summary.json").read_text(encoding="utf-8"))
    orphans = summary["review"]["orphans"]
    assert [(o["sentence_id"], o["field"], o["value"]) for o in orphans] == [
        (target["sentence_id"], "force", "habit")
    ]
    assert orphans[0]["text"] == "Chacun avait sa version."
    assert (target["sentence_id"], "force") in load_corrections(project.store)
    assert target["sentence_id"] not in {r["sentence_id"] for r in project.sheet("crm_cabinet")}


def test_a_decision_follows_its_sentence_when_only_punctuation_changes(project):
    """A re-split that gives a sentence back its "?" or "!" changes its id; the
    reviewer's decision follows it to the new id (and is not reported as an orphan)."""
    target, result = _review_then_rewrite(
        project, "Chacun avait sa version !", force="habitude", comment="Vu"
    )
    assert "no longer in their transcript" not in result.output
    summary = json.loads((project.out / "run_summary.json").read_text(encoding="utf-8"))
    assert summary["review"]["orphans"] == []
    df = project.sentences().set_index("text")
    moved = df.loc["Chacun avait sa version !"]
    assert moved["sentence_id"] != target["sentence_id"] and moved["force"] == "habit"
    shown = {r["text"].lstrip("'"): r for r in project.sheet("crm_cabinet")}
    assert shown["Chacun avait sa version !"]["comment"] == "Vu"
    assert "force" in shown["Chacun avait sa version !"]["reviewed"]
    # the store keeps what the reviewer wrote, under the id they saw
    assert (target["sentence_id"], "force") in load_corrections(project.store)


def test_an_old_copy_of_a_sheet_does_not_undo_later_corrections(project):
    rows = project.sheet("velo_cargo")
    first, second = rows[1], rows[3]
    old_copy = project.sheet_path("velo_cargo").read_bytes()  # version 1
    force = _other("force", first["force"], "push")
    project.edit("velo_cargo", first["sentence_id"], force=force)
    assert project.run(upto="tag").ok
    # a colleague's copy of version 1, with another row edited, comes back later
    phase = _other("phase", second["phase"], "deciding")
    project.sheet_path("velo_cargo").write_bytes(
        _edit(old_copy, second["sentence_id"], phase=phase)
    )
    assert project.run(upto="tag").ok
    latest = load_corrections(project.store)
    assert latest[(first["sentence_id"], "force")].new == force
    assert latest[(second["sentence_id"], "phase")].new == phase


def test_segment_command_imports_and_applies_too(project):
    target = next(r for r in project.sheet("crm_cabinet") if r["role"] == "interviewee")
    job_type = _other("job_type", target["job_type"], "emotional_personal")
    project.edit("crm_cabinet", target["sentence_id"], job_type=_french("job_type", job_type))
    result = project.cli("segment", "--out", str(project.out))
    assert result.exit_code == 0, result.output
    assert "1 new correction(s) imported" in result.output
    df = project.sentences().set_index("sentence_id")
    assert df.loc[target["sentence_id"], "job_type"] == job_type
    shown = {r["sentence_id"]: r for r in project.sheet("crm_cabinet")}[target["sentence_id"]]
    assert shown["job_type"] == job_type and shown["reviewed"] == "job_type"


def test_non_csv_sheet_is_reported(project):
    (project.out / "review" / "crm_cabinet.xlsx").write_bytes(b"PK\x03\x04")
    summary = project.run(upto="tag")
    assert not summary.ok
    assert any("save it as csv" in p.lower() for _, p in summary.failed)


def test_review_stats_command(project):
    rows = project.sheet("crm_cabinet")
    interviewee = [r for r in rows if r["role"] == "interviewee"]
    for r in interviewee[:3]:
        project.edit("crm_cabinet", r["sentence_id"], checked="oui")
    project.edit("crm_cabinet", interviewee[3]["sentence_id"],
                 force=_other("force", interviewee[3]["force"], "pull"))  # fmt: skip
    assert project.run(upto="tag").ok
    result = project.cli("review", "stats", "--out", str(project.out))
    assert result.exit_code == 0, result.output
    assert "Reviewed sentences: 4" in result.output
    for fld in TAG_FIELDS:
        assert f"{fld}:" in result.output
    assert "Cohen's kappa" in result.output and "rows: model, columns: reviewers" in result.output


def test_review_import_command(project):
    target = project.sheet("velo_cargo")[1]
    project.edit("velo_cargo", target["sentence_id"], comment="Noté")
    result = project.cli("review", "import", "--out", str(project.out))
    assert result.exit_code == 0, result.output
    assert "1 new correction(s)" in result.output
    assert project.store_lines()[0]["new"] == "Noté"


# ---------------------------------------------------------------- LibreOffice


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _convert(src: Path, target: str, outdir: Path, profile: Path, infilter: str | None = None):
    """Run LibreOffice headless on one file (its own profile: parallel runs don't clash)."""
    cmd = [_soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless"]
    if infilter:
        cmd.append(f"--infilter={infilter}")
    cmd += ["--convert-to", target, "--outdir", str(outdir), str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    produced = outdir / f"{src.stem}.{target.split(':')[0]}"
    assert produced.exists(), f"LibreOffice did not convert {src}: {done.stdout}{done.stderr}"
    return produced


@pytest.mark.skipif(
    _soffice() is None, reason="LibreOffice (soffice) is not installed: run `make system-deps`"
)
@pytest.mark.parametrize(
    ("fmt", "export"),
    [
        # ;-separated, "-quoted, UTF-8 (76), from line 1: LibreOffice's French CSV
        ("ods", "59,34,76,1"),
        # ,-separated, Windows-1252 (1): an old Excel-style re-save
        ("xlsx", "44,34,1,1"),
    ],
)
def test_libreoffice_round_trip(project, tmp_path, fmt, export):
    rows = {r["text"]: r for r in project.sheet("crm_cabinet")}
    target = rows["Mais j'avais peur que l'équipe ne suive pas, franchement."]
    force = _other("force", target["force"], "habit")
    comment = "Élodie : « c'est une peur d'adoption » ;\nà vérifier"
    project.edit(
        "crm_cabinet",
        target["sentence_id"],
        force=_french("force", force),
        job_type="Émotionnel social",
        comment=comment,
    )
    sheet = project.sheet_path("crm_cabinet")
    profile = tmp_path / "lo-profile"
    spreadsheet = _convert(sheet, fmt, tmp_path / fmt, profile, infilter="CSV:59,34,76,1")
    back = _convert(
        spreadsheet, f"csv:Text - txt - csv (StarCalc):{export}", tmp_path / "back", profile
    )
    resaved = back.read_bytes()
    if export.split(",")[2] == "1":
        assert "Élodie".encode("cp1252") in resaved  # really Windows-1252
    shutil.copy(back, sheet)
    summary = project.run()
    assert summary.ok, summary.failed
    df = project.sentences().set_index("sentence_id")
    assert df.loc[target["sentence_id"], "force"] == force
    assert df.loc[target["sentence_id"], "job_type"] == "emotional_social"
    assert df.loc[target["sentence_id"], "comment"] == comment  # accents, quotes, line break
    # nothing else passed for an edit: LibreOffice's own changes (times, quoting) are not edits
    changed = {(c["sentence_id"], c["field"]) for c in project.store_lines()}
    assert changed == {(target["sentence_id"], f) for f in ("force", "job_type", "comment")}
    again = project.run()
    assert again.review["new_corrections"] == 0 and not again.work
