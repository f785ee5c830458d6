"""What reviewers may type in a review sheet, and the label it means.

Reviewers are French researchers typing into a spreadsheet: they write ``Habitude``,
``anxiété``, ``Déclencheur``, ``Push`` or ``émotionnel social`` rather than the ids of
:mod:`pipeline.labels`. Every value is compared after :func:`normalise` (accents, case,
spaces, ``_``/``-``/``/`` and surrounding punctuation do not matter), against the table
below: one entry per label of :mod:`pipeline.labels`, each listing the label id itself,
its French names and the usual variants. The README's review section shows this table.

A value that matches nothing is an error, never a guess: the import of the sheet stops
with the accepted values (see :func:`accepted_values`). A word that would be ambiguous
(a bare ``émotionnel``: personal or social?) is deliberately left out for that reason.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.labels import FORCES, JOB_TYPES, PHASES

TAG_FIELDS: tuple[str, ...] = ("phase", "force", "job_type")
LABELS: dict[str, tuple[str, ...]] = {"phase": PHASES, "force": FORCES, "job_type": JOB_TYPES}

_NONE_WORDS = (
    "none",
    "aucun",
    "rien",
    "aucune",
    "néant",
    "sans",
    "neutre",
    "pas de force",
    "pas de job",
    "n/a",
    "na",
    "nothing",
    "-",
)

# field -> label -> what a reviewer may write for it: the label id first, then its two
# main French names (shown in error messages), then variants.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "phase": {
        "before": (
            "before",
            "avant",
            "auparavant",
            "passé",
            "ancienne situation",
            "situation initiale",
            "situation d'avant",
            "first thought",
            "première pensée",
            "première idée",
        ),
        "trigger": (
            "trigger",
            "déclencheur",
            "élément déclencheur",
            "événement déclencheur",
            "déclenchement",
            "événement",
            "déclic",
        ),
        "exploring": (
            "exploring",
            "exploration",
            "recherche",
            "explore",
            "explorer",
            "chercher",
            "comparaison",
            "comparer",
            "alternatives",
            "passive looking",
            "active looking",
            "searching",
        ),
        "deciding": (
            "deciding",
            "décision",
            "choix",
            "décider",
            "decide",
            "decision",
            "prise de décision",
            "choisir",
            "achat",
            "acheter",
            "purchase",
        ),
        "after": (
            "after",
            "après",
            "usage",
            "utilisation",
            "aujourd'hui",
            "maintenant",
            "consommation",
            "consuming",
        ),
    },
    "force": {
        "push": (
            "push",
            "poussée",
            "insatisfaction",
            "pousser",
            "pousse",
            "frustration",
            "douleur",
            "pain",
        ),
        "pull": ("pull", "attraction", "attirance", "attrait", "tirer", "aimant"),
        "habit": ("habit", "habitude", "inertie", "habits", "habitudes", "routine", "attachement"),
        "anxiety": (
            "anxiety",
            "anxiété",
            "peur",
            "anxieties",
            "anxiétés",
            "peurs",
            "crainte",
            "craintes",
            "inquiétude",
            "inquiétudes",
            "angoisse",
            "doute",
            "doutes",
            "fear",
        ),
        "none": _NONE_WORDS,
    },
    "job_type": {
        "functional": (
            "functional",
            "fonctionnel",
            "fonctionnelle",
            "job fonctionnel",
            "fonction",
            "pratique",
        ),
        "emotional_personal": (
            "emotional_personal",
            "émotionnel personnel",
            "perso",
            "émotionnelle personnelle",
            "emotional personal",
            "personal",
            "émotionnel perso",
            "émotion personnelle",
            "personnel",
            "personnelle",
            "ressenti",
        ),
        "emotional_social": (
            "emotional_social",
            "émotionnel social",
            "social",
            "émotionnelle sociale",
            "emotional social",
            "émotion sociale",
            "sociale",
            "image",
            "regard des autres",
        ),
        "related": (
            "related",
            "lié",
            "contrainte",
            "liée",
            "job lié",
            "connexe",
            "contexte",
            "contraintes",
            "annexe",
            "associé",
        ),
        "none": _NONE_WORDS,
    },
}

_PUNCT_EDGES = " \t\"'«»“”‘’()[]{}.,;:!?*"
_SEPARATORS_RE = re.compile(r"[\s_\-/]+")
_DASHES = {"-", "–", "—", "/"}


def normalise(value: str) -> str:
    """The comparable form of a cell: no accents, lower case, single spaces.

    ``" Émotionnel-Personnel. "`` and ``"emotional_personal"`` become
    ``"emotionnel personnel"`` and ``"emotional personal"``. A lone dash stays ``"-"``
    (reviewers use it for "none").
    """
    text = value.strip()
    if text in _DASHES:
        return "-"
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("œ", "oe"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.strip(_PUNCT_EDGES)
    return _SEPARATORS_RE.sub(" ", text).strip()


def _build_index() -> dict[str, dict[str, str]]:
    index: dict[str, dict[str, str]] = {}
    for fld, table in SYNONYMS.items():
        lookup: dict[str, str] = {}
        for label, words in table.items():
            for word in (label, *words):
                key = normalise(word)
                if lookup.get(key, label) != label:  # pragma: no cover - a table typo
                    raise ValueError(f"{fld}: {word!r} means both {lookup[key]} and {label}")
                lookup[key] = label
        index[fld] = lookup
    return index


_INDEX = _build_index()


def canonical_label(field: str, value: str) -> str | None:
    """The label id that ``value`` means in column ``field``, or ``None`` if none.

    ``canonical_label("force", "Anxiété")`` is ``"anxiety"``;
    ``canonical_label("phase", "push")`` is ``None`` (push is a force, not a phase).
    """
    return _INDEX[field].get(normalise(value))


def fields_accepting(value: str) -> list[str]:
    """The tag columns in which ``value`` would be valid (to explain a wrong column)."""
    key = normalise(value)
    return [fld for fld in TAG_FIELDS if key in _INDEX[fld]]


def accepted_values(field: str) -> str:
    """The accepted values of a column, for error messages: ids and main French names."""
    parts = []
    for label in LABELS[field]:
        french = [w for w in SYNONYMS[field][label] if w != label][:2]
        parts.append(f"{label} ({', '.join(french)})" if french else label)
    return "; ".join(parts)


# The "checked" column: the reviewer marks a row as read and right.
_YES = {"x", "oui", "o", "yes", "y", "ok", "1", "vrai", "true", "v", "✓", "✔", "fait", "relu",
        "verifie", "valide", "checked", "done"}  # fmt: skip
_NO = {"", "non", "no", "n", "0", "faux", "false"}
CHECKED_ACCEPTED = "oui, x or ok (the row is checked), or empty"


def parse_checked(value: str) -> bool | None:
    """``True``/``False`` for a cell of the ``checked`` column, ``None`` if unreadable."""
    raw = value.strip()
    key = raw if raw in {"✓", "✔"} else normalise(raw)
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None
