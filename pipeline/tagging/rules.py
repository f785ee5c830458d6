"""The rule-based tagger: French lexicons + the parse for forces and job types, a
sequence model for phases.

Built once per process (patterns compile when the tagger is made), then called once
per interview. Every rule component is replaceable by a trained scorer (see
:class:`~pipeline.tagging.base.SentenceScorer`).
"""

from __future__ import annotations

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.config import TaggingConfig
from pipeline.labels import FORCES, INTERVIEWER, JOB_TYPES, NONE, PHASES
from pipeline.records import Sentence
from pipeline.tagging.base import SentenceScorer, combine, confidence
from pipeline.tagging.lexicon import CueMatcher, is_negated, load_yaml, words
from pipeline.tagging.sequence import SequencePrior, decode

# Fillers skipped when deciding whether a cue opens the sentence ("bah, avant, ...").
FILLERS = frozenset({"euh", "bah", "ben", "bon", "alors", "et", "donc", "oui", "non", "ouais",
                     "mais", "enfin", "voilà", "en", "fait", "du", "coup", "hum", "hm"})
IMPERFECT_ENDINGS = ("ais", "ait", "aient")


class ForceRules:
    """Force of one interviewee sentence from the ``forces.yaml`` cues and negation.

    - a cue under a negation does not count, unless the cue holds the negation itself;
    - ``negated_push`` verbs count as push when negated ("rien ne marchait");
    - a resolved worry ("ça m'a rassuré") cancels anxiety.
    """

    labels = FORCES

    def __init__(self, nlp: Language, min_score: float):
        lex = load_yaml("forces.yaml")
        entries = {k: lex.get(k) or {} for k in ("push", "pull", "habit", "anxiety", "resolved")}
        self.matcher = CueMatcher(nlp, entries, source="forces.yaml")
        self.questions = CueMatcher(nlp, lex.get("questions") or {}, source="forces.yaml")
        negated = lex.get("negated_push") or {}
        self.negated_push = {k.lower(): float(v) for k, v in negated.items()}
        self._neg_verbs = words(self.negated_push)
        self.min_score = min_score

    def evidence(self, doc: Doc) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        covered: set[int] = set()
        for hit in self.matcher.hits(doc):
            covered.update(range(hit.start, hit.end))
            if not hit.cue.negative and is_negated(doc, hit.start, hit.end):
                continue
            found.setdefault(hit.cue.label, []).append(hit.cue.weight)
        for tok in doc:
            if tok.i in covered or tok.pos_ not in {"VERB", "AUX", "NOUN"}:
                continue
            lemma = tok.lemma_.lower()
            if lemma in self._neg_verbs and is_negated(doc, tok.i, tok.i + 1):
                found.setdefault("push", []).append(self.negated_push[lemma])
        if "resolved" in found:
            found.pop("anxiety", None)
            found.pop("resolved")
        return found

    def question(self, doc: Doc) -> dict[str, float]:
        """Force an interviewer's question asks for ("Qu'est-ce qui manque ?" -> push)."""
        found: dict[str, list[float]] = {}
        for hit in self.questions.hits(doc):
            found.setdefault(hit.cue.label, []).append(hit.cue.weight)
        return {k: max(v) for k, v in found.items()}

    def predict(self, doc: Doc, carried: dict[str, float] | None = None) -> tuple[str, float]:
        """Force and confidence; ``carried`` is evidence carried from the question."""
        ev = {k: combine(v) for k, v in self.evidence(doc).items()}
        for k, v in (carried or {}).items():
            ev[k] = ev.get(k, 0.0) + v
        label, conf = confidence(ev)
        if label is None or conf < self.min_score:
            return NONE, round(1.0 - conf, 4)
        return label, round(conf, 4)


