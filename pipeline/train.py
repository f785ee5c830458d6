"""Train the tagger (``make train``): annotations + reviewers' corrections -> ``models/tagger``.

The recipe, chosen so that the scores mean something on interviews from fields the
model has never seen:

1. Load the team's corpus (``data/annotations/train``) and overlay the reviewers'
   corrections (they outrank the annotations for the same sentence); corrected
   sentences of interviews outside the corpus are added as examples of their own.
2. Hold out whole *domains* of the training interviews (about a fifth) as a
   calibration set, the way the dev set holds out domains.
3. Fit the spaCy text classifiers (``configs/textcat_*.cfg``) and the context models
   (a linear model for phases, small feed-forward networks for forces and job types)
   on the rest; on the held-out domains tune what cannot be learnt from the
   training sentences themselves: the vote weight, the calibration (temperature +
   per-label bias), the macro-F1 decision offsets, and the phase sequence priors.
4. Refit the context models on all training interviews with those settings and write
   ``models/tagger`` (spaCy model folders, ``heads.npz``, ``meta.json`` with the
   data fingerprint and the held-out figures).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np

from pipeline.annotations import DEFAULT_DIR, GoldInterview, load_corpus, load_jobs
from pipeline.cache import text_hash
from pipeline.config import REPO_ROOT, Config
from pipeline.labels import INTERVIEWEE, PHASES
from pipeline.records import Sentence
from pipeline.sentences import sentence_id
from pipeline.tagging.sequence import SequencePrior, decode_many
from pipeline.tagging.trained import (
    MODEL_FORMAT,
    TAGS,
    Calibration,
    ContextNet,
    LinearHead,
    PhaseModel,
    TextcatScorer,
    log_softmax,
    model_path,
)

# one spaCy classifier per tag, each with its own architecture (see the files' comments)
TEXTCAT_CONFIGS = {tag: REPO_ROOT / "configs" / f"textcat_{tag}.cfg" for tag in TAGS}
# the classifiers trained in the worker process from the start of `make train` (see
# train_tagger): job types' bag of words + CNN takes about 150 s, forces' bag of words 40 s
WORKER_TEXTCATS = ("job_type",)
# The force and job-type networks (ContextNet.fit), chosen by cross-validation over the
# training domains (macro-F1, network alone): 256 hidden units, dropout 0.5 (0.2 on the
# inputs), 3 members (5 scored 0.005 more for 2/3 more training time; 512 units scored
# lower). Forces: 3 convolution layers of 64 (dilations 1, 2, 4) over the interview,
# 0.707 vs 0.676 without (2 layers 0.705, a bidirectional GRU 0.692 and four times
# slower); dev 0.634 -> 0.675, and 0.631 -> 0.662 after the vote. Job types: the same
# convolutions gained 0.011 cross-validated but lost 0.019 on dev after the vote (and
# 0.07 of segment ARI), within noise either way: the simpler network stays.
# Forces are also learnt with two side tasks, the phase and the job type of the same
# sentences (``aux``): cross-validated 0.707 -> 0.718 (job type alone as side task:
# 0.714); and the network reads each word of the sentence through a layer of 64 units,
# max-pooled (``word_units``): 0.707 -> 0.720 alone, 0.727 with the side tasks; dev
# after the vote 0.662 -> 0.684 and 0.699 (two trainings). 30-50 s more per fit.
# Each word is read with its contextual tok2vec row (features.word_vectors): dev after
# the vote 0.692 -> 0.709 and 0.701 -> 0.708 (two seeds), at no cost in time.
# Job types, network alone (CV / dev): plain 0.618 / 0.612, with the word layer
# 0.631 / 0.603, with words and side tasks (force, phase) 0.636 / 0.617; that last one
# trains twice as slowly and was not measured after the vote: not adopted yet. With the
# words' tok2vec rows, the word layer gave job types 0.659 -> 0.667 and 0.647 -> 0.665
# on dev gold sentences after the vote (two seeds) and 0.660 -> 0.669 through `make
# eval`, but held-out domains stayed flat (0.656 -> 0.655), segment ARI fell 0.828 ->
# 0.771 and `make train` took 68 s more (338 -> 406 s): not adopted.
# Reading the sentence embeddings and the mean word vector relative to the interview's
# mean (``centre``, see trained.centre_columns) was measured and is left off: forces
# CV 0.727 -> 0.732, held-out domains after the vote 0.740 -> 0.742, dev after the vote
# 0.673 -> 0.682 (networks of the calibration split) but 0.688 -> 0.687 (networks on
# every interview) and 0.684 -> 0.670 through the whole pipeline, with a calibration
# error of 0.046 instead of 0.023; job types CV 0.619 -> 0.627, held-out 0.656 -> 0.661,
# dev 0.658 -> 0.668, 0.659 -> 0.658 and 0.654 -> 0.652. Within the noise of one training
# (about +-0.01): no gain shown on the dev set, so the simpler network stays.
# Also measured and left off (forces, mean of two seeds, held-out domains / dev / test
# split, gold sentences after the vote; these settings: 0.763 / 0.702 / 0.794): the
# label mix of each sentence's 20 nearest training sentences of other domains as input
# 0.757 / 0.701 / -; dropping the rule-lexicon columns of half the sentences in training
# 0.755 / 0.699 / 0.792; dropping a fifth of the words 0.764 / 0.693 / 0.793; the
# calibration-split networks averaged with the kept ones 0.763 / 0.704 (dev only);
# cheaper dropout masks (torch.rand: networks 22 % faster) 0.761 / 0.700 / 0.794, but
# job types 0.653 -> 0.644 on dev. All within the noise of one training. So were (seed
# 42 only; these settings 0.766 / 0.706 / 0.794) the USE embedding of the question and
# the sentence read as one text, 0.763 / 0.694 / 0.797, and of the sentence with its two
# neighbours, 0.773 / 0.688 / 0.790; and (two seeds again) WordLlama's token embeddings
# (wordllama 0.4.0.post1, the only other text encoder found whose weights install from PyPI
# here; trained on English) as 256 more columns, 0.754 / 0.703 / 0.792. Decision offsets
# tuned on dev itself (an oracle) reach only 0.720-0.731 there: the scores' ranking,
# not the thresholds, is the limit.
NET_SETTINGS = {
    tag: {"hidden": 256, "conv": 64, "kernel": 5, "layers": layers, "epochs": 10,
          "dropout": 0.5, "input_dropout": 0.2, "weight_decay": 0.01, "members": 3,
          "aux": aux, "word_units": word_units, "centre": False}
    for tag, layers, aux, word_units in (
        ("force", 3, ["phase", "job_type"], 64),
        ("job_type", 0, [], 0),
    )
}


@dataclass
class Labelled:
    """One training interview's sentences and gold labels, in order: all that the spaCy
    text classifiers need, known before anything is parsed."""

    interview_id: str
    domain: str
    sentences: list[Sentence]
    phase: list[str | None]
    force: list[str | None]  # None: interviewer, or no gold for this tag
    job_type: list[str | None]


@dataclass
class Prepared(Labelled):
    """One training interview with the features of its sentences."""

    x: np.ndarray
    x_phase: np.ndarray  # x plus the phase model's context (features.phase_features)
    x_tags: np.ndarray  # x plus the word vectors read for forces and job types (tag_features)
    words: tuple[np.ndarray, np.ndarray]  # each sentence's word vectors (features.word_vectors)


def gold_sentences(interview: GoldInterview) -> list[Sentence]:
    """The gold sentences as pipeline records (ids computed as the pipeline does)."""
    seen: dict[str, int] = {}
    out = []
    from pipeline.sentences import normalise

    for i, g in enumerate(interview.sentences):
        key = normalise(g.text)
        seen[key] = seen.get(key, 0) + 1
        out.append(
            Sentence(
                interview_id=interview.interview_id,
                sentence_id=sentence_id(interview.interview_id, g.text, seen[key]),
                turn=g.turn,
                index=i,
                speaker=g.speaker,
                role=g.role,
                text=g.text,
            )
        )
    return out


def _labelled(interview_id: str, domain: str, sents: list[Sentence], gold: list[dict]) -> Labelled:
    """One interview's labels (``gold[i]``: tag -> label, or absent)."""
    labels: dict[str, list] = {"phase": [], "force": [], "job_type": []}
    for s, g in zip(sents, gold, strict=True):
        labels["phase"].append(g.get("phase"))
        for tag in TAGS:  # forces and job types are the interviewee's only
            labels[tag].append(g.get(tag) if s.role == INTERVIEWEE else None)
    return Labelled(interview_id, domain, sents, **labels)


