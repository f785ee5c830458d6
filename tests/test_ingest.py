"""Ingest: finding interviews and reading .txt/.vtt/.srt transcripts in every encoding."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import IngestConfig
from pipeline.errors import InputError
from pipeline.ingest import discover, parse_txt, read_transcript, transcript_to_txt


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_labels_timestamps_and_continuation_lines(tmp_path):
    text = (
        "[00:00:01] Intervieweur : Avant, comment faisiez-vous ?\n"
        "[00:00:05] Client: Ben euh, tout sur Excel.\n"
        "Et ça marchait pas trop.\n"
        "00:01:02 Q: Et alors ?\n"
        "R 00:01:10: Alors voilà ce que je pense : rien de spécial.\n"
    )
    tr = read_transcript(write(tmp_path, "a.txt", text))
    assert [t.speaker for t in tr.turns] == ["Intervieweur", "Client", "Q", "R"]
    assert tr.turns[1].text == "Ben euh, tout sur Excel. Et ça marchait pas trop."
    assert tr.turns[0].start == 1.0 and tr.turns[0].end == 5.0
    assert tr.turns[2].start == 62.0
    # a colon inside a sentence is not a new speaker
    assert tr.turns[3].text == "Alors voilà ce que je pense : rien de spécial."
    assert tr.interview_id == "a" and tr.kind == "text"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings(tmp_path, encoding):
    text = (
        "Intervieweur: Qu’est-ce qui a fait pencher la balance ?\r\n"
        "Cliente: Le cœur, l'été, à Noël.\r\n"
    )
    tr = read_transcript(write(tmp_path, "enc.txt", text.encode(encoding)))
    assert tr.turns[0].speaker == "Intervieweur"  # no BOM glued to the first label
    assert tr.turns[1].text == "Le cœur, l'été, à Noël."
    assert "’" in tr.turns[0].text


def test_vtt_voice_tags_merge_same_speaker(tmp_path):
    vtt = (
        "WEBVTT\n\nNOTE made by Teams\n\n1\n00:00:01.000 --> 00:00:04.000\n"
        "<v Marie Dupont>Bonjour, comment faisiez-vous avant ?</v>\n\n"
        "2\n00:00:04.500 --> 00:00:07.000\n<v Paul>Sur papier.</v>\n\n"
        "3\n00:00:07.500 --> 00:00:09.000\n<v Paul>Avec un carnet.</v>\n"
    )
    tr = read_transcript(write(tmp_path, "z.vtt", vtt))
    assert [(t.speaker, t.text) for t in tr.turns] == [
        ("Marie Dupont", "Bonjour, comment faisiez-vous avant ?"),
        ("Paul", "Sur papier. Avec un carnet."),
    ]
    assert tr.turns[1].start == 4.5 and tr.turns[1].end == 9.0


def test_srt_name_prefix(tmp_path):
    srt = (
        "1\n00:00:01,000 --> 00:00:03,500\nINT: Qu'est-ce qui s'est passé ce jour-là ?\n\n"
        "2\n00:00:04,000 --> 00:00:08,000\nP3: On a perdu un gros client.\n"
    )
    tr = read_transcript(write(tmp_path, "s.srt", srt))
    assert [t.speaker for t in tr.turns] == ["INT", "P3"]
    assert tr.turns[1].start == 4.0 and tr.duration == 8.0


def test_bad_inputs_name_the_file(tmp_path):
    with pytest.raises(InputError) as err:
        read_transcript(write(tmp_path, "empty.txt", b""))
    assert "empty.txt" in str(err.value) and "empty" in err.value.problem
    with pytest.raises(InputError) as err:
        read_transcript(write(tmp_path, "junk.txt", "12345\n-- -- --\n...\n"))
    assert "junk.txt" in str(err.value) and "turns" in err.value.problem


def test_discover_reports_unknown_extensions_and_keeps_inputs(tmp_path):
    write(tmp_path, "a.txt", "Q: Bonjour ?\nR: Bonjour.\n")
    write(tmp_path, "b.mp3", b"ID3")
    write(tmp_path, "notes.docx", b"PK")
    write(tmp_path, ".DS_Store", b"x")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    items, errors = discover(tmp_path, IngestConfig())
    assert [(i.interview_id, i.kind) for i in items] == [("a", "text"), ("b", "audio")]
    assert len(errors) == 1 and errors[0].path.endswith("notes.docx")
    assert "unknown file type" in errors[0].problem
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_transcript_round_trip_through_txt(tmp_path):
    tr = parse_txt(
        "[00:00:03] Intervieweur: Bonjour.\n[00:01:05] Client: Salut, ça va.\n",
        tmp_path / "x.txt",
        "x",
    )
    again = parse_txt(transcript_to_txt(tr), tmp_path / "x.txt", "x")
    assert [(t.speaker, t.text, t.start) for t in again.turns] == [
        (t.speaker, t.text, t.start) for t in tr.turns
    ]


def test_fixture_transcripts_parse(data_dir):
    folder = data_dir / "transcripts"
    files = sorted(p for p in folder.iterdir() if p.suffix in {".txt", ".vtt", ".srt"})
    assert {p.suffix for p in files} == {".txt", ".vtt", ".srt"}
    for path in files:
        tr = read_transcript(path)
        assert len(tr.speakers) >= 2, path
        assert all(t.text for t in tr.turns)


def test_corrected_transcript_beside_its_audio_wins_silently(tmp_path):
    write(tmp_path, "itw.mp3", b"ID3")
    write(tmp_path, "itw.txt", "Q: Bonjour ?\nR: Bonjour.\n")
    write(tmp_path, "dup.txt", "Q: A ?\nR: B.\n")
    write(tmp_path, "dup.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v A>Oui.\n")
    items, errors = discover(tmp_path, IngestConfig())
    found = [(i.interview_id, i.path.name) for i in items]
    assert found == [("dup", "dup.txt"), ("itw", "itw.txt")]
    assert len(errors) == 1 and errors[0].path.endswith("dup.vtt")
