"""Rule tagger: forces, job types, phase sequence; on hand-built sentences, small spaCy model."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import TaggingConfig
from pipeline.labels import FORCES, INTERVIEWEE, INTERVIEWER, JOB_TYPES, NONE, PHASES
from pipeline.records import Sentence
from pipeline.tagging import RuleTagger, SequencePrior, Tagger, decode, get_tagger


@pytest.fixture(scope="module")
def tagger(nlp):
    return RuleTagger(nlp, TaggingConfig())


def make(lines: list[tuple[str, str]]) -> list[Sentence]:
    """``[(role, text), ...]`` -> sentences of one interview (role 'Q' = interviewer)."""
    out = []
    for i, (role, text) in enumerate(lines):
        r = INTERVIEWER if role == "Q" else INTERVIEWEE
        out.append(Sentence("itw", f"s{i}", turn=i, index=i, speaker=role, role=r, text=text))
    return out


def tag(tagger, nlp, lines):
    sentences = make(lines)
    return tagger(sentences, list(nlp.pipe(s.text for s in sentences)))


def one(tagger, nlp, text: str) -> Sentence:
    return tag(tagger, nlp, [("R", text)])[0]


INTERVIEW = [
    ("Q", "Bonjour, merci d'avoir accepté cet entretien."),
    ("Q", "Avant, comment faisiez-vous pour suivre vos prospects ?"),
    ("R", "On notait tout dans un tableur Excel."),
    ("R", "C'était pas la joie, on perdait des clients parce que personne ne rappelait."),
    ("R", "Mais bon, mon tableur, je le connais par cœur."),
    ("Q", "Qu'est-ce qui s'est passé ce jour-là ?"),
    ("R", "Un jour, on a raté un gros contrat parce que personne n'avait rappelé le client."),
    ("R", "Je me suis dit qu'il fallait faire quelque chose."),
    ("Q", "Quelles autres solutions avez-vous envisagées ?"),
    ("R", "Du coup j'ai cherché sur internet et j'ai comparé trois logiciels."),
    ("R", "J'avais peur que l'équipe ne suive pas."),
    ("Q", "Qu'est-ce qui a fait pencher la balance ?"),
    ("R", "L'idée de tout voir sur mon téléphone, ça m'a plu."),
    ("R", "Finalement j'ai signé pour un abonnement à trente euros par mois."),
    ("Q", "Et aujourd'hui, qu'est-ce qui manque encore ?"),
    ("R", "Aujourd'hui je l'utilise tous les jours."),
    ("R", "Avant, je notais tout sur papier."),  # flash-back: talks about before
    ("R", "Je le recommanderais à un ami."),
]
EXPECTED_PHASES = [
    "before", "before", "before", "before", "before",
    "trigger", "trigger", "trigger",
    "exploring", "exploring", "exploring",
    "deciding", "deciding", "deciding",
    "after", "after", "before", "after",
]


# ------------------------------------------------------------------ forces


@pytest.mark.parametrize(
    ("text", "force"),
    [
        ("On perdait des clients parce que personne ne rappelait.", "push"),
        ("Franchement, c'était pas la joie.", "push"),
        ("Au bout d'un moment ça marchait pas, on en avait marre.", "push"),
        ("Rien ne marchait correctement.", "push"),
        ("L'idée de tout voir sur mon téléphone, ça m'a plu.", "pull"),
        ("Ce qui m'a attiré, c'est de gagner du temps.", "pull"),
        ("On a toujours fait comme ça.", "habit"),
        ("Mon tableur, je le connais par cœur.", "habit"),
        ("L'ancien logiciel me manque un peu.", "habit"),
        ("J'avais peur que l'équipe ne suive pas.", "anxiety"),
        ("Et si ça plante ?", "anxiety"),
        ("J'avais peur de perdre mes données.", "anxiety"),
        ("On est une agence de douze personnes.", NONE),
        ("Euh, c'était en mars je crois.", NONE),
    ],
)
def test_clear_forces(tagger, nlp, text, force):
    s = one(tagger, nlp, text)
    assert s.force == force, (text, s.force, s.force_score)


@pytest.mark.parametrize(
    "text",
    [
        "J'avais pas peur que ça plante.",
        "Je n'avais aucune crainte.",
        "Ça ne m'inquiétait jamais.",
    ],
)
def test_negated_cue_is_not_the_force(tagger, nlp, text):
    assert one(tagger, nlp, text).force != "anxiety"


def test_negation_inside_the_cue_still_counts(tagger, nlp):
    # the cue holds its own negation: "pas la joie" is dissatisfaction, not its negation
    assert one(tagger, nlp, "C'était pas la joie.").force == "push"
    assert one(tagger, nlp, "C'était la joie.").force != "push"


def test_comparative_plus_is_not_a_negation(tagger, nlp):
    assert one(tagger, nlp, "C'est plus simple et plus pratique.").force == "pull"


def test_resolved_worry_is_none(tagger, nlp):
    assert one(tagger, nlp, "J'avais peur au début, mais la démo m'a rassuré.").force == NONE


def test_force_score_threshold(nlp):
    strict = RuleTagger(nlp, TaggingConfig(min_force_score=0.99))
    s = tag(strict, nlp, [("R", "C'était un peu lent.")])[0]
    assert s.force == NONE


def test_question_carries_its_force_to_a_short_answer(tagger, nlp):
    out = tag(tagger, nlp, [("Q", "Qu'est-ce qui vous dérange encore ?"), ("R", "Les emballages.")])
    assert out[1].force == "push"
    out = tag(tagger, nlp, [("Q", "Et vous habitez où ?"), ("R", "Les emballages.")])
    assert out[1].force == NONE


# ------------------------------------------------------------------ job types


@pytest.mark.parametrize(
    ("text", "job"),
    [
        ("Je voulais surtout ne plus perdre de prospects.", "functional"),
        ("Ce qu'il me fallait, c'était un outil simple pour suivre mes clients.", "functional"),
        ("Je voulais être rassuré et ne plus stresser le dimanche soir.", "emotional_personal"),
        ("Je voulais paraître organisé et professionnel devant mon directeur.", "emotional_social"),
        ("On avait un budget limité, trente euros par mois maximum.", "related"),
        ("Il fallait pouvoir annuler sans frais.", "related"),
        ("Euh, c'était en mars je crois.", NONE),
        ("On notait les rendez-vous dans le cahier.", NONE),
    ],
)
def test_job_types(tagger, nlp, text, job):
    s = one(tagger, nlp, text)
    assert s.job_type == job, (text, s.job_type, s.job_type_score)


def test_need_without_solution_is_force_none_job_functional(tagger, nlp):
    s = one(tagger, nlp, "Ce qu'il me fallait, c'était un outil pour tout centraliser.")
    assert (s.force, s.job_type) == (NONE, "functional")


# ------------------------------------------------------------------ interviewer


def test_interviewer_sentences_get_no_force_nor_job(tagger, nlp):
    out = tag(tagger, nlp, [
        ("Q", "Est-ce que vous aviez peur que ça plante, que ce soit trop cher ?"),
        ("Q", "Vous vouliez gagner du temps ?"),
    ])
    for s in out:
        assert (s.force, s.job_type) == (NONE, NONE)
        assert s.phase in PHASES


# ------------------------------------------------------------------ phases


def test_five_phases_in_order_with_a_flash_back(tagger, nlp):
    out = tag(tagger, nlp, INTERVIEW)
    assert [s.phase for s in out] == EXPECTED_PHASES


def test_without_the_cue_the_late_sentence_stays_in_after(tagger, nlp):
    lines = list(INTERVIEW)
    lines[16] = ("R", "Je note tout dans l'application.")
    assert tag(tagger, nlp, lines)[16].phase == "after"


def test_interview_starts_in_before(tagger, nlp):
    out = tag(tagger, nlp, [("Q", "Bonjour."), ("R", "Bonjour, merci.")])
    assert [s.phase for s in out] == ["before", "before"]


def test_labels_and_scores_are_valid(tagger, nlp):
    out = tag(tagger, nlp, INTERVIEW + [("R", "Bah."), ("R", "Ouais ouais, voilà quoi.")])
    for s in out:
        assert s.phase in PHASES and s.force in FORCES and s.job_type in JOB_TYPES
        for score in (s.phase_score, s.force_score, s.job_type_score):
            assert 0.0 <= score <= 1.0
    assert all(s.phase_score > 0.2 for s in out)  # a posterior of 5 phases is at least 0.2


def test_empty_interview_and_length_mismatch(tagger, nlp):
    assert tagger([], []) == []
    with pytest.raises(ValueError, match="docs"):
        tagger(make([("R", "Bonjour.")]), [])


def test_sequence_prior_excursion_versus_move():
    """One strong cue under a very sticky prior is an excursion; two move the cursor."""
    ev = np.zeros((6, 5))
    ev[0, 0] = ev[3, 2] = 3.0
    sticky = SequencePrior(stay=0.95, back=0.01)
    labels, post = decode(ev, sticky)
    assert list(labels) == [0, 0, 0, 2, 0, 0]
    assert np.allclose(post.sum(axis=1), 1.0)
    ev[4, 2] = 3.0
    assert list(decode(ev, sticky)[0][3:]) == [2, 2, 2]
    ev[4, 2] = 0.0
    assert list(decode(ev, SequencePrior(stay=0.86, back=0.02))[0][3:]) == [2, 2, 2]


def test_decode_many_is_decode_under_each_prior():
    """The grid search of ``make train`` decodes every prior at once: each row must be
    exactly what :func:`decode` gives for that prior and evidence."""
    from pipeline.tagging.sequence import decode_many

    rng = np.random.default_rng(0)
    ev = rng.normal(size=(40, 5)) * 2
    priors = [SequencePrior(stay=0.8, back=0.005, excursion_back=0.03),
              SequencePrior(stay=0.95, back=0.02, excursion_forward=0.04),
              SequencePrior()]
    scales = [0.3, 0.8, 1.0]
    labels, talk = decode_many(np.stack([s * ev for s in scales]), priors)
    assert labels.shape == (3, 40) and talk.shape == (3, 40, 5)
    for g, (prior, scale) in enumerate(zip(priors, scales, strict=True)):
        one_labels, one_talk = decode(scale * ev, prior)
        assert (labels[g] == one_labels).all()
        assert np.allclose(talk[g], one_talk)
    assert len({tuple(row) for row in labels}) > 1  # the priors do change the labels
    empty_labels, empty_talk = decode_many(np.zeros((2, 0, 5)), priors[:2])
    assert empty_labels.shape == (2, 0) and empty_talk.shape == (2, 0, 5)


def test_tagger_protocol_and_cache(nlp):
    cfg = TaggingConfig(method="rules")
    t = get_tagger(nlp, cfg)
    assert isinstance(t, Tagger)
    assert get_tagger(nlp, cfg) is t
    assert get_tagger(nlp, TaggingConfig(method="rules", min_job_score=0.7)) is not t


def test_trained_scorer_plugs_in(nlp):
    class AlwaysPull:
        def predict(self, doc):
            return "pull", 0.9

    t = RuleTagger(nlp, TaggingConfig(), force_scorer=AlwaysPull())
    out = tag(t, nlp, [("Q", "Avant ?"), ("R", "On a toujours fait comme ça.")])
    assert (out[0].force, out[1].force, out[1].force_score) == (NONE, "pull", 0.9)


def test_cue_matcher_finds_plain_and_pattern_cues_alike(nlp):
    """Plain cues go to the PhraseMatcher, cues with optional slots or placeholders to the
    Matcher: both find inflected forms (lemma) and unlemmatized ones (lower case), and a
    tie between two cues of the same span goes to the cue written first."""
    from pipeline.tagging.lexicon import CueMatcher

    entries = {
        "push": {"perdre|perdu des clients": 2.0, "vraiment? pénible": 1.5, "perdu": 1.0},
        "pull": {"ça m'a plu": 2.0, "<INF> vite": 1.0},
        "habit": {"perdu": 1.0},  # same span and weight as push's "perdu": push wins
    }
    matcher = CueMatcher(nlp, entries, source="test")
    assert len(matcher.matcher) == 2  # the two cues with "?" or a placeholder
    assert len(matcher.lower) == len(matcher.lemma) == 4  # the plain ones

    def found(text):
        return [(h.cue.label, h.cue.phrase, h.start, h.end) for h in matcher.hits(nlp(text))]

    assert found("On perdait des clients.") == [("push", "perdre|perdu des clients", 1, 4)]
    assert found("On a perdu des clients.") == [("push", "perdre|perdu des clients", 2, 5)]
    assert found("C'était vraiment pénible.") == [("push", "vraiment? pénible", 2, 4)]
    assert ("pull", "ça m'a plu", 0, 4) in found("ça m'a plu tout de suite")
    assert found("J'ai tout perdu.") == [("push", "perdu", 3, 4)]
    frames = found("Je voulais payer vite.")
    assert frames and frames[0][:2] == ("pull", "<INF> vite")
