"""The trained tagger: what ``make train`` writes to ``models/tagger`` and the pipeline uses.

Three decisions per interview, each from the whole interview, not the sentence alone:

- **phase**: a linear model over the sentence features (:mod:`.features`) gives, per
  sentence, the probability of each phase; divided by the phase prior it becomes the
  emission of the story-cursor HMM of :mod:`.sequence` (transition and flash-back
  priors tuned on held-out interviews), and forward-backward gives the posterior.
- **force** and **job type** of interviewee sentences: a spaCy text classifier
  (``configs/textcat.cfg``, the sentence's words) and a small feed-forward network
  (:class:`MLPHead`) over the context features (embeddings of the sentence, the
  question it answers and the previous sentence, its mean word vector, rule evidence,
  position) vote in log space with a tuned weight. A calibrator (temperature +
  per-label bias, fitted on held-out interviews) turns the vote into probabilities that
  mean what they say; the label is the most probable one after a per-label decision
  offset tuned for macro-F1.

Everything numeric is stored as plain arrays (``heads.npz``) and JSON (``meta.json``):
no pickle is loaded from ``models/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.labels import FORCES, INTERVIEWER, JOB_TYPES, NONE, PHASES
from pipeline.records import Sentence
from pipeline.tagger_model import (  # noqa: F401 - re-exported for callers
    MODEL_FORMAT,
    model_fingerprint,
    model_path,
    read_meta,
    tagger_fingerprint,
)
from pipeline.tagging.sequence import SequencePrior, decode

TAGS = {"force": FORCES, "job_type": JOB_TYPES}


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _standardisation(x: np.ndarray, y: list[str], labels: tuple[str, ...]):
    """``(mean, scale, labels present in y)``: the heads learn on standardised features,
    and a label absent from training gets a constant, very low logit."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-8] = 1.0
    return mean, scale, [lab for lab in labels if lab in set(y)]


@dataclass
class LinearHead:
    """Multinomial logistic regression on standardised features (weights as arrays)."""

    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: list[str],
        labels: tuple[str, ...],
        *,
        c: float = 0.5,
        balanced: bool = True,
        seed: int = 42,
    ) -> LinearHead:
        from sklearn.linear_model import LogisticRegression

        mean, scale, present = _standardisation(x, y, labels)
        model = LogisticRegression(
            C=c, max_iter=600, class_weight="balanced" if balanced else None, random_state=seed
        )
        model.fit((x - mean) / scale, [present.index(v) for v in y])
        # labels never seen in training get a very low constant logit
        coef = np.zeros((len(labels), x.shape[1]))
        intercept = np.full(len(labels), -30.0)
        if len(present) == 2:  # sklearn's binary case has one row of weights
            rows = np.vstack([-model.coef_[0] / 2, model.coef_[0] / 2])
            bias = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])
        else:
            rows, bias = model.coef_, model.intercept_
        for i, lab in enumerate(present):
            coef[labels.index(lab)] = rows[i]
            intercept[labels.index(lab)] = bias[i]
        return cls(tuple(labels), mean, scale, coef, intercept)

    def log_proba(self, x: np.ndarray) -> np.ndarray:
        return log_softmax(((x - self.mean) / self.scale) @ self.coef.T + self.intercept)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}.mean": self.mean,
            f"{prefix}.scale": self.scale,
            f"{prefix}.coef": self.coef,
            f"{prefix}.intercept": self.intercept,
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str, labels: tuple[str, ...]) -> LinearHead:
        return cls(
            labels,
            arrays[f"{prefix}.mean"],
            arrays[f"{prefix}.scale"],
            arrays[f"{prefix}.coef"],
            arrays[f"{prefix}.intercept"],
        )


def _gelu(z: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))


