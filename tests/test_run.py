"""End to end: `jtbd run` on a folder with real audio and transcripts, bad inputs, re-runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import load_config
from pipeline.labels import FORCES, JOB_TYPES, PHASES, ROLES
from pipeline.records import SENTENCE_COLUMNS
from pipeline.run import run_batch

pytestmark = pytest.mark.slow
FAST = [
    "--nlp.spacy_model", "fr_core_news_sm", "--transcribe.progress", "false",
    "--tagging.method", "rules",  # the trained tagger has its own tests (test_train.py)
]


def _audio_fixture(data_dir: Path) -> Path:
    return next(
        p for p in sorted((data_dir / "audio").iterdir()) if p.suffix in {".wav", ".flac", ".ogg"}
    )


@pytest.fixture(scope="module")
def drop(tmp_path_factory, data_dir) -> Path:
    folder = tmp_path_factory.mktemp("drop")
    shutil.copy(_audio_fixture(data_dir), folder)
    for path in sorted((data_dir / "transcripts").iterdir()):
        shutil.copy(path, folder)
    return folder


@pytest.fixture(scope="module")
def first_run(drop, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(app, ["run", str(drop), "--out", str(out), *FAST])
    return result, out


def test_run_writes_every_table(first_run, drop):
    result, out = first_run
    assert result.exit_code == 0, result.output
    for name in ("sentences", "segments", "quotes", "interviews"):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.parquet").exists()
    df = pd.read_csv(out / "sentences.csv", encoding="utf-8-sig")
    assert list(df.columns[: len(SENTENCE_COLUMNS)]) == SENTENCE_COLUMNS
    assert set(df["interview_id"]) == {p.stem for p in drop.iterdir()}
    assert set(df["phase"]) <= set(PHASES)
    assert set(df["force"]) <= set(FORCES) and set(df["job_type"]) <= set(JOB_TYPES)
    assert set(df["role"]) == set(ROLES)
    interviewer = df[df["role"] == "interviewer"]
    assert (interviewer["force"] == "none").all() and (interviewer["job_type"] == "none").all()
    assert df["sentence_id"].is_unique
    # audio sentences carry times from the words
    audio_id = _audio_fixture(Path(__file__).parent / "data").stem
    audio = df[df["interview_id"] == audio_id]
    assert len(audio) >= 3 and audio["start"].notna().all()
    assert audio["start"].is_monotonic_increasing
    assert (out / "transcripts" / f"{audio_id}.txt").exists()
    import json

    saved = json.loads((out / "transcripts" / f"{audio_id}.json").read_text(encoding="utf-8"))
    assert saved["transcript"]["asr_segments"] and saved["transcript"]["turns"][0]["words"]
    interviews = pd.read_csv(out / "interviews.csv", encoding="utf-8-sig")
    assert len(interviews) == len(list(drop.iterdir()))
    assert interviews.set_index("interview_id").loc[audio_id, "duration"] > 5


def test_second_run_does_no_model_work(first_run, drop, monkeypatch):
    _, out = first_run
    before = {p.name: p.read_bytes() for p in out.glob("*.csv")}

    def boom(*args, **kwargs):
        raise AssertionError("a model was loaded on a run with nothing new")

    import pipeline.nlp
    import pipeline.segments
    import pipeline.transcribe

    monkeypatch.setattr(pipeline.nlp, "load_nlp", boom)
    monkeypatch.setattr(pipeline.transcribe, "transcribe_audio_file", boom)
    monkeypatch.setattr(pipeline.segments, "build_segments", boom)
    summary = run_batch(drop, out, load_config(overrides=FAST))
    assert summary.ok and not summary.work
    assert {p.name: p.read_bytes() for p in out.glob("*.csv")} == before


def test_new_file_is_processed_alone(first_run, drop, tmp_path, data_dir):
    _, out = first_run
    extra = tmp_path / "drop"
    shutil.copytree(drop, extra)
    (extra / "nouvel_entretien.txt").write_text(
        "Intervieweur: Avant, comment faisiez-vous ?\n"
        "Client: On notait tout dans un carnet et on oubliait de rappeler les clients.\n"
        "Intervieweur: Et aujourd'hui ?\n"
        "Client: Je voulais pouvoir suivre chaque prospect jusqu'à la signature.\n",
        encoding="utf-8",
    )
    summary = run_batch(extra, out, load_config(overrides=FAST))
    assert summary.ok
    assert summary.work["tag"] == 1 and "transcribe" not in summary.work


def test_bad_inputs_are_reported_and_the_batch_goes_on(data_dir, tmp_path):
    drop = tmp_path / "drop"
    shutil.copytree(data_dir / "bad", drop)
    good = next(p for p in sorted((data_dir / "transcripts").iterdir()) if p.suffix == ".txt")
    shutil.copy(good, drop)
    before = {p.name: p.read_bytes() for p in drop.iterdir()}
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(drop), "--out", str(out), *FAST])
    assert result.exit_code == 1
    text = result.output
    for name in ("empty.txt", "corrupt.mp3", "silence.wav", "notes.xyz", "no_turns.txt"):
        assert name in text, f"{name} not reported:\n{text}"
    df = pd.read_csv(out / "sentences.csv", encoding="utf-8-sig")
    assert set(df["interview_id"]) == {good.stem}
    assert {p.name: p.read_bytes() for p in drop.iterdir()} == before  # inputs untouched


def test_config_errors_stop_before_any_work(drop, tmp_path):
    result = CliRunner().invoke(
        app, ["run", str(drop), "--out", str(tmp_path), "--run.workers", "0"]
    )
    assert result.exit_code == 2 and "run.workers" in result.output
    assert not (tmp_path / "sentences.csv").exists()


def test_missing_input_folder(tmp_path):
    result = CliRunner().invoke(app, ["run", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "nope" in result.output


def test_worker_processes_give_the_same_tables(data_dir, tmp_path):
    drop = tmp_path / "drop"
    shutil.copytree(data_dir / "transcripts", drop)
    serial = run_batch(drop, tmp_path / "serial", load_config(overrides=FAST))
    parallel = run_batch(
        drop, tmp_path / "parallel", load_config(overrides=[*FAST, "--run.workers", "2"])
    )
    assert serial.ok and parallel.ok
    a = pd.read_csv(tmp_path / "serial" / "sentences.csv", encoding="utf-8-sig")
    b = pd.read_csv(tmp_path / "parallel" / "sentences.csv", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(a, b)


def test_segment_command_rebuilds_from_tagged_interviews(first_run, monkeypatch):
    _, out = first_run
    import pipeline.transcribe

    def boom(*args, **kwargs):
        raise AssertionError("segment must not transcribe")

    monkeypatch.setattr(pipeline.transcribe, "transcribe_audio_file", boom)
    result = CliRunner().invoke(app, ["segment", "--out", str(out), *FAST, "--segments.seed", "7"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out / "sentences.csv", encoding="utf-8-sig")["interview_id"].nunique() >= 4


def test_audio_is_decoded_once_and_before_the_warm_up(data_dir, tmp_path, monkeypatch):
    """The warm-up thread loads spaCy while Whisper runs; decoding beside it starved
    PyAV of the GIL (a 3-minute MP3: 6 s instead of 0.15 s), so the samples are decoded
    first and handed to the transcription, which must not decode them again."""
    import threading

    import pipeline.audio
    import pipeline.run
    import pipeline.transcribe
    from pipeline.ingest import InterviewFile

    events: list = []
    real_decode = pipeline.audio.decode_audio

    def decode(path, *args, **kwargs):
        events.append("decode")
        return real_decode(path, *args, **kwargs)

    def warm_up(config):
        events.append("warm-up")
        thread = threading.Thread(target=lambda: None)
        thread.start()
        return thread

    class Stop(Exception):
        pass

    def transcribe(path, config, transcriber=None, audio=None):
        events.append(("transcribe", None if audio is None else len(audio)))
        raise Stop

    monkeypatch.setattr(pipeline.audio, "decode_audio", decode)
    monkeypatch.setattr(pipeline.transcribe, "decode_audio", decode)
    monkeypatch.setattr(pipeline.run, "_warm_up", warm_up)
    monkeypatch.setattr(pipeline.transcribe, "transcribe_audio_file", transcribe)
    audio = _audio_fixture(data_dir)
    item = InterviewFile(audio.stem, audio, "audio")
    with pytest.raises(Stop):
        pipeline.run._transcript_for(item, load_config(None), pipeline.run.Paths(tmp_path), [])
    assert events[:2] == ["decode", "warm-up"]
    assert events[2][0] == "transcribe" and events[2][1] == len(real_decode(audio))
    assert events.count("decode") == 1
