"""Speech recognition with faster-whisper, and the whole audio-to-:class:`Transcript` step.

The ASR backend is a small protocol (:class:`Transcriber`); the real one,
:class:`WhisperTranscriber`, wraps faster-whisper (CTranslate2). It never downloads a
model unless ``transcribe.allow_download`` is true: the default model is the local
``models/whisper-base`` folder that ``make setup`` installs.

Measured on a 2-core CPU (``smartphone.mp3``, 178 s of French, Whisper base int8, beam 5,
VAD, word timestamps): ``BatchedInferencePipeline`` takes ~14 s, the plain sequential
model ~30 s, hence ``batched: true`` by default.

faster-whisper yields its segments lazily; :meth:`WhisperTranscriber.transcribe` iterates
them under a progress bar counted in audio minutes, then joins the word pieces that
French elisions leave behind (``aujourd`` + ``'hui``) with :func:`join_apostrophes`.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from pipeline.audio import SAMPLE_RATE, audio_duration, decode_audio
from pipeline.config import Config, TranscribeConfig, resolve_path
from pipeline.errors import E_NO_SPEECH, InputError, ModelError
from pipeline.records import Transcript, Word

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)

APOSTROPHES = ("'", "’")


@dataclass(slots=True)
class AsrSegment:
    """One decoded Whisper segment with its words (apostrophe pieces already joined)."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass(slots=True)
class AsrResult:
    """What the recogniser heard in one recording."""

    language: str
    language_probability: float
    duration: float
    segments: list[AsrSegment] = field(default_factory=list)

    @property
    def words(self) -> list[Word]:
        """All words of all segments, in time order."""
        return [w for seg in self.segments for w in seg.words]


class Transcriber(Protocol):
    """Anything that turns 16 kHz mono float32 samples into an :class:`AsrResult`.

    ``source`` names the recording in progress bars and errors. Implementations raise
    :class:`InputError` (with :data:`E_NO_SPEECH`) when nothing is heard.
    """

    def transcribe(self, audio: np.ndarray, source: str) -> AsrResult: ...


def _continues(prev: str, text: str) -> bool:
    """Whether ``text`` is the rest of the word ``prev`` (split at an apostrophe/hyphen)."""
    if text.startswith(APOSTROPHES) or prev.endswith(APOSTROPHES):
        return True
    # c'est + -à + -dire, avez + -vous, peut- + être: a hyphen glued to a letter
    return (len(text) > 1 and text[0] == "-" and text[1].isalpha()) or (
        len(prev) > 1 and prev.endswith("-") and prev[-2].isalpha() and text[0].isalpha()
    )


def join_apostrophes(words: list[Word]) -> list[Word]:
    """Join French word pieces split at an apostrophe into one :class:`Word`.

    Whisper's word timestamps often cut elisions in two: ``aujourd`` + ``'hui``,
    ``l`` + ``'idée``, ``j`` + ``'ai`` (or ``l'`` + ``idée``). A piece that starts with an
    apostrophe (``'`` or ``’``), or that follows a piece ending with one, is glued to the
    previous piece; so is a piece glued to it by a hyphen (``c'est`` + ``-à`` + ``-dire``).
    The joined word spans both times and keeps the lower probability.
    The input list is not modified.
    """
    out: list[Word] = []
    for word in words:
        text = word.text.strip()
        if out and text and _continues(out[-1].text, text):
            prev = out[-1]
            out[-1] = Word(
                start=min(prev.start, word.start),
                end=max(prev.end, word.end),
                text=prev.text + text,
                probability=min(prev.probability, word.probability),
                speaker=prev.speaker,
            )
        elif text:
            out.append(Word(word.start, word.end, text, word.probability, word.speaker))
    return out


def _progress_bar(total_s: float, desc: str, enabled: bool):
    """A tqdm bar counted in audio minutes (or a silent stand-in)."""
    from tqdm.auto import tqdm

    return tqdm(
        total=round(total_s / 60.0, 2),
        desc=desc,
        unit="min",
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} audio min "
        "[{elapsed}<{remaining}]",
        disable=not enabled,
        leave=False,
    )


