"""How the force (or job-type) tagger grows with the number of annotated interviews.

A team deciding whether to annotate or review more interviews wants to know what each
one buys. This trains the recipe of ``make train`` (the spaCy text classifier and the
context networks, their vote calibrated on held-out training domains) on random
subsets of ``data/annotations/train/`` and scores it by macro-F1 after the vote, on the
gold sentences of the held-out training domains, ``dev/`` and ``test/`` (``make eval``
runs the pipeline's sentence splitter and aligns, so its figures differ a little). The
table of ``data/annotations/README.md`` ("How much more annotation would help")
was made with it::

    .venv/bin/python scripts/learning_curve.py --sizes 25,50,75,all --draws 2

Each training takes from 45 s (25 interviews) to 3 minutes (101) on 2 cores (the text
classifier trains in a worker process beside the networks); parsing the corpus once
takes about 1.5 minutes more.
Subset ``k`` of a size is the first interviews of the sorted training ids shuffled by
``random.Random(k)``, so a run is reproduced exactly. ``all`` is every training
interview (one draw: nothing to draw). Rows are also appended to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import train as T  # noqa: E402
from pipeline.annotations import DEFAULT_DIR, load_corpus  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.tagging.trained import TAGS, TextcatScorer  # noqa: E402


def subsets(ids: list[str], sizes: list[str], draws: int) -> list[tuple[str, int, list[str]]]:
    """``(size, draw, interview ids)`` for every training to run."""
    out = []
    ordered = sorted(ids)
    for size in sizes:
        if size == "all":
            out.append(("all", 0, ordered))
            continue
        n = int(size)
        if not 2 <= n <= len(ordered):
            raise SystemExit(f"--sizes: {n} is not between 2 and {len(ordered)} interviews")
        for draw in range(1, draws + 1):
            shuffled = ordered[:]
            random.Random(draw).shuffle(shuffled)
            out.append((str(n), draw, sorted(shuffled[:n])))
    return out


def score(tag, cal, textcat, head, items) -> float | None:
    """Macro-F1 after the vote on the gold sentences of ``items`` (None without any)."""
    labels = TAGS[tag]
    _, y, texts = T._rows(items, tag)
    if not y:
        return None
    lp = cal.log_proba(TextcatScorer(textcat, labels).log_proba(texts),
                       T.context_log_proba(head, items, tag))
    return round(T.macro_f1([labels.index(v) for v in y], cal.decide(lp), len(labels)), 4)


def one_training(tag, subset, scored, pool, work: Path, max_epochs, net) -> dict:
    """The recipe on ``subset``: classifier and networks on the non-held-out domains,
    vote tuned on the held-out ones, networks refitted on every interview (as ``make
    train`` keeps them); returns the figures of every set of ``scored``."""
    fit, calib = T.split_calibration(subset)
    _, ys, texts = T._rows(fit, tag)
    future = pool.submit(T.train_textcat, texts, ys, tag, work / f"{tag}_textcat",
                         max_epochs=max_epochs)
    with T._one_core():  # the other core trains the classifier, as in `make train`
        heads = T._fit_networks(fit, net, (tag,))
        final = T._fit_networks(subset, net, (tag,))
    textcat = Path(future.result())
    labels = TAGS[tag]
    _, y, texts = T._rows(calib, tag)
    cal = T.fit_calibration(TextcatScorer(textcat, labels).log_proba(texts),
                            T.context_log_proba(heads[tag], calib, tag),
                            [labels.index(v) for v in y], len(labels))
    figures = {"held_out": score(tag, cal, textcat, heads[tag], calib)}
    for name, items in scored.items():
        figures[name] = score(tag, cal, textcat, final[tag], items)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tag", choices=sorted(TAGS), default="force")
    parser.add_argument("--sizes", default="25,50,75,all",
                        help="comma-separated numbers of training interviews, or 'all'")
    parser.add_argument("--draws", type=int, default=2, help="random subsets per size")
    parser.add_argument("--annotations", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="cap the spaCy classifier's epochs (quick checks only)")
    parser.add_argument("--net-epochs", type=int, default=None,
                        help="cap the networks' epochs (quick checks only)")
    parser.add_argument("--out", type=Path, default=ROOT / "data/interim/learning_curve.jsonl")
    args = parser.parse_args(argv)

    config = load_config()
    corpus = {}
    for split in ("train", "dev", "test"):
        interviews, errors = load_corpus(args.annotations, (split,))
        for err in errors:
            print(f"skipped {err}", file=sys.stderr)
        corpus[split] = interviews
    if not corpus["train"]:
        raise SystemExit(f"no training interview in {args.annotations}/train")
    runs = subsets([g.interview_id for g in corpus["train"]], args.sizes.split(","), args.draws)

    from pipeline.nlp import load_nlp
    from pipeline.segments.embedders import get_embedder
    from pipeline.tagging.features import RuleFeatures

    t0 = time.perf_counter()
    nlp = load_nlp(config.nlp.spacy_model)
    embedder = get_embedder(config.segments)
    rules = RuleFeatures(nlp)
    with T._one_core():
        items = {split: T.featurize(T.label(g), nlp, rules, embedder)
                 for split, g in corpus.items()}
    print(f"parsed {sum(map(len, items.values()))} interviews in "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    net = {args.tag: dict(T.NET_SETTINGS[args.tag])}
    if args.net_epochs:
        net[args.tag]["epochs"] = args.net_epochs
    by_id = {p.interview_id: p for p in items["train"]}
    scored = {name: items[name] for name in ("dev", "test") if items[name]}

    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(f"{'interviews':>10} {'draw':>4}  {'held-out':>8} {'dev':>6} {'test':>6}  seconds")
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        for size, draw, ids in runs:
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="jtbd-curve-") as tmp:
                figures = one_training(args.tag, [by_id[i] for i in ids], scored, pool,
                                       Path(tmp), args.max_epochs, net)
            seconds = time.perf_counter() - t0
            row = {"tag": args.tag, "interviews": len(ids), "size": size, "draw": draw,
                   **figures, "seconds": round(seconds, 1)}
            with args.out.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
            cells = [f"{figures.get(k):>{w}}" if figures.get(k) is not None else " " * (w - 1) + "-"
                     for k, w in (("held_out", 8), ("dev", 6), ("test", 6))]
            print(f"{len(ids):>10} {draw:>4}  {' '.join(cells)}  {seconds:7.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