@dataclass
class MLPHead:
    """A few small feed-forward networks (one hidden layer) on standardised features.

    Why not the linear model: a force is often a *combination* of cues (a plain fact
    about the old way + a question about what went wrong = push; the same fact after
    "qu'est-ce qui vous a plu ?" = none), which a linear model over the concatenated
    embeddings cannot express. Cross-validated over training domains, one hidden layer
    took force macro-F1 from 0.626 to 0.658 and job type from 0.565 to 0.585 (alone,
    before the vote). Strong dropout (on the inputs too) and averaging ``members``
    networks trained from different seeds keep it from learning the team's phrasing.

    Trained with PyTorch (already there for sentence-transformers); stored as plain
    arrays and run with NumPy, so loading the tagger needs no torch and no pickle.
    """

    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray  # (members, d, hidden)
    b1: np.ndarray  # (members, hidden)
    w2: np.ndarray  # (members, hidden, n_labels)
    b2: np.ndarray  # (members, n_labels)

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: list[str],
        labels: tuple[str, ...],
        *,
        hidden: int = 256,
        epochs: int = 10,
        dropout: float = 0.5,
        input_dropout: float = 0.2,
        weight_decay: float = 0.01,
        members: int = 3,
        seed: int = 42,
    ) -> MLPHead:
        import torch

        mean, scale, present = _standardisation(x, y, labels)
        n = len(present)
        xt = torch.tensor((x - mean) / scale, dtype=torch.float32)
        yt = torch.tensor([present.index(v) for v in y])
        counts = np.bincount(yt.numpy(), minlength=n).astype(float)
        weight = torch.tensor(counts.sum() / (n * counts), dtype=torch.float32)  # balanced
        w1, b1, w2, b2 = [], [], [], []
        for member in range(members):
            torch.manual_seed(seed + member)
            net = torch.nn.Sequential(
                torch.nn.Dropout(input_dropout),
                torch.nn.Linear(x.shape[1], hidden),
                torch.nn.GELU(),
                torch.nn.Dropout(dropout),
                torch.nn.Linear(hidden, n),
            )
            opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=weight_decay)
            loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
            gen = torch.Generator().manual_seed(seed + member)
            net.train()
            for _ in range(epochs):
                order = torch.randperm(len(yt), generator=gen)
                for i in range(0, len(yt), 128):
                    batch = order[i : i + 128]
                    opt.zero_grad()
                    loss_fn(net(xt[batch]), yt[batch]).backward()
                    opt.step()
            first, last = net[1], net[4]
            w1.append(first.weight.detach().numpy().T.astype(np.float64))
            b1.append(first.bias.detach().numpy().astype(np.float64))
            # labels never seen in training get a very low constant logit
            w_out = np.zeros((hidden, len(labels)))
            b_out = np.full(len(labels), -30.0)
            for i, lab in enumerate(present):
                w_out[:, labels.index(lab)] = last.weight.detach().numpy()[i]
                b_out[labels.index(lab)] = last.bias.detach().numpy()[i]
            w2.append(w_out)
            b2.append(b_out)
        return cls(tuple(labels), mean, scale, *(np.stack(a) for a in (w1, b1, w2, b2)))

    def log_proba(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.scale
        members = [
            log_softmax(_gelu(z @ self.w1[m] + self.b1[m]) @ self.w2[m] + self.b2[m])
            for m in range(len(self.w1))
        ]
        return log_softmax(np.mean(members, axis=0))

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        keys = ("mean", "scale", "w1", "b1", "w2", "b2")
        return {f"{prefix}.{k}": getattr(self, k) for k in keys}

    @classmethod
    def from_arrays(cls, arrays, prefix: str, labels: tuple[str, ...]) -> MLPHead:
        return cls(
            labels, *(arrays[f"{prefix}.{k}"] for k in ("mean", "scale", "w1", "b1", "w2", "b2"))
        )


@dataclass
class Calibration:
    """How the two voters are mixed and turned into calibrated probabilities and labels.

    ``log p = log_softmax((alpha * log p_textcat + (1 - alpha) * log p_context) / T + bias)``;
    the label is ``argmax(log p + offset)`` (offsets tuned for macro-F1; the reported
    score stays the calibrated probability of that label).
    """

    alpha: float = 0.5
    temperature: float = 1.0
    bias: list[float] = field(default_factory=list)
    offset: list[float] = field(default_factory=list)

    def log_proba(self, lp_textcat: np.ndarray, lp_context: np.ndarray) -> np.ndarray:
        z = self.alpha * lp_textcat + (1 - self.alpha) * lp_context
        bias = np.asarray(self.bias) if self.bias else 0.0
        return log_softmax(z / self.temperature + bias)

    def decide(self, log_p: np.ndarray) -> np.ndarray:
        offset = np.asarray(self.offset) if self.offset else 0.0
        return (log_p + offset).argmax(axis=1)


@dataclass
class PhaseModel:
    head: LinearHead
    log_prior: np.ndarray
    prior: SequencePrior
    scale: float = 1.0

    def posterior(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        evidence = self.scale * (self.head.log_proba(x) - self.log_prior)
        return decode(evidence, self.prior)


class TextcatScorer:
    """Probabilities of a trained spaCy text classifier, in the order of ``labels``."""

    def __init__(self, path: Path, labels: tuple[str, ...]):
        import spacy

        self.nlp = spacy.load(path)
        self.labels = labels

    def log_proba(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.labels)))
        for i, doc in enumerate(self.nlp.pipe(texts, batch_size=128)):
            out[i] = [doc.cats.get(lab, 0.0) for lab in self.labels]
        out = np.clip(out, 1e-6, 1.0)
        return np.log(out / out.sum(axis=1, keepdims=True))