class JobRules:
    """Job type of one interviewee sentence from the ``job_types.yaml`` cues.

    A force found in the sentence adds a little evidence (a pain points at a functional
    job, a fear at an emotional one) but never decides alone.
    """

    labels = JOB_TYPES
    FORCE_HINT = {"push": ("functional", 0.8), "anxiety": ("emotional_personal", 0.6)}

    def __init__(self, nlp: Language, min_score: float):
        lex = load_yaml("job_types.yaml")
        entries = {k: lex.get(k) or {} for k in JOB_TYPES if k != NONE}
        self.matcher = CueMatcher(nlp, entries, source="job_types.yaml")
        self.min_score = min_score

    def evidence(self, doc: Doc, force: str = NONE) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for hit in self.matcher.hits(doc):
            found.setdefault(hit.cue.label, []).append(hit.cue.weight)
        if force in self.FORCE_HINT and found:
            label, w = self.FORCE_HINT[force]
            found.setdefault(label, []).append(w)
        return found

    def predict(self, doc: Doc, force: str = NONE) -> tuple[str, float]:
        ev = {k: combine(v) for k, v in self.evidence(doc, force).items()}
        label, conf = confidence(ev)
        if label is None or conf < self.min_score:
            return NONE, round(1.0 - conf, 4)
        return label, round(conf, 4)


class PhaseRules:
    """Per-sentence phase evidence (log-odds) from cues, verb tense and the last question."""

    OPENING_BOOST = 1.4
    CARRY = 0.5  # share of a question's evidence carried to the answer's first sentence
    CARRY_CAP = 4.0  # ... capped per phase
    CARRY_DECAY = 0.8  # ... and its decay per following sentence
    OWN_CUE = 2.0  # an answer sentence with its own cue this strong for another phase
    OWN_CUE_CARRY = 0.3  # ... keeps only this share of the carry ("Avant, je notais...")
    TENSE = {"imperfect": ("before", 0.35, 0.7), "compound_past": (None, 0.2, 0.4),
             "present": ("after", 0.2, 0.4)}

    def __init__(self, nlp: Language):
        lex = load_yaml("phases.yaml")
        self.questions = CueMatcher(nlp, lex.get("questions") or {}, source="phases.yaml")
        self.cues = CueMatcher(nlp, lex.get("cues") or {}, source="phases.yaml")
        self.index = {p: i for i, p in enumerate(PHASES)}

    def _add_hits(self, vec: np.ndarray, doc: Doc, matcher: CueMatcher) -> None:
        opening = _opening_index(doc)
        per_phase: dict[str, list[float]] = {}
        for hit in matcher.hits(doc):
            w = hit.cue.weight * (self.OPENING_BOOST if hit.start <= opening else 1.0)
            per_phase.setdefault(hit.cue.label, []).append(w)
        for phase, ws in per_phase.items():
            vec[self.index[phase]] += combine(ws)

    def _tense(self, vec: np.ndarray, doc: Doc) -> None:
        counts = {"imperfect": 0, "compound_past": 0, "present": 0}
        for tok in doc:
            if tok.pos_ not in {"VERB", "AUX"}:
                continue
            morph = tok.morph
            low = tok.lower_
            if "Imp" in morph.get("Tense") or (low.endswith(IMPERFECT_ENDINGS) and len(low) > 4):
                counts["imperfect"] += 1
            elif "Part" in morph.get("VerbForm") and any(
                c.dep_.startswith("aux") for c in tok.children
            ):
                counts["compound_past"] += 1
            elif "Pres" in morph.get("Tense") and tok.dep_ not in {"aux", "aux:tense"}:
                counts["present"] += 1
        for kind, n in counts.items():
            phase, w, cap = self.TENSE[kind]
            add = min(cap, w * n)
            if phase is None:  # a past event: trigger, exploring or deciding
                vec[1:4] += add
            else:
                vec[self.index[phase]] += add

    def evidence(self, sentences: list[Sentence], docs: list[Doc]) -> np.ndarray:
        ev = np.zeros((len(sentences), len(PHASES)))
        carry = np.zeros(len(PHASES))
        k = 0
        for t, (sent, doc) in enumerate(zip(sentences, docs, strict=True)):
            if sent.role == INTERVIEWER:
                q = np.zeros(len(PHASES))
                self._add_hits(q, doc, self.questions)
                ev[t] += q
                if q.any():
                    carry, k = np.minimum(q, self.CARRY_CAP), 0
                self._add_hits(ev[t], doc, self.cues)
            else:
                self._add_hits(ev[t], doc, self.cues)
                share = self.CARRY * self.CARRY_DECAY**k
                if carry.any() and ev[t].max() >= self.OWN_CUE and ev[t].argmax() != carry.argmax():
                    share *= self.OWN_CUE_CARRY
                ev[t] += carry * share
                k += 1
                self._tense(ev[t], doc)
        return ev


