"""What a segment says: keywords (c-TF-IDF), a job statement, quotes, forces and priority.

The job statement is built from the customers' own words: the dependency parse of the
most central sentences gives the main verb (an infinitive governed by *vouloir*,
*pouvoir*, *falloir*, *avoir besoin de*, *arriver à*... when there is one) and its
complements, without the subject and the spoken fillers.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from pipeline.labels import FORCES, INTERVIEWEE, JOB_TYPES, NONE, PHASES
from pipeline.records import Sentence

# --------------------------------------------------------------------------- keywords

FILLERS_1 = {"euh", "euhh", "heu", "bah", "ben", "hein", "voilà", "bref", "hum", "mh", "mmh"}
FILLERS_2 = {("du", "coup"), ("en", "fait"), ("tu", "vois"), ("vous", "voyez"), ("tu", "sais")}
# Words that say nothing about a job, on top of spaCy's French stop words.
EXTRA_STOP = {
    "faire", "aller", "être", "avoir", "dire", "vouloir", "pouvoir", "falloir", "devoir",
    "savoir", "mettre", "venir", "voir", "prendre", "trouver", "chose", "truc", "machin",
    "fois", "moment", "gens", "genre", "coup", "fait", "vrai", "vraiment", "oui", "non",
    "ouais", "ok", "bon", "bien", "super", "petit", "grand", "jour", "an", "année",
    "mois", "semaine", "besoin", "envie", "vachement", "carrément", "aujourd'hui",
}


def stop_words() -> set[str]:
    """French stop words (spaCy's list), spoken fillers and empty verbs/nouns."""
    from spacy.lang.fr.stop_words import STOP_WORDS

    return set(STOP_WORDS) | FILLERS_1 | EXTRA_STOP


def lemmas_of(s: Sentence, nlp=None) -> list[str]:
    """Content-word lemmas of a sentence: ``Sentence.lemmas``, or parsed with ``nlp``."""
    if s.lemmas:
        return s.lemmas.lower().split()
    if nlp is None:
        return re.findall(r"[a-zà-ÿœæ'-]{3,}", s.text.lower())
    doc = nlp(s.text)
    keep = {"NOUN", "PROPN", "VERB", "ADJ"}
    return [t.lemma_.lower() for t in doc if t.pos_ in keep and not t.is_stop]


def ctfidf_keywords(
    docs: Sequence[Sequence[str]], n_keywords: int, stops: set[str] | None = None
) -> list[list[str]]:
    """Top terms of each class by class-based TF-IDF (BERTopic's formula).

    ``docs[c]`` is the bag of lemmas of class ``c``; the last classes may be context only
    (e.g. unassigned sentences) and simply take part in the IDF. Weight of term t in
    class c: ``tf(t, c) / len(c) * log(1 + A / f(t))`` with ``A`` the mean class length
    and ``f(t)`` the frequency of t over all classes. Ties break alphabetically.
    """
    stops = stop_words() if stops is None else stops
    bags = [Counter(w for w in d if w not in stops and len(w) > 1) for d in docs]
    total = Counter()
    for bag in bags:
        total.update(bag)
    if not total:
        return [[] for _ in bags]
    mean_len = sum(total.values()) / max(1, sum(1 for b in bags if b))
    out = []
    for bag in bags:
        size = sum(bag.values()) or 1
        scored = [(c / size * math.log(1 + mean_len / total[w]), w) for w, c in bag.items()]
        scored.sort(key=lambda x: (-x[0], x[1]))
        out.append([w for _, w in scored[:n_keywords]])
    return out


# --------------------------------------------------------------------------- job statement

# Lemmas whose infinitive complement carries the job ("je voulais pouvoir suivre...").
GOVERNORS = {
    "vouloir", "pouvoir", "falloir", "devoir", "arriver", "réussir", "parvenir", "chercher",
    "essayer", "permettre", "aimer", "souhaiter", "besoin", "envie", "but", "objectif",
    "rêver", "tenir", "avoir", "aider", "éviter", "cesser", "arrêter",
}
SUBJECT_DEPS = {"nsubj", "nsubj:pass", "expl", "expl:subj", "expl:pass", "csubj"}
CLITIC_DEPS = {"obj", "iobj", "expl:comp", "expl:pv", "obl", "obl:arg"}
STRONG_PRONOUNS = {"moi", "toi", "lui", "nous", "vous", "eux", "elles"}
WEAK_VERBS = {"avoir", "être"}
NEGATIONS = {"plus", "pas", "jamais", "rien"}
MAX_STATEMENT_TOKENS = 18


def _filler_mask(doc) -> list[bool]:
    low = [t.lower_ for t in doc]
    mask = [w in FILLERS_1 or t.dep_ == "discourse" for w, t in zip(low, doc, strict=True)]
    for i in range(len(low) - 1):
        if (low[i], low[i + 1]) in FILLERS_2:
            mask[i] = mask[i + 1] = True
    if low and low[-1] == "quoi":
        mask[-1] = True
    return mask


def _is_infinitive(tok) -> bool:
    return tok.pos_ in {"VERB", "AUX"} and "Inf" in tok.morph.get("VerbForm")


def _governed_infinitive(doc):
    """The deepest infinitive governed by a want/need/can word, or ``None``."""
    best = None
    for tok in doc:
        if not _is_infinitive(tok) or tok.lemma_.lower() in {"être", "avoir"}:
            continue
        head = tok.head
        governed = head is not tok and (
            head.lemma_.lower() in GOVERNORS
            or (head.lower_ in {"besoin", "envie"})
            or any(c.lemma_.lower() in GOVERNORS for c in tok.children if c.dep_ == "aux")
        )
        if not governed:
            continue
        # descend through chained modals: "pouvoir suivre" -> "suivre"
        while tok.lemma_.lower() in GOVERNORS:
            nxt = [c for c in tok.children if _is_infinitive(c) and c.dep_ in {"xcomp", "obj"}]
            if not nxt:
                break
            tok = nxt[0]
        if tok.lemma_.lower() not in GOVERNORS:
            best = best or tok
    return best


def _is_negation(tok) -> bool:
    """A negation adverb of a verb: "plus" before an adverb or an adjective is a
    comparative ("manger plus sainement"), not "no more"."""
    if tok.dep_ != "advmod" or tok.lower_ not in NEGATIONS:
        return False
    nxt = tok.doc[tok.i + 1] if tok.i + 1 < len(tok.doc) else None
    return not (tok.lower_ == "plus" and nxt is not None and nxt.pos_ in {"ADV", "ADJ"})


def _negation_prefix(verb) -> str:
    """'ne plus' when the verb, or the want/can chain that governs it, is negated
    ("je ne veux plus perdre..."); a negation further up ("..., c'est pas normal")
    belongs to another clause and is not carried over."""
    tok = verb
    for _ in range(4):
        negs = [c.lower_ for c in tok.children if _is_negation(c)]
        if negs:
            return f"ne {negs[0]} "
        if tok.head is tok or tok.dep_ not in {"xcomp", "obj", "ccomp"}:
            break
        if tok.head.lemma_.lower() not in GOVERNORS:
            break
        tok = tok.head
    return ""


def _render(tokens) -> str:
    text = "".join(t.text_with_ws for t in tokens).strip()
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip(" ,;:-")
    return text.rstrip(" .!?…")


def clean_sentence(doc) -> str:
    """The sentence without fillers, leading connectives and final punctuation."""
    mask = _filler_mask(doc)
    toks = [t for t, m in zip(doc, mask, strict=True) if not m]
    while toks and (toks[0].is_punct or toks[0].lower_ in {"alors", "donc", "et", "mais", "bon"}):
        toks = toks[1:]
    text = _render(toks)
    return text[:1].lower() + text[1:] if text else text


def job_statement(doc, verb=None) -> tuple[str, int]:
    """Extract "verb + object + context" from a parsed sentence.

    Returns the statement and how it was found: 2 = an infinitive governed by a
    want/need/can word, 1 = the main verb (or the ``verb`` token given), 0 = the
    cleaned sentence (fallback), -1 = a statement cut inside a word or after a
    determiner or preposition (kept only when nothing better exists).
    """
    kind = 2
    if verb is None:
        verb = _governed_infinitive(doc)
    elif verb is not _governed_infinitive(doc):
        kind = 1
    if verb is None:
        roots = [t for t in doc if t.dep_ == "ROOT" and t.pos_ == "VERB"]
        verbs = roots or [t for t in doc if t.pos_ == "VERB"]
        verb = verbs[0] if verbs else None
        kind = 1
    if verb is None:
        return clean_sentence(doc), 0
    fillers = _filler_mask(doc)
    drop: set[int] = {t.i for t, m in zip(doc, fillers, strict=True) if m}
    for child in verb.children:
        if child.dep_ in SUBJECT_DEPS or (child.dep_.startswith("aux") and kind == 1):
            drop.update(t.i for t in child.subtree)
        if _is_negation(child) or (child.dep_ == "advmod" and child.lower_ in {"ne", "n'"}):
            drop.add(child.i)
    toks = [t for t in verb.subtree if t.i not in drop]
    if len(toks) > MAX_STATEMENT_TOKENS:
        for child in verb.children:
            if child.dep_ in {"conj", "advcl", "parataxis", "ccomp"} and child.i > verb.i:
                drop.update(t.i for t in child.subtree)
        toks = [t for t in verb.subtree if t.i not in drop][:MAX_STATEMENT_TOKENS]
    # Before the verb only its clitic pronouns stay ("me", "en", "y"): a dislocated
    # "Ça," or a framing "En même temps," is not part of the job.
    toks = [t for t in toks if t.i >= verb.i or (t.pos_ == "PRON" and t.dep_ in CLITIC_DEPS)]
    while toks and toks[-1].i > verb.i and (
        toks[-1].dep_ in {"cc", "mark", "punct", "cop"} | SUBJECT_DEPS
        or toks[-1].pos_ == "AUX"
        or (toks[-1].lower_ in STRONG_PRONOUNS and not (len(toks) > 1 and toks[-2].pos_ == "ADP"))
    ):
        toks = toks[:-1]  # trailing "et", ",", "c'est" or a dislocated "moi"
    words = []
    for t in toks:
        if t.i == verb.i and kind == 1 and not _is_infinitive(t):
            words.append(t.lemma_.lower() + t.whitespace_)  # "je mange" -> "manger"
        else:
            word = _impersonal(t)
            words.append(word + ("" if word.endswith(("'", "’")) else t.whitespace_))
    text = "".join(words).strip()
    # "m'" + consonant after the auxiliary went away: "m' rassurer" -> "me rassurer"
    text = re.sub(
        r"\b([mtsMTS])['’]\s*(?=[^aeiouyhéèêàâîôûAEIOUYHÉ\s])", lambda m: m.group(1) + "e ", text
    )
    text = re.sub(r"\b([sS])e (?=[aeiouyhéèêàâîôAEIOUYHÉ])", r"\1'", text)  # "se aller"
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip(" ,;:-").rstrip(" .!?…")
    if len(re.split(r"[\s'’]+", text)) < 2:  # "m'aider" is two words
        return clean_sentence(doc), 0
    if not _complete(doc, toks):
        kind = -1  # cut inside a word or after a determiner: a last resort only
    return (_negation_prefix(verb) + text).strip(), kind


_REFLEXIVE = {"me": "se", "te": "se", "m'": "s'", "t'": "s'", "m’": "s’", "t’": "s’"}
_POSSESSIVE = {"mon": "son", "ton": "son", "ma": "sa", "ta": "sa", "mes": "ses", "tes": "ses",
               "nos": "ses", "vos": "ses"}


def _impersonal(tok) -> str:
    """A first- or second-person word said the way a job is written: "m'organiser" ->
    "s'organiser", "mes clients" -> "ses clients", "notre boutique" -> "sa boutique",
    "pour moi" -> "pour soi". Jobs belong to whoever has them, not to the speaker."""
    low = tok.lower_
    if low in _REFLEXIVE and tok.pos_ == "PRON":
        return _REFLEXIVE[low]
    if low in {"nous", "vous"} and tok.pos_ == "PRON" and tok.dep_ in CLITIC_DEPS \
            and tok.i < tok.head.i:
        nxt = tok.nbor(1).lower_ if tok.i + 1 < len(tok.doc) else ""
        return "s'" if nxt[:1] in "aeiouyhéèêàâîôû" and nxt else "se"
    if low in {"moi", "toi"} and tok.dep_ != "nsubj":
        return "soi"
    if low in _POSSESSIVE and tok.pos_ == "DET":
        return _POSSESSIVE[low]
    if low in {"notre", "votre"} and tok.pos_ == "DET":
        noun = tok.head
        if noun.text[:1].lower() in "aeiouyhéèêàâîôû" or "Fem" not in noun.morph.get("Gender"):
            return "son"
        return "sa"
    return tok.text


def _complete(doc, toks) -> bool:
    """Does the statement end on a whole phrase ("mes week" or "à ma" do not)?"""
    last = toks[-1]
    end = last.idx + len(last.text)
    cut_in_word = end < len(doc.text) and (doc.text[end] in "-'’" or doc.text[end].isalnum())
    dangling = last.pos_ in {"DET", "ADP", "CCONJ", "SCONJ"} or last.dep_ in {"det", "case"}
    return not (cut_in_word or dangling)


PRONOUN_STARTS = {"ça", "ca", "cela", "ce", "c'", "il", "elle", "on", "je", "j'", "moi", "le", "la"}
# statements that say what the person did or felt, not what they want to get done
NARRATIVE_STARTS = {"demander", "dire", "appeler", "regarder", "voir", "aller", "venir",
                    "partir", "arriver", "ouvrir", "penser", "croire", "savoir", "trouver"}
CLITIC_WORDS = {"ne", "n", "plus", "pas", "me", "m", "te", "t", "se", "s", "nous", "vous", "le",
                "la", "les", "l", "lui", "leur", "y", "en"}


def as_progress(text: str, force: str, kind: int = 1) -> str:
    """A pain said about the old way, turned into the progress sought.

    "faire des heures de route" told as a push is what the customer wants to stop:
    the job is "ne plus faire des heures de route" (a goal, ``kind`` 2, already says the
    progress and stays as it is). A negated pain ("ils ne mangeaient
    plus de légumes") gives the positive ("manger des légumes"), and so does a negated
    plain statement (``kind`` 1, a main verb: "j'avais plus le temps" -> "avoir le
    temps"): told as a fact, what was missing is what the customer wants back. A fear
    said as anxiety becomes what to avoid ("éviter de se retrouver sans courant").
    """
    negated = re.match(r"(?:ne|n['’])\s*(?:plus|pas|jamais)\s+(.+)", text)
    if negated and (force == "push" or kind == 1):
        # after a negation French says "de"; the positive takes "des" before a plural
        return re.sub(r"^(\S+) (?:de |d['’])(\w+[sx])\b", r"\1 des \2", negated.group(1))
    if negated:
        return text
    if force == "push" and kind == 1:  # a goal ("je voulais…", kind 2) is already progress
        return f"ne plus {text}"
    if force == "anxiety" and kind > 0:  # a fear: what the customer wants to avoid
        return f"éviter d'{text}" if text[:1].lower() in "aeiouyhéèêàâîô" else f"éviter de {text}"
    return text


_SPEAKER_SUBJECTS = {"je", "j'", "j’", "on", "nous", "moi", "tu", "t'", "vous"}


def _speaker_subject(doc) -> bool:
    """Is the sentence's main verb done by the customer ("je", "on", "nous")? "ça me
    prenait 40 minutes" is about a thing; its main verb is no job ("se prendre 40
    minutes"). Sentences without a subject (infinitives, imperatives) count as yes."""
    roots = [t for t in doc if t.dep_ == "ROOT"]
    return not roots or _done_by_speaker(roots[0])


def statement_score(text: str, kind: int, doc, keywords: set[str]) -> float:
    """How good a job statement ``text`` is, apart from how central its sentence is.

    Favoured: a goal ("je voulais pouvoir…", kind 2) over a plain main verb (kind 1)
    over a cleaned sentence (0); 4 to 14 words; a verb with an object or a complement;
    the segment's own keywords (the words its interviews share). Penalised: a pronoun
    or a narrative verb at the start ("me demander si…"), "être"/"avoir", a bare
    "ne pas" (a refusal, not a job), names and figures (one customer's details).
    """
    words = text.split()
    if not words:
        return -math.inf
    first = words[0].lower().rstrip(",")
    # the statement's own verb, past its clitics and negation ("ne plus me demander")
    head = next((w.lower() for w in re.split(r"[\s'’]+", text)
                 if w.lower() not in CLITIC_WORDS), first)
    lemmas = {t.lemma_.lower() for t in doc if t.is_alpha}
    score = 0.15 * kind
    score += 0.08 * (4 <= len(words) <= 14) - 0.15 * (len(words) < 3)
    score -= 0.1 * (first in PRONOUN_STARTS) + 0.1 * (first in WEAK_VERBS)
    score -= 0.1 * (head in NARRATIVE_STARTS or first in NARRATIVE_STARTS)
    score -= 0.1 * text.lower().startswith(("ne pas", "n'pas", "pas "))
    score -= 0.1 * any(t.pos_ == "PROPN" or t.like_num for t in doc if t.text in text)
    score += 0.05 * any(t.dep_ in {"obj", "obl", "obl:arg", "xcomp", "ccomp"} for t in doc)
    # spoken asides inside the statement ("rappeler, ça, ça m'a plu") read badly
    score -= 0.05 * text.count(",") + 0.1 * bool(re.search(r"\b(ça|c'|c’|cela)\b", text[1:]))
    score -= 0.2 * (kind == 1 and not _speaker_subject(doc))
    score += min(0.15, 0.05 * len(lemmas & keywords))
    return score


def statement_candidates(doc, force: str) -> list[tuple[str, int]]:
    """Every "verb + object + context" a sentence offers, as the progress sought.

    One per verb of the parse that the customer does (:func:`job_statement` on it), the
    governed infinitive first, plus each one cut at its first comma (spoken asides
    follow commas); pains, negated facts and fears are turned into progress by
    :func:`as_progress`. Only well-formed ones are kept (:func:`_well_formed`); when
    none is, the shortest one is, as a last resort (kind 0), so a segment always has one.
    """
    first = job_statement(doc)
    found: list[tuple[str, int]] = [first] if first[1] == 2 else []
    for tok in doc:
        # "vouloir", "pouvoir"...: their infinitive is the candidate, not them
        if (
            tok.pos_ == "VERB"
            and tok.lemma_.lower() not in GOVERNORS
            and _done_by_speaker(tok)
            # a participle used as an adjective ("des frais cachés") is no action
            and not ("Part" in tok.morph.get("VerbForm")
                     and not any(c.dep_.startswith("aux") for c in tok.children))
        ):
            text, kind = job_statement(doc, verb=tok)
            goal = tok.dep_ in {"ccomp", "xcomp"} and tok.head.lemma_.lower() in GOVERNORS
            if kind == 1 and goal:
                kind = 2  # "je voulais qu'on mange sainement": a goal, in the subjunctive
            found.append((text, kind))
    for text, kind in list(found):
        head = text.split(",")[0].strip()
        if head != text and len(head.split()) >= 2:
            found.append((head, kind))
    out, rest, seen = [], [], set()
    for text, kind in found or [(first[0], 0)]:
        if text and kind > 0:
            text = as_progress(text, force, kind)
        if text and text not in seen:
            seen.add(text)
            (out if _well_formed(text, kind) else rest).append((text, kind))
    # nothing reads as a statement: the shortest, marked as a last resort (kind 0)
    return out or [(min(rest, key=lambda r: len(r[0]))[0], 0)] if rest else out


_INFINITIVE_RE = re.compile(r"^[\wàâçéèêëîïôûùüÿœ-]+(?:er|ir|ïr|re|oir)$")
_STATEMENT_PREFIX_RE = re.compile(
    r"^(?:(?:ne|n['’])\s*(?:plus|pas|jamais)\s+|éviter d(?:e\s+|['’]))?"
    r"(?:(?:se|s['’]|le|la|les|l['’]|y|en|lui|leur)\s*)*",
    re.IGNORECASE,
)
MAX_STATEMENT_WORDS = 14


_FIRST_PERSON_RE = re.compile(
    r"(?<![\w'’])(?:(?:je|nous|moi|me|mon|ma|mes|notre|nos)(?![\w'’])|[jm]['’])",
    re.IGNORECASE,
)


def _well_formed(text: str, kind: int) -> bool:
    """A statement that reads as one: an infinitive first (after "ne plus", "éviter de"
    and clitics) with a complement, at most :data:`MAX_STATEMENT_WORDS` words, found
    from a verb."""
    if kind <= 0 or len(text.split()) > MAX_STATEMENT_WORDS:
        return False
    if _FIRST_PERSON_RE.search(text):
        # a first person left after the rewriting to the third is a second clause the
        # cut did not catch ("s'occuper d'elle, et nous on voulait dormir")
        return False
    rest = _STATEMENT_PREFIX_RE.sub("", text, count=1)
    words = re.split(r"[\s,]+", rest.strip(), maxsplit=1) if rest.strip() else [""]
    # an infinitive, and something after it: "le dire" or "y aller" say nothing
    return bool(_INFINITIVE_RE.match(words[0].lower())) and len(words) > 1 and bool(words[1])


def _done_by_speaker(verb) -> bool:
    """Has ``verb`` no subject of its own, or the customer's ("je", "on", "nous")?
    "ils me renvoyaient vers le site" is something done to the customer, not a job."""
    subjects = [c for c in verb.children if c.dep_ in SUBJECT_DEPS]
    if any(c.lower_ in {"rien", "personne", "aucun", "aucune"} for c in subjects):
        return False  # "on a rien changé": the parser's subject is a negation
    return not subjects or any(c.lower_ in _SPEAKER_SUBJECTS for c in subjects)


def statement_meta(text: str, kind: int, sentence: Sentence, doc) -> list[float]:
    """What the statement ranker knows of a candidate besides its embedding: how it was
    found, the tags of its sentence, its length and :func:`statement_score`'s rules."""
    n = len(text.split())
    return (
        [float(kind == 2), float(kind == 1), float(kind <= 0)]
        + [float(sentence.force == f) for f in FORCES]
        + [float(sentence.job_type == j) for j in JOB_TYPES]
        + [float(sentence.phase == p) for p in PHASES]
        + [n / 10, (n / 10) ** 2, statement_score(text, kind, doc, set())]
    )


class StatementRanker:
    """How much a candidate reads like a job statement, learnt from the team's corpus.

    A ridge regression over the candidate's sentence embedding and
    :func:`statement_meta`, fitted to predict the cosine between a candidate and the
    catalog statement of its sentence's job (``data/annotations/jobs.yaml``). It learns
    what job statements look like ("suivre ses prospects", "payer moins cher") as
    against details of one story ("porter les bûches"), across domains: on the dev
    interviews (unseen domains) it picked statements closer to the gold ones than the
    hand-written scores did (see ``make eval``). ``make train`` fits it with the tagger.
    """

    def __init__(self, weights: np.ndarray, bias: float, embedder=None):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.bias = float(bias)
        self.embedder = embedder  # the one it was trained with (the tagger's)

    @staticmethod
    def design(texts: Sequence[str], metas: Sequence[Sequence[float]], embedder) -> np.ndarray:
        vec = np.asarray(embedder.embed(list(texts)), dtype=np.float64)
        vec /= np.linalg.norm(vec, axis=1, keepdims=True) + 1e-12
        return np.hstack([vec, np.asarray(metas, dtype=np.float64).reshape(len(texts), -1)])

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, alpha: float = 30.0) -> StatementRanker:
        mean_x, mean_y = x.mean(axis=0), float(y.mean())
        xc = x - mean_x
        w = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ (y - mean_y))
        return cls(w, mean_y - float(mean_x @ w))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weights + self.bias

    def score(self, texts, metas) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.predict(self.design(texts, metas, self.embedder))