def _resolve_device(device: str, compute_type: str) -> tuple[str, str]:
    """The device and a compute type that this device really supports.

    ``auto`` picks CUDA when CTranslate2 sees a GPU. A compute type the device cannot run
    (``float16`` on CPU, say) falls back to CTranslate2's ``default`` for that device
    instead of failing, so one config works on a laptop and on a GPU server.
    """
    import ctranslate2

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if device == "cuda" and ctranslate2.get_cuda_device_count() == 0:
        raise ModelError(
            "transcribe.device is 'cuda' but CTranslate2 finds no CUDA GPU; "
            "set transcribe.device to cpu or auto"
        )
    supported = ctranslate2.get_supported_compute_types(device)
    if compute_type not in ("default", "auto") and compute_type not in supported:
        log.warning(
            "compute_type %r is not supported on %s (supported: %s); using 'default'",
            compute_type,
            device,
            ", ".join(sorted(supported)),
        )
        compute_type = "default"
    return device, compute_type


def _model_source(cfg: TranscribeConfig) -> tuple[str, bool]:
    """Where to load the model from: ``(path_or_name, local_files_only)``.

    Raises :class:`ModelError` when the model is not a local folder and downloads are off.
    """
    local = resolve_path(cfg.model)
    if local is not None:
        if not (local.is_dir() and (local / "model.bin").exists()):
            raise ModelError(
                f"transcribe.model {cfg.model!r} ({local}) is not a CTranslate2 Whisper model "
                "folder (no model.bin); run `make setup` or point it to a converted model"
            )
        return str(local), True
    if not cfg.allow_download:
        raise ModelError(
            f"Whisper model {cfg.model!r} not found locally and downloads are off. "
            "Run `make setup` to install the offline base model in models/whisper-base, "
            "set transcribe.model to a local CTranslate2 model folder, or set "
            "transcribe.allow_download: true to let faster-whisper fetch "
            f"{cfg.model!r} from the Hugging Face Hub."
        )
    return cfg.model, False


def whisper_threads(cfg: TranscribeConfig) -> int:
    """CPU threads for CTranslate2: ``cpu_threads``, or 0 = one per core.

    CTranslate2's own default (4) oversubscribes small machines: on 2 cores, with the
    speaker embedding and the text models loading beside it, 2 threads took 50.8 s
    against 57.3 s for a 10.5-minute recording.
    """
    if cfg.cpu_threads:
        return cfg.cpu_threads
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        return max(1, os.cpu_count() or 1)


def load_whisper_model(cfg: TranscribeConfig) -> WhisperModel:
    """Load the faster-whisper model named by ``cfg`` (see :func:`_model_source`)."""
    source, local_only = _model_source(cfg)
    device, compute_type = _resolve_device(cfg.device, cfg.compute_type)
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(
            source,
            device=device,
            compute_type=compute_type,
            cpu_threads=whisper_threads(cfg),
            local_files_only=local_only,
        )
    except Exception as exc:  # CTranslate2/huggingface_hub raise many types
        raise ModelError(f"cannot load the Whisper model {cfg.model!r}: {exc}") from exc


class WhisperTranscriber:
    """The faster-whisper backend: VAD, word timestamps, batched inference on request."""

    def __init__(self, cfg: TranscribeConfig, model: WhisperModel | None = None):
        self.cfg = cfg
        self.model = model if model is not None else load_whisper_model(cfg)
        self._pipeline = None
        if cfg.batched:
            from faster_whisper import BatchedInferencePipeline

            self._pipeline = BatchedInferencePipeline(self.model)

    def _segments(self, audio: np.ndarray):
        cfg = self.cfg
        options: dict[str, Any] = dict(
            language=cfg.language,
            beam_size=cfg.beam_size,
            vad_filter=cfg.vad_filter,
            word_timestamps=cfg.word_timestamps,
        )
        if self._pipeline is not None:
            return self._pipeline.transcribe(audio, batch_size=cfg.batch_size, **options)
        return self.model.transcribe(audio, **options)

    def transcribe(self, audio: np.ndarray, source: str) -> AsrResult:
        """Transcribe samples (16 kHz mono float32); ``source`` names the file."""
        duration = audio_duration(audio)
        segments, info = self._segments(audio)  # lazy: decoding happens in the loop below
        result = AsrResult(
            language=info.language,
            language_probability=float(info.language_probability),
            duration=float(info.duration or duration),
        )
        done = 0.0
        with _progress_bar(duration, Path(source).name, self.cfg.progress) as bar:
            for seg in segments:
                words = [
                    Word(float(w.start), float(w.end), w.word, float(w.probability))
                    for w in (seg.words or [])
                ]
                result.segments.append(
                    AsrSegment(
                        float(seg.start), float(seg.end), seg.text.strip(), join_apostrophes(words)
                    )
                )
                step = round(min(seg.end, duration) / 60.0, 2) - done
                if step > 0:
                    bar.update(step)
                    done += step
        result.segments = [s for s in result.segments if s.text or s.words]
        if not result.segments or (self.cfg.word_timestamps and not result.words):
            raise InputError(source, E_NO_SPEECH)
        return result


