"""Clustering of job sentences into job segments.

Two methods (``segments.method``): ``interviews`` (default) groups interviews by the job
they pursue and places their job sentences (:func:`cluster_by_interview`);
``sentences`` clusters the sentences themselves with UMAP + HDBSCAN, BERTopic-style
(:func:`cluster_embeddings`), which finds themes across interviews rather than jobs.

Only interviewee sentences whose job type is not ``none`` are clustered (domain.md: a
customer sentence belongs to a job segment exactly when it states a job). The result
is deterministic: the input is put in a canonical order, UMAP gets a fixed seed (which
also makes it single-threaded), HDBSCAN is deterministic, and segment ids are given by
size then by first sentence id.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from pipeline.config import SegmentsConfig
from pipeline.labels import INTERVIEWEE, NONE
from pipeline.records import Sentence

# Below this many job sentences UMAP is unreliable (spectral init, tiny kNN graphs):
# HDBSCAN then runs on the (normalised) embeddings themselves.
MIN_POINTS_FOR_UMAP = 20
# Weight of the interview's mean job embedding mixed into each sentence embedding.
# Job sentences of one interview are mostly about that interview's main job (domain.md:
# a constraint or feeling "attached to the interview's main job" belongs to its segment).
# Measured (USE, adjusted Rand index against the true jobs): hand-made test corpus
# 0.55 at weight 0, 1.0 at 0.3 and 0.5; 11 sample interviews: sentence-level 0.05 at 0,
# 0.13 at 0.3, 0.48 at 0.5. Above ~0.6 every interview becomes its own segment.
CONTEXT_WEIGHT = 0.5


def is_job_sentence(s: Sentence) -> bool:
    """An interviewee sentence that states a job (its job type is not ``none``)."""
    return s.role == INTERVIEWEE and s.job_type != NONE


def job_sentences(sentences: list[Sentence]) -> list[Sentence]:
    """The job sentences, in a canonical order (interview, position, id) whatever the input."""
    chosen = [s for s in sentences if is_job_sentence(s)]
    return sorted(chosen, key=lambda s: (s.interview_id, s.index, s.sentence_id))


def adaptive_min_cluster_size(n_points: int) -> int:
    """HDBSCAN ``min_cluster_size`` for a corpus of ``n_points`` job sentences.

    ~sqrt(n)/2, at least 3: 30 sentences -> 3, 100 -> 5, 1,000 -> 16, 10,000 -> 50. A
    10-interview corpus still splits into several segments and a 500-interview one does
    not explode into thousands of micro-segments.
    """
    return max(3, round(0.5 * math.sqrt(max(n_points, 1))))


def smooth_with_context(
    embeddings: np.ndarray, groups: list[str], weight: float = CONTEXT_WEIGHT
) -> np.ndarray:
    """Mix each row with the mean row of its group (interview), then re-normalise."""
    if weight <= 0 or len(embeddings) == 0:
        return embeddings
    out = np.empty_like(embeddings)
    group_arr = np.array(groups)
    for g in dict.fromkeys(groups):
        idx = np.flatnonzero(group_arr == g)
        mean = embeddings[idx].mean(axis=0)
        out[idx] = (1 - weight) * embeddings[idx] + weight * mean
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (out / norms).astype(np.float32)


def reduce(embeddings: np.ndarray, cfg: SegmentsConfig, n_components: int | None = None):
    """UMAP to ``n_components`` (default ``cfg.umap_components``), cosine, fixed seed.

    Returns the input unchanged when there are too few points for UMAP.
    """
    n = len(embeddings)
    n_components = n_components or cfg.umap_components
    if n < MIN_POINTS_FOR_UMAP or n_components >= embeddings.shape[1]:
        return embeddings
    import umap

    reducer = umap.UMAP(
        n_components=min(n_components, n - 2),
        n_neighbors=max(2, min(cfg.umap_neighbors, n - 1)),
        metric="cosine",
        min_dist=0.0,
        random_state=cfg.seed,
        init="spectral",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state", init fallbacks
        return reducer.fit_transform(embeddings).astype(np.float64)


@dataclass
class Clustering:
    """Labels (``-1`` = unassigned) and the space the clusters were found in."""

    labels: np.ndarray  # one per job sentence, 0..k-1 ordered like the ids S01.., or -1
    embeddings: np.ndarray  # the (context-smoothed) vectors used for centroids and quotes
    min_cluster_size: int
    n_noise_reassigned: int


def _hdbscan(points: np.ndarray, min_cluster_size: int, min_samples: int | None) -> np.ndarray:
    import hdbscan

    # Euclidean distance on unit vectors is monotone with cosine, so raw embeddings are
    # fine too; "leaf" is not used: "eom" gives fewer, larger segments, as wanted.
    model = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        metric="euclidean",
        cluster_selection_method="eom",
    )
    return model.fit_predict(np.asarray(points, dtype=np.float64))


def _small_groups(space: np.ndarray, min_similarity: float) -> np.ndarray:
    """Groups of a corpus too small for density clustering (HDBSCAN found nothing).

    Average-linkage agglomerative clustering, cutting where the mean cosine similarity
    falls under ``min_similarity``: one interview (whose sentences share its context
    vector) stays one segment, while unrelated interviews are not forced together.
    """
    if len(space) == 1:
        return np.zeros(1, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=1.0 - min_similarity,
    )
    return model.fit_predict(np.asarray(space, dtype=np.float64)).astype(int)


def centroids(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Normalised mean vector of each cluster ``0..max(labels)``."""
    k = int(labels.max()) + 1 if len(labels) else 0
    out = np.zeros((k, embeddings.shape[1]), dtype=np.float32)
    for c in range(k):
        mean = embeddings[labels == c].mean(axis=0)
        out[c] = mean / (np.linalg.norm(mean) or 1.0)
    return out