def _opening_index(doc: Doc) -> int:
    """Index of the last token that still counts as the sentence opening (3 content words)."""
    seen = 0
    for tok in doc:
        if tok.is_punct or tok.lower_ in FILLERS:
            continue
        seen += 1
        if seen == 3:
            return tok.i
    return len(doc)


class RuleTagger:
    """Rule-based tagger of one interview (implements :class:`~.base.Tagger`).

    Patterns compile once here. ``force_scorer``/``job_scorer`` replace the rule
    components with any :class:`~.base.SentenceScorer` (e.g. a trained classifier);
    ``prior`` overrides the phase sequence prior (defaults from ``cfg``).
    """

    def __init__(
        self,
        nlp: Language,
        cfg: TaggingConfig,
        *,
        force_scorer: SentenceScorer | None = None,
        job_scorer: SentenceScorer | None = None,
        prior: SequencePrior | None = None,
    ):
        self.cfg = cfg
        self.forces = force_scorer or ForceRules(nlp, cfg.min_force_score)
        self.jobs = job_scorer or JobRules(nlp, cfg.min_job_score)
        self.phases = PhaseRules(nlp)
        self.prior = prior or SequencePrior(
            stay=cfg.phase_stay,
            back=cfg.phase_back,
            excursion_back=cfg.phase_excursion_back,
            excursion_forward=cfg.phase_excursion_forward,
        )
        self.force_carry_decay = cfg.force_question_carry

    def __call__(self, sentences: list[Sentence], docs: list[Doc]) -> list[Sentence]:
        """Tag the sentences of ONE interview, in order, in place; returns them."""
        if len(sentences) != len(docs):
            raise ValueError(
                f"{len(sentences)} sentences but {len(docs)} docs: pass one parsed doc per sentence"
            )
        if not sentences:
            return sentences
        labels, post = decode(self.phases.evidence(sentences, docs), self.prior)
        rules = isinstance(self.forces, ForceRules)
        carry: dict[str, float] = {}  # force asked by the last question, decaying
        for t, (sent, doc) in enumerate(zip(sentences, docs, strict=True)):
            sent.phase = PHASES[int(labels[t])]
            sent.phase_score = _unit(post[t, labels[t]])
            if sent.role == INTERVIEWER:
                sent.force, sent.force_score = NONE, 1.0
                sent.job_type, sent.job_type_score = NONE, 1.0
                if rules:
                    asked = self.forces.question(doc)
                    if asked or sent.text.rstrip().endswith("?"):
                        carry = asked
                continue
            if rules:
                force, fscore = self.forces.predict(doc, carry)
                carry = {k: v * self.force_carry_decay for k, v in carry.items()}
            else:
                force, fscore = self.forces.predict(doc)
            if isinstance(self.jobs, JobRules):
                job, jscore = self.jobs.predict(doc, force)
            else:
                job, jscore = self.jobs.predict(doc)
            sent.force, sent.force_score = _checked(force, FORCES), _unit(fscore)
            sent.job_type, sent.job_type_score = _checked(job, JOB_TYPES), _unit(jscore)
        return sentences


def _unit(x: float) -> float:
    return round(min(1.0, max(0.0, float(x))), 4)


def _checked(label: str, allowed: tuple[str, ...]) -> str:
    if label not in allowed:
        raise ValueError(f"tagger produced {label!r}, expected one of {allowed}")
    return label


def get_tagger(nlp: Language, cfg: TaggingConfig | None = None):
    """The tagger ``cfg.method`` names, for ``nlp``, built once per process and reused.

    Building compiles a few hundred patterns (about a second) and, for the trained
    tagger, loads its models; batch runs call this once per interview, so the tagger is
    cached on the pipeline and the settings.
    """
    cfg = cfg or TaggingConfig()
    if cfg.method == "trained":
        from pipeline.tagging.trained import load_trained_tagger, model_path

        return load_trained_tagger(model_path(cfg.model), nlp)
    key = (id(nlp), cfg.model_dump_json())
    tagger = _CACHE.get(key)
    if tagger is None:
        tagger = _CACHE[key] = RuleTagger(nlp, cfg)
    return tagger


def tag_interview(
    sentences: list[Sentence], docs: list[Doc], nlp: Language, cfg: TaggingConfig | None = None
) -> list[Sentence]:
    """Tag one interview (sentences in order + their docs) with :func:`get_tagger`."""
    return get_tagger(nlp, cfg)(sentences, docs)


_CACHE: dict[tuple[int, str], RuleTagger] = {}