def label(interviews: list[GoldInterview], corrections=None) -> list[Labelled]:
    """Annotated interviews, the reviewers' ``corrections`` overriding their labels."""
    corrections = corrections or {}
    out = []
    for interview in interviews:
        sents = gold_sentences(interview)
        gold = [
            {"phase": g.phase, "force": g.force, "job_type": g.job_type}
            | corrections.get(s.sentence_id, {})
            for s, g in zip(sents, interview.sentences, strict=True)
        ]
        out.append(_labelled(interview.interview_id, interview.domain, sents, gold))
    return out


def label_corrections(tagged: list[tuple[list[Sentence], dict]]) -> list[Labelled]:
    """Interviews known only from the pipeline's outputs, with their corrected sentences.

    ``tagged`` holds, per interview, its sentences (as the pipeline tagged them) and
    ``{sentence_id: {tag: value}}``; only corrected values become training labels.
    """
    return [
        _labelled(sents[0].interview_id, "corrections", sents,
                  [fixed.get(s.sentence_id, {}) for s in sents])
        for sents, fixed in tagged
    ]


def featurize(items: list[Labelled], nlp, rules, embedder) -> list[Prepared]:
    """Parse and embed every interview: the features the context models read."""
    from pipeline.tagging.features import (
        interview_features,
        phase_features,
        tag_features,
        word_vectors,
    )

    out = []
    for item in items:
        docs = list(nlp.pipe([s.text for s in item.sentences], batch_size=64))
        x = interview_features(item.sentences, docs, rules, embedder)
        out.append(Prepared(**item.__dict__, x=x, x_phase=phase_features(x, item.sentences),
                            x_tags=tag_features(x, docs), words=word_vectors(docs)))
    return out


