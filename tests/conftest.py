"""Shared fixtures: real, tiny things the project ships (see STYLE.md).

Models load once per session (they are read-only); tests that need the Whisper model
or several models are marked ``slow`` and still run in ``make test``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
REPO = TESTS.parent


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def nlp():
    """The small French spaCy pipeline (fast to load); the pipeline default is md."""
    import spacy

    return spacy.load("fr_core_news_sm")


@pytest.fixture(scope="session")
def config():
    from pipeline.config import load_config

    return load_config(overrides={"nlp": {"spacy_model": "fr_core_news_sm"}})
