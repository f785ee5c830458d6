"""What a tagger is, and the small helpers every tagger shares.

A tagger tags ONE interview: its sentences in order and their parsed spaCy docs. The
rule tagger (:mod:`pipeline.tagging.rules`) is one implementation; trained classifiers
plug in either as a whole :class:`Tagger` or as a :class:`SentenceScorer` that
replaces one rule component (forces or job types) inside :class:`~.rules.RuleTagger`.
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

from spacy.tokens import Doc

from pipeline.records import Sentence


@runtime_checkable
class Tagger(Protocol):
    """Sets ``phase``, ``force``, ``job_type`` and their scores on one interview's sentences."""

    def __call__(self, sentences: list[Sentence], docs: list[Doc]) -> list[Sentence]: ...


@runtime_checkable
class SentenceScorer(Protocol):
    """Labels one interviewee sentence on one dimension: ``(label, confidence in [0, 1])``.

    ``label`` is one of the dimension's labels, ``"none"`` included.
    """

    def predict(self, doc: Doc) -> tuple[str, float]: ...


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def combine(weights: list[float]) -> float:
    """Evidence of several cues for one label: the strongest plus half of the others."""
    if not weights:
        return 0.0
    top = max(weights)
    return top + 0.5 * (sum(weights) - top)


def confidence(evidence: dict[str, float], *, slope: float = 2.0, centre: float = 0.9) -> tuple[
    str | None, float
]:
    """Best label and a confidence from cue evidence.

    ``sigmoid(slope * (best - centre))`` (one plain cue of weight 1 gives ~0.55, a strong
    phrase of weight 2 ~0.9), shrunk by the share of the runner-up when two labels
    compete. Returns ``(None, 0.0)`` when there is no evidence at all.
    """
    ranked = sorted(((v, k) for k, v in evidence.items() if v > 0), reverse=True)
    if not ranked:
        return None, 0.0
    best, label = ranked[0]
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    return label, sigmoid(slope * (best - centre)) * best / (best + second)