def prepare(
    interviews: list[GoldInterview], nlp, rules, embedder, corrections=None
) -> list[Prepared]:
    """Annotated interviews with their features, ``corrections`` overriding the labels."""
    return featurize(label(interviews, corrections), nlp, rules, embedder)


@contextlib.contextmanager
def _one_core():
    """NumPy's BLAS and PyTorch on one thread, for work done beside a worker process
    that has the other core. The networks train as fast on one thread as on two (one
    interview a step: 34.6 s vs 33.5 s for 40 interviews), so they lose nothing."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(threads)


# ---------------------------------------------------------------- fitting


def _rows(items: list[Labelled], tag: str):
    """Features, labels and text-classifier inputs of the sentences labelled for ``tag``
    (the phase model's own features for ``phase``; no features for items that have
    none yet, :class:`Labelled` rather than :class:`Prepared`)."""
    from pipeline.tagging.features import answered_questions, textcat_text

    xs, ys, texts = [], [], []
    for p in items:
        questions = answered_questions(p.sentences)
        for t, y in enumerate(getattr(p, tag)):
            if y is not None:
                if isinstance(p, Prepared):
                    xs.append(p.x_phase[t] if tag == "phase" else p.x_tags[t])
                ys.append(y)
                texts.append(textcat_text(p.sentences[t].text, questions[t]))
    return (np.vstack(xs) if xs else np.zeros((0, 0))), ys, texts


def train_textcat(
    texts: list[str],
    ys: list[str],
    tag: str,
    out_dir: Path,
    *,
    max_epochs: int | None,
    seed: int = 42,
    quiet: bool = True,
) -> Path:
    """Train the spaCy text classifier of ``tag`` on ``texts`` labelled ``ys``; returns
    the model folder. Plain texts and labels, so that a worker process can run it."""
    import spacy
    from spacy.cli.train import train as spacy_train
    from spacy.tokens import DocBin

    labels = TAGS[tag]
    nlp = spacy.blank("fr")
    order = np.random.default_rng(seed).permutation(len(texts))
    # The classifier kept is spaCy's last one (``model-last``), never the best on the
    # dev corpus, and early stopping is off (configs/textcat_*.cfg): the dev corpus only
    # feeds spaCy's progress log. So every sentence is trained on, and a tenth of them
    # is also logged as "dev" (before, that tenth was left out of training).
    n_dev = max(1, len(texts) // 10)
    with tempfile.TemporaryDirectory(prefix=f"jtbd-{tag}-") as tmp:
        tmp = Path(tmp)
        for name, idx in (("train", order), ("dev", order[:n_dev])):
            db = DocBin()
            for i in idx:
                doc = nlp.make_doc(texts[i])
                doc.cats = {lab: float(lab == ys[i]) for lab in labels}
                db.add(doc)
            db.to_disk(tmp / f"{name}.spacy")
        overrides = {
            "paths.train": str(tmp / "train.spacy"),
            "paths.dev": str(tmp / "dev.spacy"),
            "system.seed": seed,
        }
        if max_epochs:
            overrides["training.max_epochs"] = max_epochs
        sink = io.StringIO()
        spacy_log = logging.getLogger("spacy")
        level = spacy_log.level
        if quiet:  # spaCy's training table is noise in `make train`'s output
            spacy_log.setLevel(logging.WARNING)
        from threadpoolctl import threadpool_limits

        try:
            # one BLAS thread per worker: the two tags' classifiers train side by side,
            # one per core (measured as fast as without the limit: 156-175 s)
            with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext(), \
                    threadpool_limits(1):
                spacy_train(TEXTCAT_CONFIGS[tag], tmp / "out", overrides=overrides, use_gpu=-1)
        finally:
            spacy_log.setLevel(level)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        shutil.copytree(tmp / "out" / "model-last", out_dir)
    return out_dir


def fit_phase_head(items: list[Prepared], c: float) -> tuple[LinearHead, np.ndarray]:
    x, y, _ = _rows(items, "phase")
    head = LinearHead.fit(x, y, PHASES, c=c, balanced=False)
    counts = np.array([y.count(p) + 1 for p in PHASES], dtype=float)
    return head, np.log(counts / counts.sum())


PHASE_GRID = list(
    product((0.8, 0.9, 0.95), (0.005, 0.02), (0.03, 0.08), (0.01, 0.04), (0.3, 0.45, 0.6, 0.8))
)


def tune_phase_cv(items: list[Prepared], c_values=(0.003, 0.01), folds: int = 4):
    """Phase model settings by cross-validation over held-out *domains* of ``items``.

    For each regularisation ``c`` and each HMM prior + emission scale of
    :data:`PHASE_GRID`, the mean accuracy over ``folds`` domain folds; returns
    ``(accuracy, c, prior, scale)`` of the best. The linear model takes seconds to fit,
    so all training interviews serve as held-out data once.
    """
    domains = sorted({p.domain for p in items}, key=lambda d: text_hash("phase-cv", d))
    folds = max(2, min(folds, len(domains)))
    best = (-1.0, None, None, None)
    priors = [SequencePrior(stay=stay, back=back, excursion_back=exb, excursion_forward=exf)
              for stay, back, exb, exf, _ in PHASE_GRID]
    scales = np.array([scale for *_, scale in PHASE_GRID])
    for c in c_values:
        right, total = np.zeros((len(PHASE_GRID), folds)), np.zeros(folds)
        for k in range(folds):
            held = set(domains[k::folds])
            fit = [p for p in items if p.domain not in held]
            calib = [p for p in items if p.domain in held]
            if not fit or not calib:
                continue
            model = PhaseModel(*fit_phase_head(fit, c), SequencePrior())
            for p in calib:  # every grid entry decoded at once (decode_many)
                labels, _ = decode_many(scales[:, None, None] * model.emission(p.x_phase),
                                        priors)
                gold = [(t, PHASES.index(g)) for t, g in enumerate(p.phase) if g is not None]
                if gold:
                    rows, want = map(np.asarray, zip(*gold, strict=True))
                    right[:, k] += (labels[:, rows] == want).sum(axis=1)
                    total[k] += len(gold)
        scores = (right / np.maximum(total, 1)).sum(axis=1)
        g = int(scores.argmax())
        if scores[g] / folds > best[0]:
            best = (scores[g] / folds, c, priors[g], float(scales[g]))
    return best


def macro_f1(gold: list[int], pred: np.ndarray, n: int) -> float:
    gold = np.asarray(gold)
    f1s = []
    for k in range(n):
        tp = np.sum((pred == k) & (gold == k))
        fp = np.sum((pred == k) & (gold != k))
        fn = np.sum((pred != k) & (gold == k))
        if tp + fp + fn == 0:
            continue
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else 0.0


def fit_calibration(lp_tc: np.ndarray, lp_ctx: np.ndarray, gold: list[int], n: int) -> Calibration:
    """Vote weight, temperature + bias (NLL) and decision offsets (macro-F1), held out."""
    from scipy.optimize import minimize

    gold_a = np.asarray(gold)

    def nll(alpha, params):
        z = alpha * lp_tc + (1 - alpha) * lp_ctx
        lp = log_softmax(z / np.exp(params[0]) + params[1:])
        return -lp[np.arange(len(gold_a)), gold_a].mean()

    best = None
    # the spaCy classifier always takes part (at least a quarter of the vote): with
    # 10-14 held-out interviews the weight is noisy, and 0 would drop a whole model
    for alpha in (0.25, 0.5, 0.75, 1.0):
        res = minimize(
            lambda p, a=alpha: nll(a, p) + 0.01 * np.sum(p[1:] ** 2),
            np.zeros(n + 1),
            method="L-BFGS-B",
        )
        cal = Calibration(alpha, float(np.exp(res.x[0])), [float(b) for b in res.x[1:]], [0.0] * n)
        f1 = macro_f1(gold, cal.decide(cal.log_proba(lp_tc, lp_ctx)), n)
        score = f1 - 0.1 * res.fun  # macro-F1 first, likelihood to break ties
        if best is None or score > best[0]:
            best = (score, cal)
    cal = best[1]
    lp = cal.log_proba(lp_tc, lp_ctx)
    offset = np.zeros(n)
    current = macro_f1(gold, (lp + offset).argmax(axis=1), n)
    for _ in range(3):  # coordinate ascent, small steps, shrunk towards 0
        for k in range(n):
            for step in (-1.0, -0.5, -0.25, 0.25, 0.5, 1.0):
                trial = offset.copy()
                trial[k] += step
                f1 = macro_f1(gold, (lp + trial).argmax(axis=1), n)
                if f1 > current + 0.002:
                    current, offset = f1, trial
    cal.offset = [float(o) * 0.5 for o in offset]  # half way: held-out sets are small
    return cal


# ---------------------------------------------------------------- the recipe


def split_calibration(items: list[Prepared], share: float = 0.2) -> tuple[list, list]:
    """Hold out whole domains (about ``share`` of the interviews), chosen by a fixed hash."""
    domains = sorted(
        {p.domain for p in items if p.domain != "corrections"},
        key=lambda d: text_hash("calibration", d),
    )
    held, n = set(), 0
    for d in domains:
        if n >= share * len(items):
            break
        held.add(d)
        n += sum(p.domain == d for p in items)
    if len(held) == len(domains):  # a tiny slice of one domain: hold out interviews instead
        cut = max(1, int(len(items) * share))
        return items[cut:], items[:cut]
    fit = [p for p in items if p.domain not in held]
    calib = [p for p in items if p.domain in held]
    return fit, calib


def _fit_networks(items: list[Prepared], net: dict, tags=tuple(TAGS)) -> dict[str, ContextNet]:
    """The networks of ``tags`` (forces and job types by default; ``net``: per tag,
    :meth:`ContextNet.fit` settings), which read whole interviews."""
    heads = {}
    every = {"phase": PHASES, **TAGS}
    for tag in tags:
        labels = TAGS[tag]
        used = [p for p in items if any(v is not None for v in getattr(p, tag))]
        settings = dict(net[tag])
        aux = {a: (every[a], [getattr(p, a) for p in used]) for a in settings.pop("aux", [])}
        if settings.pop("centre", False) and used:
            from pipeline.tagging.features import topic_columns

            settings["centre"] = topic_columns(used[0].x.shape[1], used[0].x_tags.shape[1])
        heads[tag] = ContextNet.fit(
            [p.x_tags for p in used], [getattr(p, tag) for p in used], labels, aux=aux,
            words=[p.words for p in used], **settings
        )
    return heads


def context_log_proba(head: ContextNet, items: list[Prepared], tag: str) -> np.ndarray:
    """The network's log-probabilities of the sentences labelled for ``tag``, in the
    order of :func:`_rows` (each interview read whole)."""
    parts = []
    for p in items:
        rows = [t for t, y in enumerate(getattr(p, tag)) if y is not None]
        if rows:
            parts.append(head.log_proba(p.x_tags, p.words)[rows])
    return np.vstack(parts) if parts else np.zeros((0, len(head.labels)))


class _Inline:
    """What :class:`~concurrent.futures.ProcessPoolExecutor` offers, on one core: each
    job runs when it is submitted."""

    def submit(self, fn, *args, **kwargs):
        from concurrent.futures import Future

        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@contextlib.contextmanager
def _worker():
    """One worker process beside this one on a machine with two cores or more (spawned:
    no copy of this process's threads or models), else :class:`_Inline`."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    if (os.cpu_count() or 1) < 2:
        yield _Inline()
        return
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        yield pool


def _timed(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), seconds)``, for the jobs of the worker processes."""
    t0 = time.perf_counter()
    with _one_core():
        out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _for_networks(items: list[Prepared]) -> list[Prepared]:
    """``items`` without the phase model's features, sent to a worker that fits the
    networks: 55 % less to copy (about 0.4 GB left for the team's corpus). ``x`` keeps
    its width only, which the networks' ``centre`` option reads."""
    empty = np.zeros((0, 0))
    return [dataclasses.replace(p, x=np.zeros((0, p.x.shape[1])), x_phase=empty)
            for p in items]


def statement_examples(interviews: list[GoldInterview], nlp, jobs: dict[str, str]):
    """Candidates of every annotated job sentence, for the statement ranker.

    Returns ``(texts, metas, job ids, interview ids)``: each candidate statement
    (:func:`~pipeline.segments.represent.statement_candidates`) of each interviewee
    sentence whose job is in the catalog ``jobs``.
    """
    from pipeline.segments.represent import statement_candidates, statement_meta

    pairs = [(g, s) for g in interviews for s in g.sentences
             if s.role == INTERVIEWEE and s.job in jobs]
    texts, metas, job_ids, interview_ids = [], [], [], []
    with nlp.select_pipes(disable=[p for p in ("ner",) if p in nlp.pipe_names]):
        docs = nlp.pipe([s.text for _, s in pairs], batch_size=64)
        for (g, s), doc in zip(pairs, docs, strict=True):
            for text, kind in statement_candidates(doc, s.force or "none"):
                texts.append(text)
                metas.append(statement_meta(text, kind, s, doc))
                job_ids.append(s.job)
                interview_ids.append(g.interview_id)
    return texts, metas, job_ids, interview_ids


def fit_statement_ranker(interviews, calib_ids: set[str], nlp, embedder, jobs, alpha=30.0):
    """Fit the statement ranker; measure it on the ``calib_ids`` interviews first.

    Target: the cosine between a candidate and its job's catalog statement. Held-out
    measure: per calibration interview, the similarity to the catalog statement of the
    candidate picked among its main-job sentences, by the ranker and by the rules
    (:func:`~pipeline.segments.represent.statement_score`, the last meta column).
    Returns ``(ranker fitted on all, held-out figures)``.
    """
    from pipeline.segments.represent import StatementRanker

    texts, metas, job_ids, iv_ids = statement_examples(interviews, nlp, jobs)
    if not texts:
        return None, {}
    x = StatementRanker.design(texts, metas, embedder)
    dim = x.shape[1] - len(metas[0])
    catalog = {j: k for k, j in enumerate(sorted(set(job_ids)))}
    cat = np.asarray(embedder.embed([jobs[j] for j in catalog]), dtype=np.float64)
    cat /= np.linalg.norm(cat, axis=1, keepdims=True) + 1e-12
    y = np.einsum("ij,ij->i", x[:, :dim], cat[[catalog[j] for j in job_ids]])
    held = np.array([i in calib_ids for i in iv_ids])
    figures = {}
    if held.any() and (~held).any():
        ranker = StatementRanker.fit(x[~held], y[~held], alpha)
        pred = ranker.predict(x[held])
        main = {g.interview_id: g.main_job for g in interviews}
        rows = np.flatnonzero(held)
        picked: dict[str, list] = {"ranker": [], "rules": []}
        for iv in sorted({iv_ids[i] for i in rows}):
            idx = [k for k, i in enumerate(rows) if iv_ids[i] == iv and job_ids[i] == main[iv]]
            if idx:
                picked["ranker"].append(y[rows[idx[int(np.argmax(pred[idx]))]]])
                rules = [metas[rows[k]][-1] for k in idx]
                picked["rules"].append(y[rows[idx[int(np.argmax(rules))]]])
        figures = {f"statement_similarity_{k}": round(float(np.mean(v)), 4)
                   for k, v in picked.items() if v}
    return StatementRanker.fit(x, y, alpha), figures


def train_tagger(
    config: Config,
    *,
    annotations: Path = DEFAULT_DIR,
    model_dir: Path | None = None,
    corrections: dict[str, dict[str, str]] | None = None,
    corrected_interviews: list[tuple[list[Sentence], dict]] | None = None,
    interviews: list[GoldInterview] | None = None,
    max_epochs: int | None = None,
    c_phase: tuple[float, ...] = (0.01,),  # 0.003 never won the cross-validation
    net: dict | None = None,
    log=print,
) -> dict:
    """Train and write the tagger; returns its ``meta`` (also in ``model_dir/meta.json``).

    ``corrections``: ``{sentence_id: {tag: value}}`` from the reviewers, overriding the
    annotations; ``corrected_interviews``: pipeline interviews with corrections (see
    :func:`label_corrections`). ``interviews`` restricts training to a slice (tests);
    ``net``: per tag, settings of the networks that override :data:`NET_SETTINGS`.
    """
    from pipeline.nlp import load_nlp
    from pipeline.segments.embedders import get_embedder
    from pipeline.tagging.features import RuleFeatures, spacy_widths

    t_start = time.perf_counter()
    net = {tag: {**NET_SETTINGS[tag], **(net or {}).get(tag, {})} for tag in TAGS}
    model_dir = Path(model_dir or model_path(config.tagging.model))
    if interviews is None:
        interviews, errors = load_corpus(annotations, ("train",))
        for err in errors:
            log(f"skipped {err}")
    if not interviews:
        raise ValueError(f"no training interview in {annotations}/train")
    labelled = label(interviews, corrections)
    labelled_extra = label_corrections(corrected_interviews or [])
    fit_l, calib_l = split_calibration(labelled)
    calib_ids = {p.interview_id for p in calib_l}
    log(f"calibration: {len(calib_l)} held-out interviews "
        f"({', '.join(sorted({p.domain for p in calib_l}))})")
    jobs = load_jobs(annotations)
    held_out: dict = {}
    # The schedule, on two cores, each side on one thread (networks this small gain
    # nothing from two): the worker process trains the job-type text classifier (the
    # longest step, about 150 s; it needs only the words, so it starts at once), then the
    # force network that is kept; this process parses and embeds, then trains the force
    # text classifier, the statement ranker, the phase model, the networks of the
    # calibration split and the job-type network that is kept. Both sides take about as
    # long.
    with tempfile.TemporaryDirectory(prefix="jtbd-train-") as tmp, _worker() as pool:
        work = Path(tmp)
        # The text classifiers are trained once, on the non-held-out part: the vote
        # weight and calibration tuned below are only valid for the classifiers they
        # were tuned on.
        textcat_jobs = {tag: _rows(fit_l + labelled_extra, tag) for tag in TAGS}

        def textcat(tag, where):
            _, ys, texts = textcat_jobs[tag]
            return where.submit(_timed, train_textcat, texts, ys, tag, work / f"{tag}_textcat",
                                max_epochs=max_epochs)

        textcat_futures = {tag: textcat(tag, pool) for tag in WORKER_TEXTCATS}
        with _one_core():
            t0 = time.perf_counter()
            nlp = load_nlp(config.nlp.spacy_model)
            embedder = get_embedder(config.segments)
            rules = RuleFeatures(nlp)
            items = featurize(labelled, nlp, rules, embedder)
            extra = featurize(labelled_extra, nlp, rules, embedder)
            n_sent = sum(len(p.sentences) for p in items)
            log(f"{len(items)} interviews, {n_sent} sentences; {len(extra)} interviews from "
                f"corrections ({time.perf_counter() - t0:.0f} s to parse and embed)")
            fit = [p for p in items if p.interview_id not in calib_ids]
            calib = [p for p in items if p.interview_id in calib_ids]
            # the networks that are kept are fitted on every interview; the calibration
            # tuned with those of the calibration split (below) holds for them. The
            # force network goes to the worker, the (faster) job-type one stays here:
            # then both sides take about as long
            final_future = pool.submit(_timed, _fit_networks, _for_networks(items + extra),
                                       net, ("force",))
            for tag in TAGS:
                if tag not in textcat_futures:
                    textcat_futures[tag] = textcat(tag, _Inline())
            t0 = time.perf_counter()
            ranker, figures = fit_statement_ranker(interviews, calib_ids, nlp, embedder, jobs)
            log(f"  job-statement ranker: {time.perf_counter() - t0:.0f} s")
            t0 = time.perf_counter()
            acc, c_best, prior, scale = tune_phase_cv(items, c_phase)
            phase_head, log_prior = fit_phase_head(items, c_best)
            log(f"  phase model, cross-validated over domains: {time.perf_counter() - t0:.0f} s")
            t0 = time.perf_counter()
            heads = _fit_networks(fit + extra, net)
            log(f"  force and job-type networks of the calibration split: "
                f"{time.perf_counter() - t0:.0f} s")
            t0 = time.perf_counter()
            final_heads = _fit_networks(items + extra, net, ("job_type",))
            log(f"  job-type network on every interview: {time.perf_counter() - t0:.0f} s")
        textcats = {}
        for tag in TAGS:
            textcats[tag], seconds = textcat_futures[tag].result()
            where = " (worker)" if tag in WORKER_TEXTCATS else ""
            log(f"  spaCy text classifier of {tag}{where} "
                f"({len(textcat_jobs[tag][1])} sentences): {seconds:.0f} s")
        forces, seconds = final_future.result()
        final_heads |= forces
        log(f"  force network on every interview (worker): {seconds:.0f} s")
        held_out["phase_accuracy_cv"] = round(float(acc), 4)
        held_out.update(figures)
        calibrations = {}
        for tag, labels in TAGS.items():
            _, y, texts = _rows(calib, tag)
            lp_tc = TextcatScorer(textcats[tag], labels).log_proba(texts)
            lp_ctx = context_log_proba(heads[tag], calib, tag)
            gold = [labels.index(v) for v in y]
            cal = fit_calibration(lp_tc, lp_ctx, gold, len(labels))
            calibrations[tag] = cal
            pred = cal.decide(cal.log_proba(lp_tc, lp_ctx))
            held_out[f"{tag}_macro_f1"] = round(macro_f1(gold, pred, len(labels)), 4)
            held_out[f"{tag}_alpha"] = cal.alpha
        log(f"held-out domains: {held_out}")

        heads = final_heads
        tmp_model = model_dir.with_name(model_dir.name + ".tmp")
        if tmp_model.exists():
            shutil.rmtree(tmp_model)
        tmp_model.mkdir(parents=True)
        arrays = phase_head.arrays("phase")
        for tag in TAGS:
            arrays |= heads[tag].arrays(tag)
            shutil.copytree(textcats[tag], tmp_model / f"{tag}_textcat")
        np.savez(tmp_model / "heads.npz", **arrays)
        if ranker is not None:
            np.savez(tmp_model / "statements.npz", weights=ranker.weights, bias=ranker.bias)
    fingerprint = text_hash(
        json.dumps(
            [
                [p.interview_id, [s.text for s in p.sentences], p.phase, p.force, p.job_type]
                for p in items + extra
            ],
            ensure_ascii=False,
        ),
        *(TEXTCAT_CONFIGS[tag].read_text(encoding="utf-8") for tag in TAGS),
        json.dumps(jobs, ensure_ascii=False, sort_keys=True),
        config.segments.embedder,
        str(config.segments.model),
        str(c_phase),
        json.dumps(net, sort_keys=True),
        str(max_epochs),
    )
    meta = {
        "format": MODEL_FORMAT,
        "fingerprint": fingerprint,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "train_seconds": round(time.perf_counter() - t_start, 1),
        "data": {
            "interviews": len(items),
            "sentences": n_sent,
            "interviewee_sentences": sum(1 for p in items for f in p.force if f is not None),
            "corrected_interviews": len(extra),
            "corrections": len(corrections or {}),
            "calibration_domains": sorted({p.domain for p in calib}),
        },
        "embedder": {"embedder": config.segments.embedder, "model": config.segments.model},
        "spacy_model": config.nlp.spacy_model,
        "spacy_widths": spacy_widths(nlp),
        "c": {"phase": c_best},
        "network": net,
        "held_out": held_out,
        "phase": {
            "log_prior": [float(v) for v in log_prior],
            "prior": {
                "stay": prior.stay,
                "back": prior.back,
                "excursion_back": prior.excursion_back,
                "excursion_forward": prior.excursion_forward,
            },
            "scale": scale,
        },
    }
    for tag, cal in calibrations.items():
        meta[tag] = {"labels": list(TAGS[tag]), "calibration": cal.__dict__}
    (tmp_model / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    if model_dir.exists():
        shutil.rmtree(model_dir)
    tmp_model.rename(model_dir)
    log(f"wrote {model_dir} in {meta['train_seconds']} s")
    return meta


def train_from_config(
    config: Config, *, out_dir: Path | None = None, max_epochs: int | None = None, log=print
) -> dict:
    """``make train``: the team's annotations plus every reviewer correction on record."""
    corrections, corrected = reviewer_corrections(
        config, out_dir or REPO_ROOT / "data" / "processed", log
    )
    return train_tagger(
        config,
        corrections=corrections,
        corrected_interviews=corrected,
        max_epochs=max_epochs,
        log=log,
    )


def reviewer_corrections(config: Config, out_dir: Path, log=print):
    """Corrections as training labels: ``({sentence_id: {tag: value}}, interviews)``.

    Reviewers' values outrank the annotations for the same sentence (same id: the
    interview id plus the sentence text). Corrected sentences of other interviews are
    learnt with their context, read from the pipeline's tagged interviews in
    ``out_dir/interim/tagged``; a correction whose interview is not there is reported
    and learnt without context rather than dropped.
    """
    from pipeline.review.store import follow_resplit, labels_of, load_corrections

    store = Path(config.review.store)
    latest = load_corrections(store)
    labels = labels_of(latest)
    if not labels:
        return {}, []
    annotated = {p.stem for p in DEFAULT_DIR.glob("*/*.jsonl")}
    corrected, followed = [], set()
    tagged_dir = Path(out_dir) / "interim" / "tagged"
    for path in sorted(tagged_dir.glob("*.json")) if tagged_dir.is_dir() else []:
        data = json.loads(path.read_text(encoding="utf-8"))
        sents = [Sentence.from_dict(d) for d in data.get("sentences", [])]
        if not sents or sents[0].interview_id in annotated:
            continue
        # a sentence re-split since its review (only its punctuation changed) keeps it
        moved = {n: o for o, n in follow_resplit(latest, sents).items() if o in labels}
        fixed = {s.sentence_id: labels[moved.get(s.sentence_id, s.sentence_id)]
                 for s in sents if s.sentence_id in labels or s.sentence_id in moved}
        if fixed:
            corrected.append((sents, fixed))
            followed.update(moved.values())
    found = {sid for _, fixed in corrected for sid in fixed} | followed
    missing = [
        sid
        for sid in labels
        if sid not in found and not any(sid.startswith(a + "-") for a in annotated)
    ]
    log(
        f"reviewers' corrections: {len(labels)} sentences from {store}; "
        f"{len(corrected)} interviews of {tagged_dir} used for context"
        + (
            f"; {len(missing)} corrected sentences not found there (kept in the store, "
            "not used this time)"
            if missing
            else ""
        )
    )
    return labels, corrected
