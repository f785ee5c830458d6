"""Sentences: spaCy split, times from words, ids stable across re-runs and edits."""

from __future__ import annotations

from pipeline.records import Transcript, Turn, Word
from pipeline.sentences import sentence_id, split_sentences


def _transcript(turns):
    return Transcript(
        "itw", "itw.txt", "text", turns, roles={"Q": "interviewer", "R": "interviewee"}
    )


def test_split_roles_and_fragments(nlp):
    tr = _transcript(
        [
            Turn(0, "Q", "Avant, comment faisiez-vous ?"),
            Turn(1, "R", "Euh. Bah on notait tout sur papier. Et on perdait des clients."),
        ]
    )
    sentences, docs = split_sentences(tr, nlp)
    assert [s.text for s in sentences] == [
        "Avant, comment faisiez-vous ?",
        "Euh. Bah on notait tout sur papier.",
        "Et on perdait des clients.",
    ]
    assert [s.role for s in sentences] == ["interviewer", "interviewee", "interviewee"]
    assert [s.index for s in sentences] == [0, 1, 2]
    assert len(docs) == 3 and docs[2].text == "Et on perdait des clients."
    assert "perdre" in sentences[2].lemmas.split() or "client" in sentences[2].lemmas.split()


def test_a_question_keeps_its_question_mark(nlp):
    """French puts a space before "?", and the parser often makes the final "?" a
    sentence of its own: it goes back to the question, which the tagger needs to know
    as the question the next answers reply to."""
    tr = _transcript(
        [
            Turn(0, "Q", "Et du coup, qu'est-ce que vous avez fait, concrètement ?"),
            Turn(1, "R", "J'ai appelé mon beau-frère. Il avait changé l'année d'avant !"),
            Turn(2, "Q", "Ah bon ? Et le prix ?"),
        ]
    )
    sentences, docs = split_sentences(tr, nlp)
    assert [s.text for s in sentences] == [
        "Et du coup, qu'est-ce que vous avez fait, concrètement ?",
        "J'ai appelé mon beau-frère.",
        "Il avait changé l'année d'avant !",
        "Ah bon ?",
        "Et le prix ?",
    ]
    assert docs[0][-1].text == "?"


def test_ids_stable_and_independent_of_position(nlp):
    a = _transcript([Turn(0, "R", "On perdait des clients. On perdait des clients.")])
    b = _transcript(
        [
            Turn(0, "Q", "Une question ?"),
            Turn(1, "R", "On perdait des clients. On perdait des clients."),
        ]
    )
    ids_a = [s.sentence_id for s in split_sentences(a, nlp)[0]]
    ids_b = [s.sentence_id for s in split_sentences(b, nlp)[0]][1:]
    assert ids_a == ids_b  # inserting a sentence before does not move the ids
    assert ids_a[0] != ids_a[1] and ids_a[1].endswith("-2")  # repeated sentence, distinct id
    assert sentence_id("itw", "On  perdait des clients.", 1) == ids_a[0]  # spacing does not matter


def test_times_from_words(nlp):
    words = [
        Word(0.0, 0.2, "Je"),
        Word(0.2, 0.4, "vais"),
        Word(0.4, 0.6, "bien."),
        Word(1.0, 1.3, "On"),
        Word(1.3, 1.6, "a"),
        Word(1.6, 2.2, "signé"),
        Word(2.2, 2.9, "hier."),
    ]
    tr = _transcript([Turn(0, "R", "Je vais bien. On a signé hier.", 0.0, 2.9, words)])
    sentences, _ = split_sentences(tr, nlp)
    assert [(s.start, s.end) for s in sentences] == [(0.0, 0.6), (1.0, 2.9)]


def test_times_interpolated_in_timestamped_text_turns(nlp):
    tr = _transcript(
        [Turn(0, "R", "Première phrase assez longue ici. Deuxième phrase.", 10.0, 20.0)]
    )
    sentences, _ = split_sentences(tr, nlp)
    assert sentences[0].start == 10.0
    assert 10.0 < sentences[1].start < 20.0 and sentences[1].end == 20.0


def test_no_times_when_unknown(nlp):
    tr = _transcript([Turn(0, "R", "Pas de temps ici.")])
    s = split_sentences(tr, nlp)[0][0]
    assert s.start is None and s.end is None


def test_a_sentence_that_goes_on_is_glued_back(nlp):
    """The parser's cuts inside a sentence: before a comma, inside a hyphenated word,
    before a lower-case word when no full stop came before (punctuated text only)."""
    from pipeline.sentences import _goes_on

    doc = nlp("Ça, pour moi , c'est Paris-Nantes. bon, voilà")
    at = {tok.text: tok.i for tok in doc}
    assert _goes_on(doc, at["pour"] + 2, punctuated=True)  # ", c'est"
    assert _goes_on(doc, at["Nantes"], punctuated=True) or _goes_on(
        doc, at["Nantes"] - 1, punctuated=True)  # "-Nantes" / "-" "Nantes"
    assert not _goes_on(doc, at["bon"], punctuated=True)  # a full stop came before
    assert _goes_on(doc, at["voilà"], punctuated=True)  # "bon," then "voilà"
    assert not _goes_on(doc, at["voilà"], punctuated=False)  # no punctuation: parser's cut
    assert not _goes_on(doc, 0, punctuated=True)
    tr = _transcript([Turn(0, "R", "J'ai fait quatre allers-retours Paris-Nantes ce mois-là.")])
    assert [s.text for s in split_sentences(tr, nlp)[0]] == [
        "J'ai fait quatre allers-retours Paris-Nantes ce mois-là."
    ]
