"""French cue lexicons (``lexicons/*.yaml``) compiled once into spaCy ``Matcher`` patterns.

A cue is a short French phrase with a weight (see ``lexicons/README.md``). Each cue
becomes two patterns under the same key: one on lemmas (finds inflected forms) and
one on lowercase forms (works where the small model's lemmatizer fails, which is
often the case on spoken French: "pouvais" -> "pouvai", "plante" -> "plant").

Cues made of plain words (no optional slot, no placeholder) go to spaCy's
``PhraseMatcher``, which finds them by hashing, instead of the ``Matcher``, which
tries every pattern at every token: on the annotated corpus (15,864 sentences, every
lexicon), cue hits took 1.6 s instead of 35.5 s, and the rule features came out the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any

import yaml
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.errors import ConfigError

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"

# Negation words of spoken and written French. "plus" and "personne" are ambiguous and
# checked in context by :func:`is_negated`.
NEG_WORDS = frozenset({"pas", "jamais", "rien", "aucun", "aucune", "sans", "ni", "guère", "point"})
NE_WORDS = frozenset({"ne", "n'", "n’"})

# Placeholder slots of the cue syntax -> Matcher token specs.
_PLACEHOLDERS: dict[str, dict[str, Any]] = {
    "<INF>": {"MORPH": {"IS_SUPERSET": ["VerbForm=Inf"]}},
    "<VERB>": {"POS": {"IN": ["VERB", "AUX"]}},
    "<NOUN>": {"POS": {"IN": ["NOUN", "PROPN"]}},
    "<ADJ>": {"POS": "ADJ"},
    "<DET>": {"POS": "DET"},
    "<NUM>": {"LIKE_NUM": True},
    "*": {},
}
# Words that stand in for placeholders when a cue is lemmatized in context.
_STAND_IN = {"<INF>": "faire", "<VERB>": "fait", "<NOUN>": "chose", "<ADJ>": "grand",
             "<DET>": "le", "<NUM>": "deux", "*": "ça"}


@cache
def load_yaml(name: str) -> dict[str, Any]:
    """Read one lexicon file of this package (cached: lexicons load once per process)."""
    path = LEXICON_DIR / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read lexicon {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"lexicon {path}: the top level must be a mapping of labels")
    return data


@dataclass(frozen=True, slots=True)
class Cue:
    """One lexicon entry: its label, phrase and weight.

    ``negative``: the cue holds a negation itself ("ça marchait pas").
    ``frame``: the cue has a placeholder ("vouloir <INF>"); frames never hide the
    content words they span ("je voulais paraître": the frame and "paraître" both count).
    """

    label: str
    phrase: str
    weight: float
    negative: bool
    frame: bool = False


@dataclass(frozen=True, slots=True)
class Hit:
    """A cue found in a doc: token span ``[start, end)`` and the cue."""

    start: int
    end: int
    cue: Cue


def _slots(phrase: str) -> list[str]:
    phrase = phrase.strip().rstrip("?!.… ").replace("’", "'")
    return phrase.split()


def _one_of(values: set[str]) -> str | dict[str, list[str]]:
    """A token attribute that must be one of ``values``: a plain value when there is one.

    The same match either way, but spaCy's Matcher compares a plain value in its compiled
    code and calls a Python predicate for every ``IN`` at every token it tries; with the
    team's lexicons, that predicate was most of the time spent on the rules.
    """
    return next(iter(values)) if len(values) == 1 else {"IN": sorted(values)}


class CueMatcher:
    """All cues of one dimension (forces, job types, phases...), matched in one pass.

    ``entries`` maps a label to ``{phrase: weight}``. ``hits(doc)`` returns the matches,
    overlapping matches resolved to the longest (then the heaviest).
    """

    # a cue whose word alternatives expand to more phrases than this stays a Matcher pattern
    MAX_PHRASES = 64

    def __init__(self, nlp: Language, entries: dict[str, dict[str, float]], *, source: str = ""):
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.cues: dict[str, Cue] = {}
        self.order: dict[str, int] = {}
        phrases = [(label, str(phrase), float(w)) for label, items in entries.items()
                   for phrase, w in (items or {}).items()]
        renders = [self._render(p) for _, p, _ in phrases]
        for (label, phrase, weight), doc in zip(
            phrases, nlp.pipe(renders), strict=True
        ):
            try:
                lower, lemma, negative = self._patterns(nlp, phrase, doc)
            except ValueError as exc:
                raise ConfigError(f"lexicon {source}: cue {phrase!r} ({label}): {exc}") from exc
            key = f"{label}::{phrase}"
            frame = any(s.rstrip("?") in _PLACEHOLDERS for s in _slots(phrase))
            self.cues[key] = Cue(label, phrase, weight, negative, frame)
            self.order[key] = len(self.order)
            lower_words, lemma_words = _phrases(lower), _phrases(lemma)
            if lower_words is None or lemma_words is None:
                self.matcher.add(key, [lower, lemma])
                continue
            self.lower.add(key, [Doc(nlp.vocab, words=w) for w in lower_words])
            self.lemma.add(key, [Doc(nlp.vocab, words=w, lemmas=w) for w in lemma_words])

    @staticmethod
    def _render(phrase: str) -> str:
        out = []
        for slot in _slots(phrase):
            slot = slot[:-1] if len(slot) > 1 and slot.endswith("?") else slot
            out.append(_STAND_IN.get(slot, slot.split("|")[0]))
        return " ".join(out)

    @staticmethod
    def _patterns(nlp: Language, phrase: str, rendered: Doc):
        """Build the (lower, lemma) token patterns of a cue, aligned on ``rendered``."""
        lower: list[dict[str, Any]] = []
        lemma: list[dict[str, Any]] = []
        negative = False
        pos = 0  # position in the rendered doc
        for slot in _slots(phrase):
            optional = len(slot) > 1 and slot.endswith("?")
            slot = slot[:-1] if optional else slot
            op = {"OP": "?"} if optional else {}
            if slot in _PLACEHOLDERS:
                n = len(nlp.tokenizer(_STAND_IN[slot]))
                lower.append({**_PLACEHOLDERS[slot], **op})
                lemma.append({**_PLACEHOLDERS[slot], **op})
                pos += n
                continue
            alts = slot.split("|")
            if len(alts) > 1:
                forms, lemmas = set(), set()
                for i, alt in enumerate(alts):
                    toks = [t.lower_ for t in nlp.tokenizer(alt.lower())]
                    if len(toks) != 1 and not alt.endswith("'"):  # "d'" alone splits
                        raise ValueError(f"alternative {alt!r} must be one word")
                    form = toks[0] if len(toks) == 1 else alt.lower()
                    forms.add(form)
                    lemmas.add(form)
                    if i == 0:
                        lemmas.add(rendered[pos].lemma_.lower())
                negative |= bool(forms & (NEG_WORDS | NE_WORDS))
                lower.append({"LOWER": _one_of(forms), **op})
                lemma.append({"LEMMA": _one_of(lemmas), **op})
                pos += 1
                continue
            for tok in nlp.tokenizer(slot.lower()):
                ctx = rendered[pos] if pos < len(rendered) else tok
                negative |= tok.lower_ in NEG_WORDS | NE_WORDS
                lower.append({"LOWER": tok.lower_, **op})
                lemma.append({"LEMMA": _one_of({tok.lower_, ctx.lemma_.lower()}), **op})
                pos += 1
        if not lower:
            raise ValueError("empty cue")
        return lower, lemma, negative

    def hits(self, doc: Doc | Span) -> list[Hit]:
        """Cue matches in ``doc``, overlaps resolved to the longest then heaviest cue.

        Frames (cues with placeholders) are kept apart from that resolution.
        """
        vocab = doc.vocab
        matches = self.lower(doc) + self.lemma(doc)
        if len(self.matcher):  # an empty Matcher warns at every call
            matches += self.matcher(doc)
        # per span, the heavier cue; at equal weights the one written first in the lexicon,
        # whichever matcher found it
        best: dict[tuple[int, int], tuple[tuple[float, int], Hit]] = {}
        for match_id, start, end in matches:
            key = vocab.strings[match_id]
            cue = self.cues[key]
            rank = (cue.weight, -self.order[key])
            prev = best.get((start, end))
            if prev is None or rank > prev[0]:
                best[(start, end)] = (rank, Hit(start, end, cue))
        found = {span: hit for span, (_, hit) in best.items()}
        if not found:
            return []
        d = doc if isinstance(doc, Doc) else doc.doc
        hits = [h for h in found.values() if not h.cue.frame]
        frames = [h for h in found.values() if h.cue.frame]
        spans = [Span(d, h.start, h.end, label=i) for i, h in enumerate(hits)]
        ordered = sorted(spans, key=lambda s: (s.end - s.start, hits[s.label].cue.weight),
                         reverse=True)
        kept = [hits[s.label] for s in filter_spans(ordered)]
        # one frame per label and start (the Matcher returns every length of "<INF>?")
        best_frames: dict[tuple[str, int], Hit] = {}
        for h in frames:
            k = (h.cue.label, h.start)
            if k not in best_frames or h.cue.weight > best_frames[k].cue.weight:
                best_frames[k] = h
        return sorted(kept + list(best_frames.values()), key=lambda h: h.start)


def _phrases(pattern: list[dict[str, Any]]) -> list[list[str]] | None:
    """The word sequences a Matcher pattern of plain words matches, or ``None`` when it
    has an optional slot or a placeholder, or expands to too many phrases."""
    slots = []
    for spec in pattern:
        if len(spec) != 1 or not ({"LOWER", "LEMMA"} & spec.keys()):
            return None
        value = next(iter(spec.values()))
        if isinstance(value, str):
            slots.append([value])
        elif isinstance(value, dict) and value.keys() == {"IN"}:
            slots.append(list(value["IN"]))
        else:
            return None
    n = 1
    for values in slots:
        n *= len(values)
    if n > CueMatcher.MAX_PHRASES:
        return None
    return [list(words) for words in product(*slots)]


def is_negated(doc: Doc, start: int, end: int) -> bool:
    """Whether the cue at ``[start, end)`` is under a negation (parse + a small window).

    Looks at (1) the three words before the cue within the clause and (2) the
    dependents of the cue's head word and of its governors, climbing through
    complement relations only ("j'avais pas peur que ça plante": "plante" <- "peur"
    <- "avais" + "pas"), never through parataxis or coordination.
    """
    # (1) window to the left, stopping at punctuation or a clause boundary
    i = start - 1
    while i >= max(0, start - 3):
        tok = doc[i]
        if tok.is_punct or tok.lower_ in {"mais", "et", "que", "qu'", "parce"}:
            break
        if _is_neg(tok):
            return True
        i -= 1
    # (1b) right after the cue: "ça plaisait pas", "peur ? non, pas du tout" is not handled
    for tok in doc[end:min(len(doc), end + 2)]:
        if tok.is_punct:
            break
        if _is_neg(tok):
            return True
    # (2) dependents of the head and of its governors
    cur = doc[start:end].root
    for _ in range(4):
        for child in cur.children:
            near = start - 6 <= child.i < end + 6  # far dependents belong to other clauses
            if near and not start <= child.i < end and _is_neg(child):
                return True
        if cur.dep_ in {"ROOT", "parataxis", "conj", "advcl", "root"} or cur.head is cur:
            break
        cur = cur.head
    return False


def _is_neg(tok) -> bool:
    low = tok.lower_
    if low in NEG_WORDS or low in NE_WORDS:
        return True
    if low == "plus":
        # "plus simple" / "plus de temps" / "plus que" are comparatives, not negations
        nxt = tok.nbor(1) if tok.i + 1 < len(tok.doc) else None
        if nxt is not None and (nxt.pos_ in {"ADJ", "ADV", "NUM"} or nxt.lower_ in {"de", "d'",
                                                                                  "que", "qu'"}):
            return any(t.lower_ in NE_WORDS for t in tok.doc[max(0, tok.i - 4):tok.i])
        return True
    if low == "personne":
        # pronoun "personne (ne) rappelait" vs noun "une personne"
        prev = tok.nbor(-1) if tok.i > 0 else None
        return prev is None or prev.pos_ != "DET"
    return False


def words(items: Iterable[str]) -> frozenset[str]:
    """Lowercased set of single words (for the ``negated_push`` verbs)."""
    return frozenset(w.lower() for w in items)
