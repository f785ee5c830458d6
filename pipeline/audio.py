"""Audio decoding: any recording a researcher drops in becomes float32 mono 16 kHz samples.

Decoding goes through PyAV (``faster_whisper.decode_audio``), which ships its own FFmpeg
libraries, so no system ``ffmpeg`` is needed. Every failure becomes an
:class:`~pipeline.errors.InputError` naming the file, so a batch records it and goes on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.errors import E_DECODE_AUDIO, E_EMPTY, InputError

SAMPLE_RATE = 16000


def decode_audio(path: str | Path, sampling_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode an audio (or video) file to float32 mono samples at ``sampling_rate``.

    Raises :class:`InputError` with :data:`E_EMPTY` for a zero-byte file and with
    :data:`E_DECODE_AUDIO` for anything that cannot be decoded (corrupt, truncated, not
    audio, no audio stream, no samples).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(path, E_DECODE_AUDIO.format(detail=exc.strerror or str(exc))) from exc
    if size == 0:
        raise InputError(path, E_EMPTY)

    from faster_whisper import decode_audio as _decode  # heavy import (PyAV), only when needed

    try:
        samples = _decode(str(path), sampling_rate=sampling_rate)
    except Exception as exc:  # PyAV raises many types (InvalidDataError, ValueError, ...)
        # PyAV's OSError subclasses repeat the path in str(); strerror is the clean reason.
        detail = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
        raise InputError(path, E_DECODE_AUDIO.format(detail=detail)) from exc
    if samples is None or len(samples) == 0:
        raise InputError(path, E_DECODE_AUDIO.format(detail="no audio samples in the file"))
    return np.ascontiguousarray(samples, dtype=np.float32)


def audio_duration(audio: np.ndarray, sampling_rate: int = SAMPLE_RATE) -> float:
    """Duration in seconds of decoded samples."""
    return float(len(audio)) / float(sampling_rate)
