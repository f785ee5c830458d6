"""Phase sequence model: a "story cursor" HMM with flash-back excursions.

The hidden state is the phase the interview has reached (the cursor). It starts in
``before``, mostly stays, moves forward, rarely goes back (``phase_stay``,
``phase_back``). Each sentence either talks about the cursor's phase or, with a small
prior probability, makes an *excursion* to another phase ("avant, je notais tout sur
papier" said while talking about today) without moving the cursor. Per-sentence cue
evidence (log-odds per phase) is the emission.

Forward-backward gives the posterior of the cursor; the label of a sentence is the
phase it talks about, whose posterior mixes the cursor posterior with the local
excursion odds. ``phase_score`` is that posterior for the chosen phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class SequencePrior:
    """Priors of the phase model (probabilities)."""

    stay: float = 0.86  # cursor stays in its phase
    back: float = 0.02  # cursor goes back (spread over earlier phases, nearest first)
    start_before: float = 0.9  # interviews start in the first phase
    excursion_back: float = 0.06  # a sentence talks about one given earlier phase
    excursion_forward: float = 0.02  # ... about one given later phase

    def transitions(self, n: int) -> np.ndarray:
        """Row-stochastic ``n x n`` matrix: stay, forward (next phase favoured), back."""
        t = np.zeros((n, n))
        for i in range(n):
            fwd = np.array([0.25 ** (j - i - 1) for j in range(i + 1, n)])
            bwd = np.array([0.5 ** (i - j - 1) for j in range(i)])
            p_fwd = 1.0 - self.stay - self.back if fwd.size else 0.0
            p_bwd = self.back if bwd.size else 0.0
            t[i, i] = 1.0 - p_fwd - p_bwd
            if fwd.size:
                t[i, i + 1:] = p_fwd * fwd / fwd.sum()
            if bwd.size:
                t[i, :i] = p_bwd * bwd / bwd.sum()
        return t

    def start(self, n: int) -> np.ndarray:
        rest = np.array([0.5**k for k in range(n - 1)])
        return np.concatenate([[self.start_before], (1 - self.start_before) * rest / rest.sum()])

    def talk_about(self, n: int) -> np.ndarray:
        """``w[s, q]``: prior that a sentence with cursor ``s`` talks about phase ``q``."""
        w = np.zeros((n, n))
        for s in range(n):
            for q in range(n):
                if q < s:
                    w[s, q] = self.excursion_back
                elif q > s:
                    w[s, q] = self.excursion_forward
            w[s, s] = 1.0 - w[s].sum()
        return w


def decode(evidence: np.ndarray, prior: SequencePrior) -> tuple[np.ndarray, np.ndarray]:
    """Phase posteriors for a sequence.

    ``evidence``: ``(T, n)`` log-odds per sentence and phase (0 = no cue).
    Returns ``(labels, talk_posterior)``: the index of the phase each sentence talks
    about and the ``(T, n)`` posterior it was chosen from (rows sum to 1).
    """
    labels, talk = decode_many(evidence[None], [prior])
    return labels[0], talk[0]


def decode_many(
    evidence: np.ndarray, priors: list[SequencePrior]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`decode` of one sequence under ``G`` priors at once: ``evidence`` is
    ``(G, T, n)`` (one row per prior, e.g. differently scaled), the results ``(G, T)``
    and ``(G, T, n)``. Training tries a grid of priors on every held-out interview;
    stepping through the sentences once for the whole grid, not once per prior, is what
    makes that cheap."""
    g_len, t_len, n = evidence.shape
    if t_len == 0:
        return np.zeros((g_len, 0), dtype=int), np.zeros((g_len, 0, n))
    # likelihoods, scaled per row for stability (scaling cancels in the posteriors)
    like = np.exp(evidence - evidence.max(axis=2, keepdims=True))
    w = np.stack([p.talk_about(n) for p in priors])  # (G, s, q)
    emit = np.einsum("gtq,gsq->gts", like, w)  # emit[t, s] = sum_q w[s, q] like[t, q]
    trans = np.stack([p.transitions(n) for p in priors])  # (G, from, to)

    alpha = np.zeros((g_len, t_len, n))
    a = np.stack([p.start(n) for p in priors]) * emit[:, 0]
    alpha[:, 0] = a / a.sum(axis=1, keepdims=True)
    for t in range(1, t_len):
        a = np.einsum("gs,gsr->gr", alpha[:, t - 1], trans) * emit[:, t]
        alpha[:, t] = a / a.sum(axis=1, keepdims=True)
    beta = np.ones((g_len, t_len, n))
    for t in range(t_len - 2, -1, -1):
        b = np.einsum("gsr,gr->gs", trans, emit[:, t + 1] * beta[:, t + 1])
        beta[:, t] = b / b.sum(axis=1, keepdims=True)
    cursor = alpha * beta
    cursor /= cursor.sum(axis=2, keepdims=True)

    # P(talk about q | all) = sum_s P(cursor s | all) * w[s,q] like[t,q] / emit[t,s]
    talk = np.einsum("gts,gsq,gtq->gtq", cursor / emit, w, like)
    talk /= talk.sum(axis=2, keepdims=True)
    return talk.argmax(axis=2), talk
