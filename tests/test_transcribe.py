"""Audio decoding and speech recognition: pure word joining, decode errors, model errors,
and the real Whisper base model on the committed two-voice clip (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.audio import SAMPLE_RATE, audio_duration, decode_audio
from pipeline.config import TranscribeConfig
from pipeline.errors import E_EMPTY, E_NO_SPEECH, InputError, ModelError
from pipeline.labels import INTERVIEWEE, INTERVIEWER
from pipeline.records import Word
from pipeline.transcribe import get_transcriber, join_apostrophes, transcribe_audio_file


def _words(*pieces: tuple[str, float, float]) -> list[Word]:
    return [Word(start, end, text, probability=0.9) for text, start, end in pieces]


# ---------------------------------------------------------------- apostrophes (no model)

def test_join_piece_starting_with_apostrophe():
    words = _words(
        ("C'est", 0.0, 0.3), ("aujourd", 0.3, 0.6), ("'hui", 0.6, 0.8), ("mardi", 0.9, 1.2)
    )
    out = join_apostrophes(words)
    assert [w.text for w in out] == ["C'est", "aujourd'hui", "mardi"]
    assert (out[1].start, out[1].end) == (0.3, 0.8)


def test_join_after_piece_ending_with_apostrophe_and_curly_apostrophe():
    words = _words(
        ("l'", 1.0, 1.1), ("idée", 1.1, 1.5), ("j", 2.0, 2.1), ("’ai", 2.1, 2.3), ("aimé", 2.3, 2.6)
    )
    out = join_apostrophes(words)
    assert [w.text for w in out] == ["l'idée", "j’ai", "aimé"]
    assert [(w.start, w.end) for w in out] == [(1.0, 1.5), (2.0, 2.3), (2.3, 2.6)]


def test_join_hyphen_pieces_keeps_lowest_probability_and_input():
    words = [Word(0.0, 0.2, "c'est", 0.9), Word(0.2, 0.3, "-à", 0.4), Word(0.3, 0.5, "-dire", 0.8),
             Word(0.6, 0.9, "avez", 0.9), Word(0.9, 1.1, "-vous", 0.7), Word(1.2, 1.3, "-", 0.5)]
    out = join_apostrophes(words)
    assert [w.text for w in out] == ["c'est-à-dire", "avez-vous", "-"]
    assert out[0].probability == pytest.approx(0.4)
    assert words[0].text == "c'est"  # the input is not modified


def test_plain_words_and_blanks_untouched():
    words = _words(
        (" bonjour", 0.0, 0.4), ("  ", 0.4, 0.5), ("vous", 0.5, 0.7), ("allez", 0.7, 1.0)
    )
    assert [w.text for w in join_apostrophes(words)] == ["bonjour", "vous", "allez"]
    assert join_apostrophes([]) == []


# ---------------------------------------------------------------- decoding

def test_decode_empty_file(tmp_path):
    path = tmp_path / "entretien_vide.mp3"
    path.write_bytes(b"")
    with pytest.raises(InputError) as err:
        decode_audio(path)
    assert err.value.problem == E_EMPTY
    assert "entretien_vide.mp3" in str(err.value)


def test_decode_corrupt_file(tmp_path):
    path = tmp_path / "entretien_corrompu.m4a"
    path.write_bytes(b"ceci n'est pas un fichier audio" * 20)
    with pytest.raises(InputError) as err:
        decode_audio(path)
    assert "entretien_corrompu.m4a" in str(err.value)
    assert "cannot decode the audio" in err.value.problem


def test_decode_fixture(data_dir):
    audio = decode_audio(data_dir / "audio" / "two_voices.wav")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio_duration(audio) == pytest.approx(16.62, abs=0.05)
    assert 0.01 < float(np.abs(audio).max()) <= 1.0


# ---------------------------------------------------------------- model errors (no model)

@pytest.mark.parametrize("name", ["models/nowhere-whisper", "large-v3"])
def test_missing_model_without_download_is_a_model_error(name):
    cfg = TranscribeConfig(model=name, allow_download=False)
    with pytest.raises(ModelError) as err:
        get_transcriber(cfg)
    message = str(err.value)
    assert "make setup" in message and "allow_download" in message and name in message


def test_folder_that_is_not_a_model(tmp_path):
    with pytest.raises(ModelError, match="model.bin"):
        get_transcriber(TranscribeConfig(model=str(tmp_path)))


# ---------------------------------------------------------------- the real model (slow)

@pytest.fixture(scope="session")
def whisper():
    """The Whisper base model, loaded once for the session (skipped if not installed)."""
    cfg = TranscribeConfig(progress=False)
    try:
        return get_transcriber(cfg)
    except ModelError as exc:
        pytest.skip(f"Whisper base model not installed (make setup): {exc}")


@pytest.fixture(scope="session")
def two_voices_asr(whisper, data_dir):
    path = data_dir / "audio" / "two_voices.wav"
    return whisper.transcribe(decode_audio(path), str(path))


@pytest.mark.slow
def test_whisper_on_two_voices(two_voices_asr):
    asr = two_voices_asr
    assert asr.language == "fr"
    assert asr.duration == pytest.approx(16.62, abs=0.05)
    text = " ".join(w.text for w in asr.words).lower()
    for expected in ("samedi", "matin", "matinée", "qu'est-ce", "suis"):
        assert expected in text
    starts = [w.start for w in asr.words]
    assert starts == sorted(starts)
    assert all(w.end >= w.start for w in asr.words)
    assert 0.0 <= starts[0] < 1.5 and asr.words[-1].end <= asr.duration + 0.1
    # elisions come out whole
    assert not any(w.text.startswith(("'", "’")) for w in asr.words)


@pytest.mark.slow
def test_transcriber_is_cached(whisper):
    assert get_transcriber(TranscribeConfig(progress=False)) is whisper
    other = get_transcriber(TranscribeConfig(progress=False, beam_size=1))
    assert other is not whisper and other.model is whisper.model  # loaded once


@pytest.mark.slow
def test_silence_is_no_speech(whisper):
    with pytest.raises(InputError) as err:
        whisper.transcribe(np.zeros(3 * SAMPLE_RATE, dtype=np.float32), "silence.wav")
    assert err.value.problem == E_NO_SPEECH and err.value.path == "silence.wav"


@pytest.mark.slow
def test_transcribe_audio_file_two_voices(whisper, data_dir, config):
    path = data_dir / "audio" / "two_voices.wav"
    cfg = config.model_copy(update={"transcribe": TranscribeConfig(progress=False)})
    tr = transcribe_audio_file(path, cfg, transcriber=whisper)
    assert (tr.interview_id, tr.kind, tr.language) == ("two_voices", "audio", "fr")
    assert tr.speakers == ["SPEAKER_1", "SPEAKER_2"]
    assert [t.speaker for t in tr.turns] == ["SPEAKER_1", "SPEAKER_2", "SPEAKER_1", "SPEAKER_2"]
    assert tr.roles == {"SPEAKER_1": INTERVIEWER, "SPEAKER_2": INTERVIEWEE}
    assert all(w.speaker == t.speaker for t in tr.turns for w in t.words)


def test_device_resolution_cpu_and_cuda_without_gpu():
    """`auto` falls back to the CPU, a GPU-only compute type falls back to `default`, and
    asking for CUDA where CTranslate2 sees no GPU is a clear ModelError (not a crash)."""
    import ctranslate2

    from pipeline.errors import ModelError
    from pipeline.transcribe import _resolve_device

    assert _resolve_device("cpu", "int8") == ("cpu", "int8")
    assert _resolve_device("cpu", "float16") == ("cpu", "default")
    if ctranslate2.get_cuda_device_count() == 0:
        assert _resolve_device("auto", "int8")[0] == "cpu"
        with pytest.raises(ModelError, match="cuda"):
            _resolve_device("cuda", "float16")
    else:  # on a GPU machine the CUDA path resolves
        assert _resolve_device("cuda", "float16") == ("cuda", "float16")