def _ranked_statement(sentences, centrality, nlp, order, ranker) -> str:
    texts, metas, cents = [], [], []
    for i in order:
        s = sentences[int(i)]
        doc = nlp(s.text)
        for text, kind in statement_candidates(doc, s.force):
            texts.append(text)
            metas.append(statement_meta(text, kind, s, doc))
            cents.append(float(centrality[i]))
    if not texts:
        return ""
    readable = np.asarray([m[-1] for m in metas])  # statement_score: form, asides, length
    score = (ranker.score(texts, metas) + RANKER_CENTRALITY * np.asarray(cents)
             + RANKER_READABILITY * readable)
    return texts[int(np.argmax(score))]


# weight of a sentence's closeness to its segment next to the ranker's score
RANKER_CENTRALITY = 0.3
# weight of the hand-written readability scores: the ranker learns what a job is about
# (its target is the closeness to the catalog statement, which long candidates reach
# more easily); these keep the statement short and free of asides
RANKER_READABILITY = 1.0


def best_job_statement(
    sentences: Sequence[Sentence],
    centrality: np.ndarray,
    nlp,
    n_candidates: int = 15,
    keywords: Sequence[str] = (),
    ranker: StatementRanker | None = None,
) -> str:
    """The job statement of a group of job sentences, in the customers' own words.

    Candidates: the ``n_candidates`` sentences closest to the centroid, functional ones
    first. Each gives a "verb + object + context" (:func:`job_statement`), scored by
    its centrality, :func:`statement_score` (goal form, length, object, shared
    keywords, no names) and 0.1 for a functional sentence (the job itself rather than
    a feeling or a constraint).

    With a trained ``ranker``, every candidate of those sentences
    (:func:`statement_candidates`) is scored by the ranker plus
    :data:`RANKER_CENTRALITY` times its sentence's centrality instead.
    """
    if not sentences:
        return ""
    order = sorted(range(len(sentences)),
                   key=lambda i: (sentences[i].job_type != "functional", -float(centrality[i])))
    order = order[:n_candidates]
    if ranker is not None:
        return _ranked_statement(sentences, centrality, nlp, order, ranker)
    keys = {k.lower() for k in keywords}
    best = ("", -math.inf)
    for i in order:
        s = sentences[int(i)]
        doc = nlp(s.text)
        text, kind = job_statement(doc)
        if not text:
            continue
        if kind > 0:
            text = as_progress(text, s.force, kind)
        score = float(centrality[i]) + statement_score(text, kind, doc, keys)
        score += 0.1 * (s.job_type == "functional")
        score += 0.1 * (kind == 2 and s.force in {"none", "pull"})  # a goal, said as such
        if score > best[1]:
            best = (text, score)
    return best[0]


