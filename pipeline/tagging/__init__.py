"""Tagging stage: phase (sequence model), force and job type of every sentence.

``RuleTagger(nlp, cfg)(sentences, docs)`` tags one interview; lexicons live in
``tagging/lexicons/*.yaml`` (French, commented, extensible by researchers).
"""

from pipeline.tagging.base import SentenceScorer, Tagger
from pipeline.tagging.rules import (
    ForceRules,
    JobRules,
    PhaseRules,
    RuleTagger,
    get_tagger,
    tag_interview,
)
from pipeline.tagging.sequence import SequencePrior, decode

__all__ = [
    "ForceRules",
    "JobRules",
    "PhaseRules",
    "RuleTagger",
    "SentenceScorer",
    "SequencePrior",
    "Tagger",
    "decode",
    "get_tagger",
    "tag_interview",
]
