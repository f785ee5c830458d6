"""scripts/learning_curve.py runs the training recipe on subsets and reports figures."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from pipeline.annotations import DEFAULT_DIR

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "learning_curve.py"


def _script():
    spec = importlib.util.spec_from_file_location("learning_curve", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_subsets_are_reproducible_and_nested_by_draw():
    lc = _script()
    ids = [f"i{k:02d}" for k in range(20)]
    runs = lc.subsets(list(reversed(ids)), ["5", "10", "all"], draws=2)
    assert [(size, draw) for size, draw, _ in runs] == [
        ("5", 1), ("5", 2), ("10", 1), ("10", 2), ("all", 0)
    ]
    assert runs == lc.subsets(ids, ["5", "10", "all"], draws=2)  # input order is irrelevant
    five, ten = runs[0][2], runs[2][2]
    assert len(five) == 5 and len(ten) == 10 and set(five) < set(ten)  # same draw: nested
    assert runs[0][2] != runs[1][2]
    assert runs[4][2] == sorted(ids)
    with pytest.raises(SystemExit, match="between 2 and 20"):
        lc.subsets(ids, ["30"], draws=1)


@pytest.mark.slow
def test_a_small_curve_runs_end_to_end(tmp_path):
    """Two sizes on a slice of the corpus (six training interviews of three domains, one
    dev, one test), with the epochs capped: every figure is a macro-F1."""
    root = tmp_path / "annotations"
    root.mkdir()
    shutil.copy(DEFAULT_DIR / "jobs.yaml", root / "jobs.yaml")
    by_domain: dict[str, list[Path]] = {}
    for path in sorted((DEFAULT_DIR / "train").glob("*.jsonl")):
        by_domain.setdefault(path.name.split("_")[0], []).append(path)
    pairs = [paths[:2] for paths in by_domain.values() if len(paths) >= 2][:3]
    picked = [p for pair in pairs for p in pair]
    for split, paths in (("train", picked),
                         ("dev", sorted((DEFAULT_DIR / "dev").glob("*.jsonl"))[:1]),
                         ("test", sorted((DEFAULT_DIR / "test").glob("*.jsonl"))[:1])):
        (root / split).mkdir()
        for path in paths:
            shutil.copy(path, root / split / path.name)
    out = tmp_path / "curve.jsonl"
    code = _script().main(["--sizes", "4,all", "--draws", "1", "--annotations", str(root),
                           "--max-epochs", "1", "--net-epochs", "1", "--out", str(out)])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["interviews"], r["draw"]) for r in rows] == [(4, 1), (6, 0)]
    for row in rows:
        for key in ("held_out", "dev", "test"):
            assert 0.0 <= row[key] <= 1.0, row