# --------------------------------------------------------------------------- quotes


def select_quotes(
    interview_ids: Sequence[str],
    similarity: np.ndarray,
    vectors: np.ndarray,
    n_quotes: int,
    *,
    new_interview_bonus: float = 0.15,
    duplicate: float = 0.95,
) -> list[int]:
    """Indices of the quotes of one segment, best first, diverse across interviews (MMR-like).

    Greedy: each step takes the highest ``similarity + bonus`` where the bonus goes to a
    sentence from an interview not quoted yet, so a close sentence of a new interview
    comes before a slightly closer one of an interview already quoted, but a far-off one
    does not. A near-duplicate (cosine above ``duplicate``) of a chosen quote is skipped
    while other candidates remain. Ties keep the input order.
    """
    chosen: list[int] = []
    used: set[str] = set()
    n = len(similarity)
    while len(chosen) < min(n_quotes, n):
        rest = [i for i in range(n) if i not in chosen]
        distinct = [
            i for i in rest if not chosen or float((vectors[chosen] @ vectors[i]).max()) < duplicate
        ]
        pool = distinct or rest
        pick = max(
            pool,
            key=lambda i: (
                float(similarity[i]) + new_interview_bonus * (interview_ids[i] not in used),
                -i,
            ),
        )
        chosen.append(pick)
        used.add(interview_ids[pick])
    return chosen