def cluster_embeddings(
    embeddings: np.ndarray,
    groups: list[str],
    sentence_ids: list[str],
    cfg: SegmentsConfig,
    *,
    context_weight: float = CONTEXT_WEIGHT,
) -> Clustering:
    """Cluster job-sentence embeddings (rows in canonical order) into ordered segments.

    ``groups`` are the interview ids of the rows (for context smoothing). Noise points
    go to the nearest centroid when ``cfg.reassign_noise`` and their cosine to it is at
    least ``cfg.noise_similarity``; the others stay ``-1``. When HDBSCAN finds no cluster
    at all (a handful of sentences), :func:`_small_groups` groups them by similarity:
    a single interview stays one segment, unrelated interviews stay apart. Labels are
    then renumbered by size (largest first), ties broken by the smallest sentence id.
    """
    n = len(embeddings)
    if n == 0:
        return Clustering(np.zeros(0, dtype=int), embeddings, 0, 0)
    space = smooth_with_context(embeddings, groups, context_weight)
    mcs = cfg.min_cluster_size or adaptive_min_cluster_size(n)
    if n < mcs:
        labels = _small_groups(space, cfg.noise_similarity)
    else:
        min_samples = cfg.min_samples or max(1, mcs // 2)
        labels = _hdbscan(reduce(space, cfg), mcs, min(min_samples, n - 1) or 1)
        if labels.max() < 0:
            labels = _small_groups(space, cfg.noise_similarity)
    reassigned = 0
    noise = np.flatnonzero(labels < 0)
    if cfg.reassign_noise and len(noise) and labels.max() >= 0:
        cents = centroids(space, labels)
        sims = space[noise] @ cents.T
        best = sims.argmax(axis=1)
        ok = sims[np.arange(len(noise)), best] >= cfg.noise_similarity
        labels = labels.copy()
        labels[noise[ok]] = best[ok]
        reassigned = int(ok.sum())
    return Clustering(_renumber(labels, sentence_ids), space, mcs, reassigned)


def _renumber(labels: np.ndarray, sentence_ids: list[str]) -> np.ndarray:
    """Canonical numbering: size desc, then first (smallest) sentence id; -1 stays -1."""
    clusters = sorted(
        {c for c in labels.tolist() if c >= 0},
        key=lambda c: (
            -int((labels == c).sum()),
            min(sid for sid, lab in zip(sentence_ids, labels, strict=True) if lab == c),
        ),
    )
    remap = {old: new for new, old in enumerate(clusters)}
    return np.array([remap.get(int(c), -1) for c in labels], dtype=int)


def interview_profiles(
    embeddings: np.ndarray,
    groups: list[str],
    job_types: list[str],
    lemma_docs: list[list[str]],
    cfg: SegmentsConfig,
) -> tuple[list[str], np.ndarray]:
    """Each interview's job profile and the interviews' pairwise similarity.

    Two views of the job an interview pursues, averaged with ``cfg.profile_weight``:
    the mean embedding of its functional job sentences (all its job sentences when it
    has none), centred on the corpus so that what every interview says ("avant",
    "j'avais peur") cancels out; and the TF-IDF of the content lemmas of its job
    sentences (the objects of the job: factures, prospects, rendez-vous). Returns the
    interview ids (sorted) and the ``(n, n)`` cosine similarity matrix.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    ids = sorted(set(groups))
    index = {iv: k for k, iv in enumerate(ids)}
    dim = embeddings.shape[1]
    emb = np.zeros((len(ids), dim))
    docs: list[list[str]] = [[] for _ in ids]
    for k, iv in enumerate(ids):
        rows = [i for i, g in enumerate(groups) if g == iv]
        functional = [i for i in rows if job_types[i] == "functional"] or rows
        emb[k] = embeddings[functional].mean(axis=0)
        for i in rows:
            docs[index[iv]].extend(lemma_docs[i])
    if len(ids) >= 3:
        emb -= emb.mean(axis=0)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12
    sim = emb @ emb.T
    texts = [" ".join(d) for d in docs]
    if any(texts) and cfg.profile_weight < 1:
        tfidf = TfidfVectorizer(sublinear_tf=True, token_pattern=r"\S+").fit_transform(texts)
        t = tfidf.toarray()
        t /= np.linalg.norm(t, axis=1, keepdims=True) + 1e-12
        sim = cfg.profile_weight * sim + (1 - cfg.profile_weight) * (t @ t.T)
    return ids, sim


def cluster_by_interview(
    embeddings: np.ndarray,
    groups: list[str],
    sentence_ids: list[str],
    job_types: list[str],
    lemma_docs: list[list[str]],
    cfg: SegmentsConfig,
) -> Clustering:
    """Group *interviews* by the job they pursue, then place every job sentence.

    A switch interview reconstructs one decision, so its job sentences mostly serve one
    job (domain.md); clustering sentence by sentence groups them by theme (price,
    reassurance) instead. Interviews are grouped by average-linkage agglomerative
    clustering of their job profiles (:func:`interview_profiles`), cut at the distance
    ``cfg.interview_distance``: it needs no minimum cluster size, so it behaves the same
    on 10 interviews and on 5,000 (the similarity matrix is n x n interviews). Each job
    sentence joins its interview's segment, unless it is closer to another segment's
    centroid by more than ``cfg.secondary_margin`` (a second job told in passing).
    """
    n = len(embeddings)
    if n == 0:
        return Clustering(np.zeros(0, dtype=int), embeddings, 0, 0)
    ids, sim = interview_profiles(embeddings, groups, job_types, lemma_docs, cfg)
    if len(ids) == 1:
        iv_labels = np.zeros(1, dtype=int)
    else:
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(
            n_clusters=None,
            metric="precomputed",
            linkage="average",
            distance_threshold=cfg.interview_distance,
        )
        iv_labels = model.fit_predict(np.clip(1.0 - sim, 0.0, 2.0)).astype(int)
    of = dict(zip(ids, iv_labels.tolist(), strict=True))
    labels = np.array([of[g] for g in groups], dtype=int)
    moved = 0
    if cfg.secondary_margin < 1 and labels.max() > 0:
        cents = centroids(embeddings, labels)
        sims = embeddings @ cents.T
        own = sims[np.arange(n), labels]
        best = sims.argmax(axis=1)
        move = (best != labels) & (sims[np.arange(n), best] - own > cfg.secondary_margin)
        labels = np.where(move, best, labels)
        moved = int(move.sum())
    return Clustering(_renumber(labels, sentence_ids), embeddings, 0, moved)


def segment_id(k: int, n_segments: int) -> str:
    """``S01``, ``S02``... (three digits when there are 100 segments or more)."""
    width = max(2, len(str(n_segments)))
    return f"S{k + 1:0{width}d}"
