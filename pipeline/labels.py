"""The label sets of the domain (see ``shared/domain.md``), defined once for the whole project."""

from __future__ import annotations

PHASES: tuple[str, ...] = ("before", "trigger", "exploring", "deciding", "after")
FORCES: tuple[str, ...] = ("push", "pull", "habit", "anxiety", "none")
JOB_TYPES: tuple[str, ...] = (
    "functional",
    "emotional_personal",
    "emotional_social",
    "related",
    "none",
)
ROLES: tuple[str, ...] = ("interviewer", "interviewee")

NONE = "none"
INTERVIEWER = "interviewer"
INTERVIEWEE = "interviewee"
