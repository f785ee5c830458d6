"""Speakers: roles on hand-made transcripts, turns from hand-made ASR output, and real
diarization (resemblyzer) on the committed two-voice clip (slow)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from pipeline.audio import SAMPLE_RATE, decode_audio
from pipeline.config import SpeakersConfig
from pipeline.labels import INTERVIEWEE, INTERVIEWER
from pipeline.records import Transcript, Turn, Word
from pipeline.speakers import (
    SpeakerSpan,
    assign_roles,
    build_turns,
    diarize,
    is_question,
    speech_regions,
)
from pipeline.transcribe import AsrResult, AsrSegment

CFG = SpeakersConfig()


def _transcript(*turns: tuple[str, str]) -> Transcript:
    return Transcript(
        interview_id="t", source="t.txt", kind="text",
        turns=[Turn(i, spk, text) for i, (spk, text) in enumerate(turns)],
    )


ANSWER = (
    "Alors avant, je faisais tout sur un tableur, et franchement ça marchait à peu près, "
    "mais dès qu'on a eu plus de clients on perdait des rappels."
)
ANSWER_2 = "On a regardé deux outils, et puis un collègue m'a montré celui qu'on a pris."


# ---------------------------------------------------------------- roles

def test_roles_q_r_labels():
    tr = _transcript(("Q", "Bonjour, merci d'être là."), ("R", "Avec plaisir."),
                     ("Q", "Racontez-moi comment ça se passait avant."), ("R", ANSWER))
    assert assign_roles(tr, CFG) == {"Q": INTERVIEWER, "R": INTERVIEWEE}


def test_roles_first_names_from_behaviour():
    # the customer speaks first here: questions and word share must decide
    tr = _transcript(
        ("Paul", "Oui bonjour, je vous entends bien."),
        ("Marie", "Parfait. Comment faisiez-vous avant ?"),
        ("Paul", ANSWER),
        ("Marie", "Et qu'est-ce qui vous a fait changer"),
        ("Paul", ANSWER_2),
        ("Marie", "Quelles autres solutions avez-vous envisagées ?"),
        ("Paul", ANSWER),
    )
    assert assign_roles(tr, CFG) == {"Paul": INTERVIEWEE, "Marie": INTERVIEWER}


def test_roles_speaker_numbers_second_is_interviewer():
    tr = _transcript(
        ("Speaker 1", "Ah, c'est bon, ça enregistre."),
        ("Speaker 2", "Oui. Alors, est-ce que vous pouvez me raconter le jour de l'achat ?"),
        ("Speaker 1", ANSWER),
        ("Speaker 2", "D'accord. Pourquoi celui-là plutôt qu'un autre"),
        ("Speaker 1", ANSWER_2),
    )
    roles = assign_roles(tr, CFG)
    assert roles == {"Speaker 1": INTERVIEWEE, "Speaker 2": INTERVIEWER}


def test_roles_label_beats_weak_behaviour():
    # the Enquêtrice asks nothing in this excerpt, but her label says who she is
    tr = _transcript(("Client", "Est-ce que je commence ?"), ("Enquêtrice", "Oui, allez-y."),
                     ("Client", ANSWER))
    assert assign_roles(tr, CFG) == {"Client": INTERVIEWEE, "Enquêtrice": INTERVIEWER}


def test_roles_monologue_is_interviewee():
    tr = _transcript(("Intervieweur", "Comment ça s'est passé ?"))
    tr.turns.append(Turn(1, "Intervieweur", ANSWER))
    assert assign_roles(tr, CFG) == {"Intervieweur": INTERVIEWEE}
    assert assign_roles(_transcript(), CFG) == {}


def test_roles_interviewer_label_override_case_insensitive():
    tr = _transcript(("Q", "Comment faisiez-vous ?"), ("Sophie", "Je ne sais plus, et vous ?"),
                     ("Q", ANSWER))
    cfg = SpeakersConfig(interviewer_label="sophie")
    assert assign_roles(tr, cfg) == {"Q": INTERVIEWEE, "Sophie": INTERVIEWER}
    # a label that matches nobody falls back to the guess
    guessed = assign_roles(tr, SpeakersConfig(interviewer_label="Animatrice"))
    assert guessed == {"Q": INTERVIEWER, "Sophie": INTERVIEWEE}


def test_roles_three_speakers_one_interviewer_and_listed_speakers_kept():
    tr = _transcript(
        ("SPEAKER_1", "Bonjour à tous les deux. Qu'est-ce qui vous a amenés à changer d'outil ?"),
        ("SPEAKER_2", ANSWER),
        ("SPEAKER_3", ANSWER_2),
        ("SPEAKER_1", "Et comment avez-vous choisi ?"),
        ("SPEAKER_3", ANSWER),
    )
    tr.speakers = ["SPEAKER_1", "SPEAKER_2", "SPEAKER_3", "SPEAKER_4"]
    roles = assign_roles(tr, CFG)
    assert roles == {"SPEAKER_1": INTERVIEWER, "SPEAKER_2": INTERVIEWEE,
                     "SPEAKER_3": INTERVIEWEE, "SPEAKER_4": INTERVIEWEE}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Et aujourd'hui, qu'est-ce qui manque encore ?", True),
        ("Est-ce que vous aviez regardé d'autres solutions", True),
        ("Euh, comment vous avez connu l'application", True),
        ("Avez-vous hésité", True),
        ("Racontez-moi ce jour-là.", True),
        ("Combien vous payiez avant", True),
        ("Je ne sais pas comment dire.", False),
        ("On a toujours fait comme ça.", False),
        ("C'était peut-être en mars.", False),
    ],
)
def test_is_question(text, expected):
    assert is_question(text) is expected


# ---------------------------------------------------------------- turns (hand-made ASR)

def _asr(*segments: list[tuple[str, float, float]]) -> AsrResult:
    segs = [
        AsrSegment(ws[0][1], ws[-1][2], " ".join(w[0] for w in ws),
                   [Word(s, e, t) for t, s, e in ws])
        for ws in segments
    ]
    return AsrResult("fr", 1.0, segs[-1].end + 1.0, segs)


ASR = _asr(
    [("Comment", 0.0, 0.4), ("faisiez-vous", 0.4, 1.0), ("avant", 1.0, 1.3), ("?", 1.3, 1.4),
     ("Avant,", 2.0, 2.4), ("je", 2.4, 2.5), ("notais", 2.5, 2.9), ("tout.", 2.9, 3.3),
     ("Sur", 3.4, 3.6), ("papier.", 3.6, 4.0)],
    [("D'accord.", 5.5, 6.0), ("Et", 6.1, 6.2), ("ensuite", 6.2, 6.6)],
)


def test_build_turns_majority_speaker_per_sentence():
    spans = [
        SpeakerSpan(0.0, 1.8, "SPEAKER_1"),
        SpeakerSpan(1.8, 2.45, "SPEAKER_1"),  # diarization late: "Avant," still on speaker 1
        SpeakerSpan(2.45, 5.0, "SPEAKER_2"),
        SpeakerSpan(5.0, 7.0, "SPEAKER_1"),
    ]
    turns = build_turns(ASR, spans)
    assert [(t.index, t.speaker) for t in turns] == [
        (0, "SPEAKER_1"), (1, "SPEAKER_2"), (2, "SPEAKER_1"),
    ]
    assert turns[0].text == "Comment faisiez-vous avant ?"
    assert turns[1].text == "Avant, je notais tout. Sur papier."
    assert (turns[1].start, turns[1].end) == (2.0, 4.0)
    assert turns[2].text == "D'accord. Et ensuite"
    assert all(w.speaker == t.speaker for t in turns for w in t.words)
    assert ASR.segments[0].words[4].speaker is None  # the ASR words are not modified


def test_build_turns_long_pause_ends_a_chunk():
    asr = _asr([("bon", 0.0, 0.3), ("alors", 0.3, 0.6), ("voilà", 2.0, 2.4), ("quoi", 2.4, 2.7)])
    spans = [SpeakerSpan(0.0, 1.2, "SPEAKER_1"), SpeakerSpan(1.2, 3.0, "SPEAKER_2")]
    assert [t.text for t in build_turns(asr, spans)] == ["bon alors", "voilà quoi"]


def test_build_turns_without_spans_is_one_speaker():
    turns = build_turns(ASR, [])
    assert len(turns) == 1 and turns[0].speaker == "SPEAKER_1"
    assert turns[0].words[-1].text == "ensuite" and turns[0].end == 6.6


def test_word_outside_every_span_takes_the_nearest():
    spans = [SpeakerSpan(0.0, 1.5, "SPEAKER_1"), SpeakerSpan(1.9, 4.2, "SPEAKER_2")]
    asr = _asr([("Oui.", 1.52, 1.8), ("Non.", 4.5, 4.8)])
    assert [t.speaker for t in build_turns(asr, spans)] == ["SPEAKER_1", "SPEAKER_2"]


def test_speech_regions_merge_close_words():
    assert speech_regions(ASR) == [(0.0, 1.4), (2.0, 4.0), (5.5, 6.6)]


def test_diarize_without_speech_or_too_short():
    assert diarize(np.zeros(SAMPLE_RATE * 2, dtype=np.float32), CFG) == []
    audio = np.zeros(SAMPLE_RATE * 3, dtype=np.float32)
    spans = diarize(audio, CFG, speech=[(0.5, 1.5)])
    assert spans == [SpeakerSpan(0.5, 1.5, "SPEAKER_1")]


# ---------------------------------------------------------------- real diarization (slow)

@pytest.fixture(scope="module")
def two_voices(data_dir):
    base = data_dir / "audio" / "two_voices"
    with open(f"{base}.segments.tsv", encoding="utf-8", newline="") as fh:
        truth = [(float(r["start"]), float(r["end"]), r["speaker"], r["text"])
                 for r in csv.DictReader(fh, delimiter="\t")]
    return decode_audio(f"{base}.wav"), truth


def _asr_from_truth(truth) -> AsrResult:
    """ASR output built from the reference text, words spread evenly over each turn."""
    segments = []
    for start, end, _, text in truth:
        tokens = text.split()
        step = (end - start) / len(tokens)
        words = [Word(start + i * step, start + (i + 1) * step, t) for i, t in enumerate(tokens)]
        segments.append(AsrSegment(start, end, text, words))
    return AsrResult("fr", 1.0, truth[-1][1], segments)


def _speaker_error(spans, truth) -> float:
    """Share of reference speech time given to the wrong speaker (best label mapping)."""
    grid = np.arange(0.0, truth[-1][1], 0.01)
    ref = np.full(len(grid), "", dtype=object)
    hyp = np.full(len(grid), "", dtype=object)
    for start, end, spk, _ in truth:
        ref[(grid >= start) & (grid < end)] = spk
    for span in spans:
        hyp[(grid >= span.start) & (grid < span.end)] = span.speaker
    speech = ref != ""
    a, b = sorted({*ref[speech]})
    best = 0.0
    for mapping in ({"SPEAKER_1": a, "SPEAKER_2": b}, {"SPEAKER_1": b, "SPEAKER_2": a}):
        mapped = np.array([mapping.get(h, "?") for h in hyp[speech]], dtype=object)
        best = max(best, float(np.mean(mapped == ref[speech])))
    return 1.0 - best


@pytest.mark.slow
def test_diarize_two_voices_matches_ground_truth(two_voices):
    audio, truth = two_voices
    asr = _asr_from_truth(truth)
    spans = diarize(audio, CFG, speech=speech_regions(asr))
    assert {s.speaker for s in spans} == {"SPEAKER_1", "SPEAKER_2"}
    assert _speaker_error(spans, truth) < 0.10

    turns = build_turns(asr, spans)
    assert [t.text for t in turns] == [row[3] for row in truth]
    names = {"SPEAKER_1": truth[0][2], "SPEAKER_2": truth[1][2]}
    assert [names[t.speaker] for t in turns] == [row[2] for row in truth]


@pytest.mark.slow
def test_diarize_without_asr_uses_vad(two_voices):
    audio, truth = two_voices
    spans = diarize(audio, CFG)
    assert [s.speaker for s in spans] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_1", "SPEAKER_2"]
    assert _speaker_error(spans, truth) < 0.10


@pytest.mark.slow
def test_diarize_monologue_is_one_speaker(two_voices):
    audio, truth = two_voices
    # only the customer's turns, back to back: one voice
    parts = [audio[int(s * SAMPLE_RATE): int(e * SAMPLE_RATE)] for s, e, spk, _ in truth
             if spk == truth[1][2]]
    mono = np.concatenate(parts * 2)
    spans = diarize(mono, CFG)
    assert {s.speaker for s in spans} == {"SPEAKER_1"}


def test_build_turns_unpunctuated_question_then_answer():
    # Whisper left the question without '?': the voices still split it into two turns
    words = [("et", 0.0, 0.2), ("comment", 0.2, 0.6), ("vous", 0.6, 0.8), ("avez", 0.8, 1.1),
             ("choisi", 1.1, 1.6), ("ben", 1.7, 1.9), ("on", 1.9, 2.0), ("a", 2.0, 2.1),
             ("comparé", 2.1, 2.6), ("trois", 2.6, 2.9), ("offres", 2.9, 3.4), ("en", 3.4, 3.5),
             ("ligne", 3.5, 3.9), ("puis", 3.9, 4.1), ("voilà", 4.1, 4.6)]
    spans = [SpeakerSpan(0.0, 1.65, "SPEAKER_1"), SpeakerSpan(1.65, 5.0, "SPEAKER_2")]
    turns = build_turns(_asr(words), spans)
    assert [(t.speaker, t.text) for t in turns] == [
        ("SPEAKER_1", "et comment vous avez choisi"),
        ("SPEAKER_2", "ben on a comparé trois offres en ligne puis voilà"),
    ]
