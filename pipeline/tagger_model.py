"""Where the trained tagger lies and what identifies it, without loading any model.

Kept apart from :mod:`pipeline.tagging` (which imports spaCy and friends, seconds of
imports) because the batch computes the tagging cache key for every interview, even
when everything is up to date and no model needs to load.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import ModelError

MODEL_FORMAT = "jtbd-tagger/9"  # 2: textcats read the question; 3: phase reads the turn;
# 4: the statement ranker reads every job type; 5: forces and job types use MLPHead;
# 6: and read the sentence's mean word vector; 7: ContextNet reads the interview around;
# 8: the force network reads each word (word_w, word_b) and learns phases and job types too;
# 9: each word is read with its tok2vec row (features.word_vectors)
# (a network with ``centre`` columns, an option left off, stores them in the same format)


def read_meta(model_dir: Path) -> dict:
    """The trained model's ``meta.json``; a clear error when it is missing or too old."""
    path = Path(model_dir) / "meta.json"
    if not path.exists():
        raise ModelError(
            f"no trained tagger in {model_dir}: run `make train` (a few minutes), "
            "or set tagging.method: rules"
        )
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != MODEL_FORMAT:
        raise ModelError(
            f"{path}: model format {meta.get('format')!r}, this version reads {MODEL_FORMAT!r}; "
            "run `make train` again"
        )
    return meta


def model_fingerprint(model_dir: str | Path) -> str:
    """What identifies a trained model: its meta (which holds the training data hash)."""
    path = Path(model_dir) / "meta.json"
    return read_meta(Path(model_dir)).get("fingerprint", "") or path.stat().st_mtime_ns.__str__()


def tagger_fingerprint(cfg) -> str:
    """Part of the tagging cache key: the trained model's fingerprint ("rules" for the rules).

    Retraining (new annotations, new corrections) must re-tag every interview.
    """
    if cfg.method != "trained":
        return "rules"
    return model_fingerprint(model_path(cfg.model))


def model_path(value: str) -> Path:
    """Where the model named in the config lies (or will lie once trained)."""
    from pipeline.config import REPO_ROOT, resolve_path

    found = resolve_path(value)
    if found is not None:
        return found
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


