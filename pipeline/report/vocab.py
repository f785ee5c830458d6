"""French names and colours of the labels, for the report and the exports (defined once).

The label ids stay those of :mod:`pipeline.labels`; only what a researcher reads is
French. Colours are shared by the HTML report and the REFI-QDA codes, so a phase or a
force has the same colour in the report and in ATLAS.ti, NVivo, MAXQDA or QualCoder.
"""

from __future__ import annotations

from pipeline.labels import FORCES, JOB_TYPES, NONE, PHASES

PHASE_FR: dict[str, str] = {
    "before": "Avant",
    "trigger": "Déclencheur",
    "exploring": "Exploration",
    "deciding": "Décision",
    "after": "Après",
}
FORCE_FR: dict[str, str] = {
    "push": "Push",
    "pull": "Pull",
    "habit": "Habitude",
    "anxiety": "Anxiété",
    "none": "Aucune",
}
FORCE_HINT_FR: dict[str, str] = {
    "push": "insatisfaction de la situation actuelle",
    "pull": "attrait de la nouvelle solution",
    "habit": "attachement à l'existant",
    "anxiety": "peur ou incertitude face au changement",
}
JOB_TYPE_FR: dict[str, str] = {
    "functional": "Fonctionnel",
    "emotional_personal": "Émotionnel (personnel)",
    "emotional_social": "Émotionnel (social)",
    "related": "Contexte et contraintes",
    "none": "Aucun",
}
ROLE_FR: dict[str, str] = {"interviewer": "Intervieweur", "interviewee": "Interviewé(e)"}
KIND_FR: dict[str, str] = {"audio": "audio", "text": "transcription"}

PHASE_COLORS: dict[str, str] = {
    "before": "#8c9cb0",
    "trigger": "#e8a33d",
    "exploring": "#4c9bd6",
    "deciding": "#8a63c9",
    "after": "#3aa76d",
}
FORCE_COLORS: dict[str, str] = {
    "push": "#d9534f",
    "pull": "#2e86de",
    "habit": "#8e6c4a",
    "anxiety": "#f0932b",
}
FORCE_SYMBOLS: dict[str, str] = {
    "push": "triangle-right",
    "pull": "star",
    "habit": "square",
    "anxiety": "diamond",
}
JOB_TYPE_COLORS: dict[str, str] = {
    "functional": "#16a085",
    "emotional_personal": "#c0392b",
    "emotional_social": "#8e44ad",
    "related": "#7f8c8d",
}
# Segment colours (cycled): a qualitative palette that stays readable on white.
SEGMENT_PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#17becf", "#bcbd22", "#393b79", "#ad494a", "#637939", "#7b4173", "#3182bd",
)
UNASSIGNED_COLOR = "#c7c7c7"

FORCE_IDS: tuple[str, ...] = tuple(f for f in FORCES if f != NONE)
JOB_TYPE_IDS: tuple[str, ...] = tuple(j for j in JOB_TYPES if j != NONE)
assert set(PHASE_FR) == set(PHASES) and set(FORCE_FR) == set(FORCES)
assert set(JOB_TYPE_FR) == set(JOB_TYPES)


def segment_color(position: int) -> str:
    """The colour of the segment at ``position`` in the segments table."""
    return SEGMENT_PALETTE[position % len(SEGMENT_PALETTE)]


def fr_number(value: float | int | None, digits: int = 0) -> str:
    """A number written the French way: ``1 234,5`` (narrow no-break space, decimal comma)."""
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def fr_percent(share: float | None, digits: int = 0) -> str:
    """``0.256`` -> ``26 %`` (with a no-break space, as French typography wants)."""
    if share is None:
        return "–"
    return f"{fr_number(100 * share, digits)}\u00a0%"


def clock(seconds: float | None) -> str:
    """``83.6`` -> ``01:23`` (floored, as audio players show it); ``3723`` -> ``1:02:03``."""
    if seconds is None:
        return ""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def fr_duration(seconds: float | None) -> str:
    """``4000`` -> ``1 h 06 min``; ``95`` -> ``1 min 35 s``; ``None`` -> ``–``."""
    if seconds is None:
        return "–"
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}\u00a0h\u00a0{m:02d}\u00a0min"
    if m:
        return f"{m}\u00a0min\u00a0{s:02d}\u00a0s"
    return f"{s}\u00a0s"
