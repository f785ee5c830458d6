"""The trained tagger: what ``make train`` writes to ``models/tagger`` and the pipeline uses.

Three decisions per interview, each from the whole interview, not the sentence alone:

- **phase**: a linear model over the sentence features (:mod:`.features`) gives, per
  sentence, the probability of each phase; divided by the phase prior it becomes the
  emission of the story-cursor HMM of :mod:`.sequence` (transition and flash-back
  priors tuned on held-out interviews), and forward-backward gives the posterior.
- **force** and **job type** of interviewee sentences: a spaCy text classifier
  (``configs/textcat_<tag>.cfg``, the sentence's words) and a small network
  (:class:`ContextNet`) over the context features (embeddings of the sentence, the
  question it answers and the previous sentence, its mean word vector, rule evidence,
  position; for forces, each of its words and the stretch of interview around it too)
  vote in log space with a tuned weight. A calibrator (temperature + per-label bias,
  fitted on held-out interviews) turns the vote into probabilities that mean what they
  say; the label is the most probable one after a per-label decision offset tuned for
  macro-F1.

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

from pipeline.errors import ModelError
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
        # float32: lbfgs takes as many steps but each costs half as much (phase model on
        # 10,782 sentences x 2,593 features: 4.1 s -> 2.3 s, same 62 iterations)
        model.fit(((x - mean) / scale).astype(np.float32), [present.index(v) for v in y])
        # labels never seen in training get a very low constant logit
        coef = np.zeros((len(labels), x.shape[1]))
        intercept = np.full(len(labels), -30.0)
        if len(present) == 2:  # sklearn's binary case has one row of weights
            rows = np.vstack([-model.coef_[0] / 2, model.coef_[0] / 2])
            bias = np.array([-model.intercept_[0] / 2, model.intercept_[0] / 2])
        else:
            rows, bias = model.coef_, model.intercept_
        rows, bias = np.asarray(rows, dtype=np.float64), np.asarray(bias, dtype=np.float64)
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


def _conv1d(c: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int) -> np.ndarray:
    """``torch.nn.Conv1d`` over time with zero padding ("same" length): ``c`` is
    ``(T, c_in)``, ``w`` is ``(c_out, c_in, k)``."""
    k = w.shape[2]
    pad = dilation * (k // 2)
    padded = np.zeros((c.shape[0] + 2 * pad, c.shape[1]))
    padded[pad : pad + c.shape[0]] = c
    out = np.zeros((c.shape[0], w.shape[0])) + b
    for j in range(k):
        out += padded[j * dilation : j * dilation + c.shape[0]] @ w[:, :, j].T
    return out


@dataclass
class ContextNet:
    """Small networks that read each sentence with the stretch of interview around it.

    Each sentence's features (:mod:`.features`) go through one hidden layer, as in a
    plain feed-forward network; dilated convolutions over time then read the hidden
    layers of the sentences around it (kernel 5, dilations 1, 2, 4: fourteen sentences
    each side, interviewer's included), and the output layer reads both.

    Why a hidden layer: a force is often a *combination* of cues (a plain fact + a
    question about what went wrong = push; the same fact after "qu'est-ce qui vous a
    plu ?" = none), which a linear model over the concatenated features cannot express.
    Why the convolutions: a force belongs to a stretch of the story ("Train, hôtel,
    taxi, tout sur une timeline" is a pull inside the customer's account of the new
    app, a plain fact elsewhere). Cross-validated over training domains (force
    macro-F1, network alone): linear 0.626, hidden layer 0.676, with the convolutions
    0.707; dev 0.634 to 0.675. ``layers=0`` gives the plain one-hidden-layer network,
    which job types use (see ``pipeline.train.NET_SETTINGS``).

    Two more things help forces (see :meth:`fit`): a layer over each *word* of the
    sentence, max-pooled, whose output joins the sentence's features (a force often
    rests on one or two words that the sentence's mean vector drowns), and side tasks
    learnt by the same hidden layers during training only (the phase and the job type),
    which make them describe the story and not only the force's keywords.

    Strong dropout (on the inputs too) and averaging ``members`` networks trained from
    different seeds keep it from learning the team's phrasing. Trained with PyTorch
    (already there for sentence-transformers), one interview a step (without
    convolutions, shuffled batches of 128 sentences); stored as plain
    arrays and run with NumPy, so loading the tagger needs no torch and no pickle.
    """

    labels: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray  # (members, d, hidden)
    b1: np.ndarray  # (members, hidden)
    conv_w: list[np.ndarray]  # per layer: (members, c_out, c_in, kernel)
    conv_b: list[np.ndarray]  # per layer: (members, c_out)
    dilations: np.ndarray  # per layer
    w2: np.ndarray  # (members, hidden + c_out, n_labels)
    b2: np.ndarray  # (members, n_labels)
    word_w: np.ndarray | None = None  # (members, word dim, units): the layer over each word
    word_b: np.ndarray | None = None  # (members, units)
    centre: np.ndarray | None = None  # columns read relative to their interview's mean

    @classmethod
    def fit(
        cls,
        xs: list[np.ndarray],
        ys: list[list[str | None]],
        labels: tuple[str, ...],
        *,
        hidden: int = 256,
        conv: int = 64,
        kernel: int = 5,
        layers: int = 3,
        epochs: int = 10,
        dropout: float = 0.5,
        input_dropout: float = 0.2,
        weight_decay: float = 0.01,
        members: int = 3,
        seed: int = 42,
        aux: dict[str, tuple[tuple[str, ...], list[list[str | None]]]] | None = None,
        aux_weight: float = 1.0,
        words: list[tuple[np.ndarray, np.ndarray]] | None = None,
        word_units: int = 0,
        centre: np.ndarray | None = None,
    ) -> ContextNet:
        """``xs``: one ``(T, d)`` feature matrix per interview, its sentences in order;
        ``ys``: their labels, ``None`` where a sentence has none (the interviewer's):
        those sentences are read as context and never scored.

        ``aux``: other tags learnt by the same network as side tasks, ``name -> (labels,
        per-interview labels)`` (``None`` where unknown). Their output layers are only
        there during training (their loss, times ``aux_weight``, is added to the main
        one) and are not kept: they make the hidden layers describe the story (which
        phase, which kind of job) and not only the main tag's cues. Forces learnt with
        phases and job types: cross-validated macro-F1 0.707 -> 0.718, dev 0.675 -> 0.682.

        ``words``: per interview, :func:`~.features.word_vectors` of its sentences;
        with ``word_units`` > 0, a layer of that many units reads each word vector and
        its maximum over the sentence joins the sentence's features: the words that
        carry a force ("ça m'a plu", "un frigo") stand out of the sentence instead of
        being averaged away. Forces with phases and job types as side tasks:
        cross-validated 0.718 -> 0.727.

        ``centre``: columns of ``x`` read relative to their mean over the interview
        (see :func:`centre_columns`), such as the sentence embeddings: what a sentence
        says *in this interview*, once the interview's topic (energy bills, a carte grise)
        is taken out. It is how the network carries over to domains it never saw.
        """
        import torch

        if centre is not None:
            centre = np.asarray(centre, dtype=np.int64)
            xs = [centre_columns(x, centre) for x in xs]

        if word_units and words is None:
            raise ValueError("word_units needs the words of every interview (words=...)")

        flat = [v for y in ys for v in y if v is not None]
        labelled = np.vstack([x[[t for t, v in enumerate(y) if v is not None]]
                              for x, y in zip(xs, ys, strict=True)])
        mean, scale, present = _standardisation(labelled, flat, labels)
        n = len(present)
        aux = aux or {}
        # every task's targets, main first: per interview, label index or -100 (none)
        tasks = [(present, ys)] + [(list(a_labels), a_ys) for a_labels, a_ys in aux.values()]
        targets = [
            [np.array([lab.index(v) if v is not None else -100 for v in y]) for y in t_ys]
            for lab, t_ys in tasks
        ]
        def word_input(vectors: np.ndarray, counts: np.ndarray):  # float16 kept: memory
            sentence = np.repeat(np.arange(len(counts)), counts)
            return (torch.from_numpy(np.ascontiguousarray(vectors)),
                    torch.from_numpy(sentence), len(counts))

        if layers:  # one interview a step: the convolutions read it whole
            data = [
                (torch.tensor((x - mean) / scale, dtype=torch.float32),
                 [torch.tensor(task[i]) for task in targets],
                 word_input(*words[i]) if word_units else None)
                for i, x in enumerate(xs)
            ]
        else:  # no context to read: shuffled batches of sentences labelled for any task
            keep = [np.any([task[i] >= 0 for task in targets], axis=0) for i in range(len(xs))]
            rows = np.vstack([x[k] for x, k in zip(xs, keep, strict=True)])
            row_words = None
            if word_units:  # the words of the kept sentences, as one word_vectors() output
                picked = [_select_words(v, c, np.flatnonzero(k))
                          for (v, c), k in zip(words, keep, strict=True)]
                row_words = (np.concatenate([v for v, _ in picked]),
                             np.concatenate([c for _, c in picked]))
            data = [
                (torch.tensor((rows - mean) / scale, dtype=torch.float32),
                 [torch.tensor(np.concatenate([t[k] for t, k in zip(task, keep, strict=True)]))
                  for task in targets],
                 row_words)
            ]
            if word_units:
                starts = np.r_[0, np.cumsum(row_words[1])[:-1]]
        loss_fns = []
        for (lab, _), task in zip(tasks, targets, strict=True):
            y_all = np.concatenate(task)
            counts = np.bincount(y_all[y_all >= 0], minlength=len(lab)).astype(float)
            counts += counts == 0  # a side task's label absent from the data
            weight = torch.tensor(counts.sum() / (len(lab) * counts), dtype=torch.float32)
            loss_fns.append(torch.nn.CrossEntropyLoss(weight=weight, ignore_index=-100))
        dilations = [2**layer for layer in range(layers)]
        trained = []
        for member in range(members):
            torch.manual_seed(seed + member)
            net = _TorchContextNet(xs[0].shape[1], n, hidden, conv, kernel, dilations,
                                   dropout, input_dropout,
                                   aux=[len(a_labels) for a_labels, _ in aux.values()],
                                   words=(words[0][0].shape[1], word_units) if word_units else None)
            opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=weight_decay)
            gen = torch.Generator().manual_seed(seed + member)
            net.train()
            for _ in range(epochs):
                if layers:
                    steps = [data[i] for i in torch.randperm(len(data), generator=gen).tolist()]
                else:
                    x_all, y_all, w_all = data[0]
                    order = torch.randperm(len(x_all), generator=gen)
                    steps = [(x_all[order[i : i + 128]], [y[order[i : i + 128]] for y in y_all],
                              None if w_all is None else word_input(*_select_words(
                                  *w_all, order[i : i + 128].numpy(), starts)))
                             for i in range(0, len(x_all), 128)]
                for x, y, w in steps:
                    if (y[0] >= 0).any():
                        opt.zero_grad()
                        outputs = net(x, words=w, with_aux=True)
                        loss = loss_fns[0](outputs[0], y[0])
                        for fn, out, target in zip(loss_fns[1:], outputs[1:], y[1:], strict=True):
                            if (target >= 0).any():
                                loss = loss + aux_weight * fn(out, target)
                        loss.backward()
                        opt.step()
            trained.append(net)

        def stack(get) -> np.ndarray:
            return np.stack([get(net).detach().numpy().astype(np.float64) for net in trained])

        # labels never seen in training get a very low constant logit
        w_out = np.zeros((members, hidden + (conv if layers else 0), len(labels)))
        word_w = word_b = None
        if word_units:
            word_w = stack(lambda net: net.words.weight).transpose(0, 2, 1)
            word_b = stack(lambda net: net.words.bias)
        b_out = np.full((members, len(labels)), -30.0)
        out_w, out_b = stack(lambda net: net.out.weight), stack(lambda net: net.out.bias)
        for i, lab in enumerate(present):
            w_out[:, :, labels.index(lab)] = out_w[:, i]
            b_out[:, labels.index(lab)] = out_b[:, i]
        return cls(
            tuple(labels), mean, scale,
            stack(lambda net: net.first.weight).transpose(0, 2, 1),
            stack(lambda net: net.first.bias),
            [stack(lambda net, k=k: net.convs[k].weight) for k in range(layers)],
            [stack(lambda net, k=k: net.convs[k].bias) for k in range(layers)],
            np.asarray(dilations, dtype=np.int64),
            w_out, b_out, word_w, word_b, centre,
        )

    def log_proba(
        self, x: np.ndarray, words: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """``(T, n_labels)`` log-probabilities for one interview's sentences, in order
        (``words``: their :func:`~.features.word_vectors`, needed when the network reads
        words)."""
        if self.centre is not None:
            x = centre_columns(x, self.centre)
        z = (x - self.mean) / self.scale
        if self.word_w is not None:
            if words is None:
                raise ValueError("this network reads the words of each sentence: pass words=")
            vectors, counts = words
            vectors = np.asarray(vectors, dtype=np.float64)
            filled = np.flatnonzero(counts)  # sentences with words, their first word
            firsts = np.r_[0, np.cumsum(counts)[:-1]][filled]
        members = []
        for m in range(len(self.w1)):
            inputs = z
            if self.word_w is not None:
                units = _gelu(vectors @ self.word_w[m] + self.word_b[m])  # (words, units)
                pooled = np.zeros((len(z), units.shape[1]))
                if len(filled):
                    pooled[filled] = np.maximum.reduceat(units, firsts, axis=0)
                inputs = np.hstack([z, pooled])
            h = _gelu(inputs @ self.w1[m] + self.b1[m])
            c = h
            for w, b, dil in zip(self.conv_w, self.conv_b, self.dilations, strict=True):
                c = _gelu(_conv1d(c, w[m], b[m], int(dil)))
            feats = np.hstack([h, c]) if self.conv_w else h
            members.append(log_softmax(feats @ self.w2[m] + self.b2[m]))
        return log_softmax(np.mean(members, axis=0))

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}.{k}": getattr(self, k)
               for k in ("mean", "scale", "w1", "b1", "dilations", "w2", "b2")}
        if self.word_w is not None:
            out[f"{prefix}.word_w"] = self.word_w
            out[f"{prefix}.word_b"] = self.word_b
        if self.centre is not None:
            out[f"{prefix}.centre"] = self.centre
        for k, (w, b) in enumerate(zip(self.conv_w, self.conv_b, strict=True)):
            out[f"{prefix}.conv{k}_w"] = w
            out[f"{prefix}.conv{k}_b"] = b
        return out

    @classmethod
    def from_arrays(cls, arrays, prefix: str, labels: tuple[str, ...]) -> ContextNet:
        layers = len(arrays[f"{prefix}.dilations"])
        return cls(
            labels,
            *(arrays[f"{prefix}.{k}"] for k in ("mean", "scale", "w1", "b1")),
            [arrays[f"{prefix}.conv{k}_w"] for k in range(layers)],
            [arrays[f"{prefix}.conv{k}_b"] for k in range(layers)],
            arrays[f"{prefix}.dilations"],
            arrays[f"{prefix}.w2"],
            arrays[f"{prefix}.b2"],
            arrays[f"{prefix}.word_w"] if f"{prefix}.word_w" in arrays else None,
            arrays[f"{prefix}.word_b"] if f"{prefix}.word_b" in arrays else None,
            arrays[f"{prefix}.centre"] if f"{prefix}.centre" in arrays else None,
        )


def centre_columns(x: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """A copy of one interview's ``x`` in which ``columns`` are minus their mean over
    the interview's sentences.

    Every sentence of an interview about energy bills shares a direction of the
    embedding space ("facture", "fournisseur"); in a domain the networks never saw, that
    direction is new and moves every sentence at once. Read relative to the interview's
    mean, a sentence keeps what sets it apart from the rest of the interview: a
    complaint, a relief, a hesitation. Training and tagging both see whole interviews,
    so the mean is the same kind of quantity in both."""
    out = np.array(x, dtype=np.float64, copy=True)
    if len(out) and len(columns):
        out[:, columns] -= out[:, columns].mean(axis=0)
    return out


def _select_words(vectors: np.ndarray, counts: np.ndarray, rows: np.ndarray,
                  starts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The :func:`~.features.word_vectors` of the sentences ``rows`` only, in that order
    (``starts``: each sentence's first word, when already computed)."""
    if starts is None:
        starts = np.r_[0, np.cumsum(counts)[:-1]]
    picked = [np.arange(starts[r], starts[r] + counts[r]) for r in rows]
    index = np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)
    return vectors[index], counts[rows]


def _TorchContextNet(d, n, hidden, conv, kernel, dilations, dropout, input_dropout, aux=(),
                     words=None):
    """The PyTorch twin of :class:`ContextNet` (one member), for training only; ``aux``:
    the label counts of the side tasks' output layers (training only, not kept);
    ``words``: ``(word vector dim, units)`` of the layer over each word, or None."""
    import torch

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.in_drop = torch.nn.Dropout(input_dropout)
            self.words = torch.nn.Linear(*words) if words else None
            self.first = torch.nn.Linear(d + (words[1] if words else 0), hidden)
            self.drop = torch.nn.Dropout(dropout)
            self.convs = torch.nn.ModuleList()
            c_in = hidden
            for dil in dilations:
                self.convs.append(torch.nn.Conv1d(c_in, conv, kernel, dilation=dil,
                                                  padding=dil * (kernel // 2)))
                c_in = conv
            width = hidden + (conv if dilations else 0)
            self.out = torch.nn.Linear(width, n)
            self.aux = torch.nn.ModuleList([torch.nn.Linear(width, k) for k in aux])

        def forward(self, x, words=None, with_aux: bool = False):  # x: (T, d), one interview
            inputs = self.in_drop(x)
            if self.words is not None:
                # every word of the interview (float16), the sentence of each, T
                vectors, sentence, n = words
                units = torch.nn.functional.gelu(self.words(self.in_drop(vectors.float())))
                index = sentence[:, None].expand(-1, units.shape[1])
                pooled = torch.zeros(n, units.shape[1]).scatter_reduce(
                    0, index, units, "amax", include_self=False)  # 0 where no word
                inputs = torch.cat([inputs, pooled], dim=-1)
            h = self.drop(torch.nn.functional.gelu(self.first(inputs)))
            parts = [h]
            if len(self.convs):
                c = h.T.unsqueeze(0)
                for layer in self.convs:
                    c = torch.nn.functional.gelu(layer(c))
                parts.append(self.drop(c[0].T))
            feats = torch.cat(parts, dim=-1)
            if with_aux:
                return [self.out(feats)] + [head(feats) for head in self.aux]
            return self.out(feats)

    return Net()


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

    def emission(self, x: np.ndarray) -> np.ndarray:
        """Per-sentence phase log-odds of the linear model (probability over prior),
        before the emission scale: what the sequence model decodes."""
        return self.head.log_proba(x) - self.log_prior

    def posterior(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return decode(self.scale * self.emission(x), self.prior)


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
    context: ContextNet
    calibration: Calibration

    def predict(
        self, texts: list[str], x: np.ndarray, rows: list[int], words=None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(label indices, calibrated probabilities)`` of the sentences ``rows`` of one
        interview (``x``: features of all its sentences, in order; ``words``: their
        :func:`~.features.word_vectors`; ``texts``: what the text classifier reads for
        each of ``rows``)."""
        lp_context = self.context.log_proba(x, words)[rows]
        lp = self.calibration.log_proba(self.textcat.log_proba(texts), lp_context)
        return self.calibration.decide(lp), np.exp(lp)


class TrainedTagger:
    """Implements :class:`~.base.Tagger` with the models in ``model_dir``."""

    def __init__(self, model_dir: str | Path, nlp: Language):
        from pipeline.config import SegmentsConfig
        from pipeline.segments.embedders import get_embedder
        from pipeline.tagging.features import RuleFeatures, spacy_widths

        self.model_dir = Path(model_dir)
        self.meta = read_meta(self.model_dir)
        trained_with, widths = self.meta.get("spacy_widths"), spacy_widths(nlp)
        if trained_with and trained_with != widths:
            name = f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}"
            raise ModelError(
                f"{self.model_dir} was trained with the spaCy model "
                f"{self.meta.get('spacy_model')!r}, whose features this run's {name!r} "
                f"cannot give ({trained_with} vs {widths} columns): set "
                f"nlp.spacy_model back to {self.meta.get('spacy_model')!r}, or run "
                "`make train` with this one"
            )
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
                ContextNet.from_arrays(arrays, tag, labels),
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
            x_tags = tag_features(x, docs)
            words = None
            if any(head.context.word_w is not None for head in self.heads.values()):
                from pipeline.tagging.features import word_vectors

                words = word_vectors(docs)
            for tag, head in self.heads.items():
                idx, proba = head.predict(texts, x_tags, rows, words)
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
