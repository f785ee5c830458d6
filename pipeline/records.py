"""The typed records that cross stage boundaries, and the output column names, defined once.

Stages exchange these dataclasses (in memory) and their JSON form (on disk, under
``OUTPUT_DIR/interim``). spaCy objects never leave the NLP stages; pandas DataFrames
appear only at the output-file boundary (:mod:`pipeline.outputs`), built from
:data:`SENTENCE_COLUMNS` and friends so a column is named in one place only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


def _from_dict(cls, data: dict[str, Any]):
    """Build a dataclass from a dict, ignoring unknown keys (forward compatible JSON)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(slots=True)
class Word:
    """One recognised word with its time span (seconds) and, after diarization, its speaker."""

    start: float
    end: float
    text: str
    probability: float = 1.0
    speaker: str | None = None


@dataclass(slots=True)
class Turn:
    """One speaker turn: what one speaker says before the other one takes over.

    ``start``/``end`` are ``None`` when the source has no times (plain transcripts
    without timestamps). ``words`` is filled for audio only.
    """

    index: int
    speaker: str
    text: str
    start: float | None = None
    end: float | None = None
    words: list[Word] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        turn = _from_dict(cls, data)
        turn.words = [_from_dict(Word, w) for w in data.get("words", [])]
        return turn


@dataclass(slots=True)
class Transcript:
    """An interview as turns, whatever its source (audio, .txt, .vtt, .srt).

    This is the boundary between ingestion/transcription and the text stages: a
    researcher-corrected transcript dropped back in becomes the same record.
    """

    interview_id: str
    source: str
    kind: str  # "audio" or "text"
    turns: list[Turn]
    language: str = "fr"
    duration: float | None = None
    speakers: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)  # speaker -> interviewer/interviewee
    # audio only: Whisper's own segments (start, end, text), kept for reference
    asr_segments: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        tr = _from_dict(cls, data)
        tr.turns = [Turn.from_dict(t) for t in data.get("turns", [])]
        return tr


@dataclass(slots=True)
class Sentence:
    """One sentence of one turn, with its tags. The unit that reviewers correct.

    ``sentence_id`` is derived from the interview id and the sentence text (plus an
    occurrence number for repeated sentences), so it survives re-runs and edits
    elsewhere in the transcript; a reviewer's correction always finds its sentence.
    ``lemmas`` (space separated, content words) feeds segment keywords and is not an
    output column.
    """

    interview_id: str
    sentence_id: str
    turn: int
    index: int  # position of the sentence in the interview, 0-based
    speaker: str
    role: str
    text: str
    start: float | None = None
    end: float | None = None
    phase: str = "before"
    phase_score: float = 0.0
    force: str = "none"
    force_score: float = 0.0
    job_type: str = "none"
    job_type_score: float = 0.0
    segment_id: str | None = None
    lemmas: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sentence:
        return _from_dict(cls, data)


@dataclass(slots=True)
class Quote:
    """A sentence that supports a job segment, ranked by closeness to the segment."""

    segment_id: str
    rank: int
    interview_id: str
    sentence_id: str
    speaker: str
    start: float | None
    end: float | None
    text: str
    similarity: float


@dataclass(slots=True)
class Segment:
    """A job segment: sentences from one or more interviews that pursue the same job."""

    segment_id: str
    label: str
    job_statement: str
    n_sentences: int
    n_interviews: int
    interviews: list[str]
    frequency: float
    pain: float
    dissatisfaction: float
    priority: float
    forces: dict[str, int] = field(default_factory=dict)
    job_types: dict[str, int] = field(default_factory=dict)
    # each member interview's main job in its own customer's words (interview -> statement)
    interview_statements: dict[str, str] = field(default_factory=dict)


# Output columns, in order. Tests and downstream tools rely on these exact names.
SENTENCE_COLUMNS: list[str] = [
    "interview_id",
    "sentence_id",
    "turn",
    "speaker",
    "role",
    "start",
    "end",
    "text",
    "phase",
    "force",
    "job_type",
    "segment_id",
    "phase_score",
    "force_score",
    "job_type_score",
]
SEGMENT_COLUMNS: list[str] = [
    "segment_id",
    "label",
    "job_statement",
    "n_interviews",
    "n_sentences",
    "interviews",
    "frequency",
    "pain",
    "dissatisfaction",
    "priority",
    "forces",
    "job_types",
]
QUOTE_COLUMNS: list[str] = [
    "segment_id",
    "rank",
    "interview_id",
    "sentence_id",
    "speaker",
    "start",
    "end",
    "text",
    "similarity",
]
INTERVIEW_COLUMNS: list[str] = [
    "interview_id",
    "source",
    "kind",
    "duration",
    "language",
    "speakers",
    "interviewer",
    "n_turns",
    "n_sentences",
    "n_interviewee_sentences",
    *[f"phase_{p}" for p in ("before", "trigger", "exploring", "deciding", "after")],
    *[f"force_{f}" for f in ("push", "pull", "habit", "anxiety")],
    "main_segment_id",
    "main_job",
]
