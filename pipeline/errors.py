"""Errors, kept in one place, with messages that say what is wrong and what to do.

:class:`InputError` is the one a batch survives: it names the interview file and the
problem, the run records it, goes on with the other interviews and exits non-zero at
the end. Everything else (:class:`ConfigError`, :class:`ModelError`) stops the run
before any work, because no interview could succeed.
"""

from __future__ import annotations

from pathlib import Path


class JtbdError(Exception):
    """Base class of the project's errors."""


class ConfigError(JtbdError):
    """The configuration is invalid (raised before any model loads)."""


class ModelError(JtbdError):
    """A model is missing or cannot load; the message says how to install it."""


class InputError(JtbdError):
    """One input file cannot be processed. The batch records it and goes on."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


# Problems, worded once (used in messages and tests).
E_EMPTY = "the file is empty"
E_UNKNOWN_EXT = "unknown file type {ext!r}; expected audio ({audio}) or transcripts ({text})"
E_NO_TURNS = (
    "no recognisable turns; expected lines like 'Label: text' (optionally starting with "
    "[hh:mm:ss]), or WebVTT/SRT cues"
)
E_DECODE_AUDIO = "cannot decode the audio ({detail}); is the file complete and a real audio file?"
E_NO_SPEECH = "no speech was found in the audio (silence only?)"
E_ENCODING = "cannot decode the text as UTF-8 or Windows-1252"
