"""Job segments: groups of sentences, across interviews, that pursue the same job.

One module per extension axis, like BERTopic: :mod:`.embedders` (which model turns a
sentence into a vector, plus the disk cache), :mod:`.cluster` (UMAP + HDBSCAN over the
job sentences), :mod:`.represent` (keywords, job statement, quotes, forces, priority).

:func:`build_segments` is the library entry point; it takes plain :class:`Sentence`
records (tagged) and gives back :class:`Segment` and :class:`Quote` records.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from pipeline.config import SegmentsConfig
from pipeline.records import Quote, Segment, Sentence
from pipeline.segments.cluster import (
    CONTEXT_WEIGHT,
    adaptive_min_cluster_size,
    cluster_by_interview,
    cluster_embeddings,
    is_job_sentence,
    job_sentences,
    segment_id,
)
from pipeline.segments.embedders import (
    CachedEmbedder,
    Embedder,
    SentenceTransformerEmbedder,
    UseEmbedder,
    get_embedder,
)
from pipeline.segments.represent import (
    FLOOR,
    StatementRanker,
    best_job_statement,
    ctfidf_keywords,
    force_counts,
    interview_dissatisfaction,
    interview_pain,
    job_statement,
    job_type_counts,
    lemmas_of,
    select_quotes,
    weighted_mean,
)

MIN_POINTS_FOR_TSNE = 5  # t-SNE needs perplexity < points; fewer points: PCA

__all__ = [
    "CONTEXT_WEIGHT",
    "CachedEmbedder",
    "Embedder",
    "SentenceTransformerEmbedder",
    "StatementRanker",
    "UseEmbedder",
    "adaptive_min_cluster_size",
    "build_segments",
    "embed_job_sentences",
    "get_embedder",
    "is_job_sentence",
    "job_sentences",
    "job_statement",
    "load_statement_ranker",
    "project_2d",
]


def _resolve_embedder(
    cfg: SegmentsConfig, cache_dir: Path | None, embedder: Embedder | None
) -> Embedder:
    emb = embedder if embedder is not None else get_embedder(cfg)
    if cache_dir is not None and not isinstance(emb, CachedEmbedder):
        emb = CachedEmbedder(emb, cache_dir)
    return emb


def embed_job_sentences(
    sentences: list[Sentence],
    cfg: SegmentsConfig,
    *,
    cache_dir: Path | None = None,
    embedder: Embedder | None = None,
) -> tuple[list[Sentence], np.ndarray]:
    """The job sentences in canonical order and their embeddings (cached when asked)."""
    jobs = job_sentences(sentences)
    if not jobs:
        return [], np.zeros((0, 0), dtype=np.float32)
    emb = _resolve_embedder(cfg, cache_dir, embedder)
    return jobs, np.asarray(emb.embed([s.text for s in jobs]), dtype=np.float32)


def build_segments(
    sentences: list[Sentence],
    cfg: SegmentsConfig,
    *,
    nlp,
    cache_dir: Path | None = None,
    embedder: Embedder | None = None,
    context_weight: float | None = None,
    statement_ranker: StatementRanker | None = None,
) -> tuple[list[Segment], list[Quote]]:
    """Cluster the job sentences of a corpus into job segments and describe each one.

    ``sentences`` are all the tagged sentences of all interviews (the non-job ones give
    the interview counts, the pain and the dissatisfaction). ``nlp`` is a loaded French
    spaCy pipeline (parse for job statements, lemmas when ``Sentence.lemmas`` is empty).
    ``embedder`` overrides ``cfg.embedder``; with ``cache_dir`` vectors are cached on
    disk. ``context_weight`` mixes each sentence with its interview's mean job vector.
    ``statement_ranker`` (trained with the tagger, see :class:`StatementRanker`) picks
    the job statements; without it the hand-written scores do.

    Side effect: ``segment_id`` is set on every job sentence that joins a segment and
    reset to ``None`` on every other input sentence (so a stale id never survives a
    re-run). Same input, same config -> same segments, ids and quotes.

    Priority (domain.md: frequency x pain intensity x current dissatisfaction):
    frequency = share of the corpus's interviews in the segment; pain = mean over those
    interviews, weighted by their number of segment sentences, of the share of their
    interviewee sentences that are push (1) or anxiety (0.5); dissatisfaction = same
    weighted mean of the push share among their ``after`` interviewee sentences
    (interviews without an after phase take no part; none at all: the corpus mean).
    priority = frequency x max(pain, 0.05) x max(dissatisfaction, 0.05), divided by the
    largest value so the top segment has 1. The stored pain and dissatisfaction are the
    measured values, without the floor.
    """
    for s in sentences:
        s.segment_id = None
    jobs, vectors = embed_job_sentences(sentences, cfg, cache_dir=cache_dir, embedder=embedder)
    if not jobs:
        return [], []
    statement_args = {"ranker": statement_ranker}
    if cfg.method == "interviews":
        result = cluster_by_interview(
            vectors,
            [s.interview_id for s in jobs],
            [s.sentence_id for s in jobs],
            [s.job_type for s in jobs],
            [lemmas_of(s, nlp) for s in jobs],
            cfg,
        )
    else:
        result = cluster_embeddings(
            vectors,
            [s.interview_id for s in jobs],
            [s.sentence_id for s in jobs],
            cfg,
            context_weight=cfg.context_weight if context_weight is None else context_weight,
        )
    labels = result.labels
    n_seg = int(labels.max()) + 1 if len(labels) else 0
    if n_seg == 0:
        return [], []
    ids = [segment_id(k, n_seg) for k in range(n_seg)]
    for s, lab in zip(jobs, labels, strict=True):
        if lab >= 0:
            s.segment_id = ids[lab]

    all_interviews = sorted({s.interview_id for s in sentences})
    pain_by_iv = interview_pain(sentences)
    diss_by_iv = interview_dissatisfaction(sentences)
    corpus_diss = float(np.mean(list(diss_by_iv.values()))) if diss_by_iv else 0.0
    by_iv: dict[str, list[Sentence]] = {}
    for s in sentences:
        if s.role == "interviewee":
            by_iv.setdefault(s.interview_id, []).append(s)

    bags = [[w for i in np.flatnonzero(labels == k) for w in lemmas_of(jobs[i], nlp)]
            for k in range(n_seg)]
    bags.append([w for i in np.flatnonzero(labels < 0) for w in lemmas_of(jobs[i], nlp)])
    keywords = ctfidf_keywords(bags, cfg.n_keywords)

    segments: list[Segment] = []
    quotes: list[Quote] = []
    raw_priority: list[float] = []
    for k in range(n_seg):
        idx = np.flatnonzero(labels == k)
        members = [jobs[i] for i in idx]
        space = result.embeddings[idx]
        centroid = space.mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        # centrality and quote similarity in the raw embedding space (comparable scores)
        raw = vectors[idx]
        raw_centroid = raw.mean(axis=0)
        raw_centroid /= np.linalg.norm(raw_centroid) or 1.0
        sim = raw @ raw_centroid
        weights = Counter(s.interview_id for s in members)
        interviews = sorted(weights)
        pain = weighted_mean(pain_by_iv, weights, 0.0)
        diss = weighted_mean(diss_by_iv, weights, corpus_diss)
        freq = len(interviews) / len(all_interviews)
        raw_priority.append(freq * max(pain, FLOOR) * max(diss, FLOOR))
        context = [s for iv in interviews for s in by_iv.get(iv, [])]
        own = {}
        for iv in interviews:
            rows = [j for j, s in enumerate(members) if s.interview_id == iv]
            own[iv] = best_job_statement(
                [members[j] for j in rows], sim[rows], nlp, keywords=keywords[k],
                **statement_args,
            )
        segments.append(
            Segment(
                segment_id=ids[k],
                label=", ".join(keywords[k]),
                job_statement=best_job_statement(
                    members, sim, nlp, keywords=keywords[k], **statement_args
                ),
                n_sentences=len(members),
                n_interviews=len(interviews),
                interviews=interviews,
                frequency=round(freq, 4),
                pain=round(pain, 4),
                dissatisfaction=round(diss, 4),
                priority=0.0,
                forces=force_counts(context),
                job_types=job_type_counts(members),
                interview_statements=own,
            )
        )
        for rank, i in enumerate(
            select_quotes([s.interview_id for s in members], sim, raw, cfg.n_quotes), start=1
        ):
            s = members[i]
            quotes.append(
                Quote(
                    segment_id=ids[k],
                    rank=rank,
                    interview_id=s.interview_id,
                    sentence_id=s.sentence_id,
                    speaker=s.speaker,
                    start=s.start,
                    end=s.end,
                    text=s.text,
                    similarity=round(float(sim[i]), 4),
                )
            )
    top = max(raw_priority)
    for seg, p in zip(segments, raw_priority, strict=True):
        seg.priority = round(p / top, 4) if top > 0 else 0.0
    return segments, quotes


def project_2d(
    sentences: list[Sentence],
    cfg: SegmentsConfig,
    *,
    cache_dir: Path | None = None,
    embedder: Embedder | None = None,
) -> dict[str, tuple[float, float]]:
    """2-D coordinates of the job sentences (sentence id -> (x, y)) for a map in the report.

    t-SNE (scikit-learn, cosine, PCA start, the config's seed), PCA below 5 points; with
    ``cache_dir`` the embeddings come from the cache that :func:`build_segments` filled.
    Why not UMAP, as the segments' ``sentences`` method uses: the map is a picture in
    which nearby sentences say the same thing, and on the 280 job sentences of the
    sample run both keep 40 % of each sentence's 10 nearest neighbours (0.395 / 0.396);
    but UMAP took 10 s there, plus 15-25 s for numba to compile its code again in every
    process, and t-SNE 0.6 s (11 s for the 4,000 sentences the map shows at most).
    """
    jobs, vectors = embed_job_sentences(sentences, cfg, cache_dir=cache_dir, embedder=embedder)
    if not jobs:
        return {}
    if len(jobs) == 1:
        return {jobs[0].sentence_id: (0.0, 0.0)}
    vectors = np.asarray(vectors, dtype=np.float64)
    if len(jobs) >= MIN_POINTS_FOR_TSNE:
        from sklearn.manifold import TSNE

        coords = TSNE(
            n_components=2,
            metric="cosine",
            init="pca",
            perplexity=min(30.0, (len(jobs) - 1) / 3),
            random_state=cfg.seed,
        ).fit_transform(vectors)
    else:  # PCA via SVD
        centred = vectors - vectors.mean(axis=0)
        u, s, _ = np.linalg.svd(centred, full_matrices=False)
        coords = u[:, :2] * s[:2]
        if coords.shape[1] < 2:
            coords = np.hstack([coords, np.zeros((len(coords), 1))])
    return {s.sentence_id: (float(x), float(y)) for s, (x, y) in zip(jobs, coords, strict=True)}


def load_statement_ranker(model_dir: str | Path) -> StatementRanker | None:
    """The statement ranker trained with the tagger in ``model_dir`` (``make train``),
    with the sentence embedder it was trained with; ``None`` when there is none (a
    model trained by an older version, or no model yet)."""
    from pipeline.config import SegmentsConfig
    from pipeline.tagger_model import read_meta

    path = Path(model_dir) / "statements.npz"
    if not path.exists():
        return None
    meta = read_meta(Path(model_dir))
    arrays = np.load(path)
    embedder = get_embedder(SegmentsConfig(**meta["embedder"]))
    return StatementRanker(arrays["weights"], float(arrays["bias"]), embedder)
