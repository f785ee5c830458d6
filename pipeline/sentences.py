"""Split turns into sentences with spaCy, give them times and stable ids.

The sentence is the unit that is tagged, clustered and corrected by reviewers, so its
id must survive re-runs: it is derived from the interview id and the sentence's
normalised text (plus an occurrence number when the same sentence is said twice),
not from its position. A transcript edited elsewhere keeps the ids of the sentences
that did not change, and a reviewer's correction still finds its sentence.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter

from pipeline.records import Sentence, Transcript, Turn

_CONTENT_POS = {"NOUN", "VERB", "ADJ", "PROPN"}
_SPACE_RE = re.compile(r"\s+")
_CLOSING = {"?", "!", ".", "…", "...", "?!", "!?", "»", ")"}  # close the sentence before
_CONTINUING = {",", ";", ":"}  # no sentence starts with these: the one before goes on


def normalise(text: str) -> str:
    """Lower case, NFC, single spaces, typographic apostrophes folded: the id's basis."""
    text = unicodedata.normalize("NFC", text).replace("’", "'").lower()
    return _SPACE_RE.sub(" ", text).strip()


def sentence_id(interview_id: str, text: str, occurrence: int) -> str:
    digest = hashlib.sha1(normalise(text).encode("utf-8")).hexdigest()[:10]
    suffix = f"-{occurrence}" if occurrence > 1 else ""
    return f"{interview_id}-{digest}{suffix}"


def _word_offsets(turn: Turn) -> list[tuple[int, int]]:
    """Character span of each word of an audio turn inside ``turn.text``."""
    spans = []
    pos = 0
    for word in turn.words:
        token = word.text.strip()
        idx = turn.text.find(token, pos) if token else -1
        if idx < 0:
            spans.append((pos, pos))
            continue
        spans.append((idx, idx + len(token)))
        pos = idx + len(token)
    return spans


def _times(
    turn: Turn, char_start: int, char_end: int, offsets
) -> tuple[float | None, float | None]:
    if turn.words:
        inside = [
            w
            for w, (a, b) in zip(turn.words, offsets, strict=True)
            if b > char_start and a < char_end
        ]
        if inside:
            return round(inside[0].start, 2), round(inside[-1].end, 2)
    if turn.start is None:
        return None, None
    if turn.end is None or turn.end <= turn.start or not turn.text:
        return round(turn.start, 2), None
    # A timestamped text turn: place sentences in it by their share of its characters.
    span = turn.end - turn.start
    n = len(turn.text)
    return (
        round(turn.start + span * char_start / n, 2),
        round(turn.start + span * char_end / n, 2),
    )


def _goes_on(doc, start: int, punctuated: bool) -> bool:
    """Does the parser's sentence starting at token ``start`` continue the one before?

    Yes when it starts with a comma, a semicolon or a colon ("Et du coup" + ", qu'est-ce
    que vous avez fait ?"), with the second half of a hyphenated word ("Paris" +
    "-Nantes"), or, in a punctuated transcript, with a lower-case word after a sentence
    that did not end with a full stop ("Ça, pour moi" + "c'est de savoir où en sont mes
    dossiers."). In a transcript without punctuation every sentence starts in lower
    case, so the last rule is left out there.
    """
    if start == 0:
        return False
    tok, before = doc[start], doc[start - 1]
    if tok.text in _CONTINUING:
        return True
    if (tok.text.startswith("-") or before.text == "-") and not before.whitespace_:
        return True
    return (
        punctuated
        and tok.text[:1].islower()
        and before.text not in _CLOSING
    )


def _merge_fragments(doc):
    """spaCy's sentences, with fragments ("euh", "bon,") glued to the next sentence and
    punctuation that closes a sentence given back to it.

    Spoken French gives the parser many one-word "sentences" ("Euh." then ", on y est
    allé."); as units of analysis they are noise, and as quotes they read badly. French
    also puts a space before "?" and "!", and the parser often makes that final "?" a
    sentence of its own ("..., concrètement" + "?"): left alone, the question would
    lose its question mark, and with it its place as the question that the next
    answers reply to (8 of the 232 questions of the dev interviews did). A "sentence" that
    goes on from the one before (:func:`_goes_on`) is glued back to it.
    """
    spans = list(doc.sents)
    punctuated = any(tok.text in _CLOSING for tok in doc)
    merged = []
    pending_start = None
    for i, span in enumerate(spans):
        start = span.start if pending_start is None else pending_start
        lead = start
        while lead < span.end and doc[lead].text in _CLOSING:
            lead += 1
        if merged and pending_start is None and lead > start:  # "?" ... : to the sentence before
            merged[-1] = doc[merged[-1].start : lead]
            start = lead
            if lead == span.end:
                continue
        if merged and pending_start is None and _goes_on(doc, start, punctuated):
            merged[-1] = doc[merged[-1].start : span.end]  # ", qu'est-ce que..." goes on
            continue
        n_alpha = sum(1 for tok in doc[start : span.end] if tok.is_alpha)
        if n_alpha < 2 and i + 1 < len(spans):
            pending_start = start
            continue
        merged.append(doc[start : span.end])
        pending_start = None
    return merged


def split_sentences(transcript: Transcript, nlp, batch_size: int = 64):
    """Return ``(sentences, docs)``: one :class:`Sentence` and one spaCy Doc per sentence.

    ``role`` comes from ``transcript.roles``; tags are left at their defaults for the
    tagging stage. The Docs (parsed, in the same order) are what the tagger reads.
    """
    sentences: list[Sentence] = []
    docs = []
    seen: Counter[str] = Counter()
    texts = [turn.text for turn in transcript.turns]
    for turn, doc in zip(transcript.turns, nlp.pipe(texts, batch_size=batch_size), strict=True):
        offsets = _word_offsets(turn) if turn.words else None
        for span in _merge_fragments(doc):
            text = span.text.strip(" ,;")
            if not text or not any(ch.isalnum() for ch in text):
                continue
            key = normalise(text)
            seen[key] += 1
            start, end = _times(turn, span.start_char, span.end_char, offsets)
            lemmas = " ".join(
                tok.lemma_.lower()
                for tok in span
                if tok.pos_ in _CONTENT_POS and not tok.is_stop and tok.is_alpha and len(tok) > 2
            )
            sentences.append(
                Sentence(
                    interview_id=transcript.interview_id,
                    sentence_id=sentence_id(transcript.interview_id, text, seen[key]),
                    turn=turn.index,
                    index=len(sentences),
                    speaker=turn.speaker,
                    role=transcript.roles.get(turn.speaker, "interviewee"),
                    text=text,
                    start=start,
                    end=end,
                    lemmas=lemmas,
                )
            )
            docs.append(span.as_doc())
    return sentences, docs