_CACHE: dict[str, WhisperTranscriber] = {}
_CACHE_LOCK = threading.Lock()


def get_transcriber(cfg: TranscribeConfig) -> WhisperTranscriber:
    """The transcriber for ``cfg``, built once per process and configuration.

    Worker processes each load the model on their first interview and reuse it; the
    model itself is shared between configs that differ only in decoding options.
    """
    key = cfg.model_dump_json()
    with _CACHE_LOCK:
        if key not in _CACHE:
            load_keys = ("model", "device", "compute_type", "cpu_threads", "allow_download")
            model = next(
                (
                    t.model
                    for t in _CACHE.values()
                    if all(getattr(t.cfg, k) == getattr(cfg, k) for k in load_keys)
                ),
                None,
            )
            _CACHE[key] = WhisperTranscriber(cfg, model=model)
        return _CACHE[key]


def clear_transcriber_cache() -> None:
    """Forget the loaded models (tests, or to free memory between runs)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def transcribe_audio_file(
    path: str | Path,
    config: Config,
    transcriber: Transcriber | None = None,
    audio: np.ndarray | None = None,
) -> Transcript:
    """Decode, transcribe and diarize one recording into a :class:`Transcript`.

    Speaker embeddings are computed in a thread while Whisper runs (both release the
    GIL), then clustered over the speech that Whisper found. ``roles`` is filled with
    :func:`pipeline.speakers.assign_roles` (callers may re-assign). ``transcriber``
    defaults to the cached :func:`get_transcriber` for ``config.transcribe``; ``audio``,
    the samples of ``path`` already decoded (:func:`~pipeline.audio.decode_audio`), saves
    decoding it again.

    Raises :class:`InputError` (undecodable file, no speech) and :class:`ModelError`.
    """
    from pipeline import speakers  # speakers imports this module's records

    path = Path(path)
    if audio is None:
        audio = decode_audio(path)
    asr_engine = transcriber if transcriber is not None else get_transcriber(config.transcribe)
    spk_cfg = config.speakers

    embedding = None
    if spk_cfg.diarize:
        embedding = speakers.EmbeddingJob(audio, spk_cfg, sr=SAMPLE_RATE)
        embedding.start()
    try:
        asr = asr_engine.transcribe(audio, str(path))
    finally:
        windows = embedding.result() if embedding is not None else None

    spans = []
    if windows is not None:
        spans = speakers.diarize(
            audio, spk_cfg, sr=SAMPLE_RATE, speech=speakers.speech_regions(asr), windows=windows
        )
    turns = speakers.build_turns(asr, spans)
    order: list[str] = []
    for turn in turns:
        if turn.speaker not in order:
            order.append(turn.speaker)
    transcript = Transcript(
        interview_id=path.stem,
        source=str(path),
        kind="audio",
        turns=turns,
        language=asr.language,
        duration=asr.duration,
        speakers=order,
        asr_segments=[
            {"start": round(seg.start, 3), "end": round(seg.end, 3), "text": seg.text.strip()}
            for seg in asr.segments
        ],
    )
    transcript.roles = speakers.assign_roles(transcript, spk_cfg)
    return transcript