# --------------------------------------------------------------------------- priority

PAIN_WEIGHTS = {"push": 1.0, "anxiety": 0.5}
FLOOR = 0.05


def interview_pain(sentences: Sequence[Sentence]) -> dict[str, float]:
    """Per interview: weighted share of interviewee sentences that hurt.

    push counts 1 (the struggle with the current situation), anxiety 0.5 (fear of the
    change: a pain too, but about the solution rather than the job).
    """
    tot: Counter[str] = Counter()
    pain: Counter[str] = Counter()
    for s in sentences:
        if s.role != INTERVIEWEE:
            continue
        tot[s.interview_id] += 1
        pain[s.interview_id] += PAIN_WEIGHTS.get(s.force, 0.0)
    return {i: pain[i] / tot[i] for i in tot}


def interview_dissatisfaction(sentences: Sequence[Sentence]) -> dict[str, float]:
    """Per interview with an ``after`` phase: share of push among its after sentences."""
    tot: Counter[str] = Counter()
    push: Counter[str] = Counter()
    for s in sentences:
        if s.role == INTERVIEWEE and s.phase == "after":
            tot[s.interview_id] += 1
            push[s.interview_id] += s.force == "push"
    return {i: push[i] / tot[i] for i in tot}


def weighted_mean(values: dict[str, float], weights: Counter[str], default: float) -> float:
    """Mean of ``values`` over the weighted keys that have a value, else ``default``."""
    num = sum(values[k] * w for k, w in weights.items() if k in values)
    den = sum(w for k, w in weights.items() if k in values)
    return num / den if den else default


def force_counts(sentences: Sequence[Sentence]) -> dict[str, int]:
    """Counts of the four forces (not ``none``) in a list of sentences, all keys present."""
    c = Counter(s.force for s in sentences)
    return {f: c.get(f, 0) for f in FORCES if f != NONE}


def job_type_counts(sentences: Sequence[Sentence]) -> dict[str, int]:
    """Counts of the four job types (not ``none``), all keys present."""
    c = Counter(s.job_type for s in sentences)
    return {j: c.get(j, 0) for j in JOB_TYPES if j != NONE}