@dataclass
class TagHead:
    textcat: TextcatScorer
    context: MLPHead
    calibration: Calibration

    def predict(self, texts: list[str], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(label indices, calibrated probabilities)`` for ``len(texts)`` sentences."""
        lp = self.calibration.log_proba(self.textcat.log_proba(texts), self.context.log_proba(x))
        return self.calibration.decide(lp), np.exp(lp)


class TrainedTagger:
    """Implements :class:`~.base.Tagger` with the models in ``model_dir``."""

    def __init__(self, model_dir: str | Path, nlp: Language):
        from pipeline.config import SegmentsConfig
        from pipeline.segments.embedders import get_embedder
        from pipeline.tagging.features import RuleFeatures

        self.model_dir = Path(model_dir)
        self.meta = read_meta(self.model_dir)
        arrays = np.load(self.model_dir / "heads.npz")
        ph = self.meta["phase"]
        self.phase = PhaseModel(
            LinearHead.from_arrays(arrays, "phase", PHASES),
            np.asarray(ph["log_prior"]),
            SequencePrior(**ph["prior"]),
            float(ph["scale"]),
        )
        self.heads = {
            tag: TagHead(
                TextcatScorer(self.model_dir / f"{tag}_textcat", labels),
                MLPHead.from_arrays(arrays, tag, labels),
                Calibration(**self.meta[tag]["calibration"]),
            )
            for tag, labels in TAGS.items()
        }
        self.embedder = get_embedder(SegmentsConfig(**self.meta["embedder"]))
        self.rules = RuleFeatures(nlp)

    def features(self, sentences: list[Sentence], docs: list[Doc]) -> np.ndarray:
        from pipeline.tagging.features import interview_features

        return interview_features(sentences, docs, self.rules, self.embedder)

    def __call__(self, sentences: list[Sentence], docs: list[Doc]) -> list[Sentence]:
        if len(sentences) != len(docs):
            raise ValueError(f"{len(sentences)} sentences but {len(docs)} docs")
        if not sentences:
            return sentences
        from pipeline.tagging.features import phase_features, tag_features

        x = self.features(sentences, docs)
        labels, post = self.phase.posterior(phase_features(x, sentences))
        for t, sent in enumerate(sentences):
            sent.phase = PHASES[int(labels[t])]
            sent.phase_score = round(float(post[t, labels[t]]), 4)
            sent.force, sent.force_score = NONE, 1.0
            sent.job_type, sent.job_type_score = NONE, 1.0
        rows = [t for t, s in enumerate(sentences) if s.role != INTERVIEWER]
        if rows:
            from pipeline.tagging.features import answered_questions, textcat_text

            questions = answered_questions(sentences)
            texts = [textcat_text(sentences[t].text, questions[t]) for t in rows]
            x_tags = tag_features(x[rows], [docs[t] for t in rows])
            for tag, head in self.heads.items():
                idx, proba = head.predict(texts, x_tags)
                for k, t in enumerate(rows):
                    label = TAGS[tag][int(idx[k])]
                    setattr(sentences[t], tag, label)
                    setattr(sentences[t], f"{tag}_score", round(float(proba[k, idx[k]]), 4))
        return sentences


@lru_cache(maxsize=4)
def _load(model_dir: str, nlp_id: int, fingerprint: str, nlp: Language) -> TrainedTagger:
    return TrainedTagger(model_dir, nlp)


def load_trained_tagger(model_dir: str | Path, nlp: Language) -> TrainedTagger:
    """The trained tagger in ``model_dir``, loaded once per process."""
    model_dir = str(Path(model_dir).resolve())
    return _load(model_dir, id(nlp), model_fingerprint(model_dir), nlp)
