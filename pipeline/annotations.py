"""The team's annotated corpus (``data/annotations``): load, validate, turn into transcripts.

Format ``jtbd-annotation/1`` is documented in ``data/annotations/README.md``: one
JSONL file per interview, a header line then one line per sentence. The loader is
strict on purpose: a wrong label in the gold data silently teaches and measures the
wrong thing, so every problem is reported with its file and line.

``python -m pipeline.annotations check [DIR]`` validates the corpus and prints its
counts (the numbers the tagging-quality issue asks for).
"""

from __future__ import annotations

import json
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.config import REPO_ROOT
from pipeline.errors import InputError
from pipeline.labels import FORCES, INTERVIEWEE, INTERVIEWER, JOB_TYPES, NONE, PHASES, ROLES
from pipeline.records import Transcript, Turn

FORMAT = "jtbd-annotation/1"
DEFAULT_DIR = REPO_ROOT / "data" / "annotations"
SPLITS = ("train", "dev", "test")
MARKETS = ("B2B", "B2C")
_HEADER_KEYS = {"format", "interview_id", "domain", "market", "main_job", "speakers", "summary"}
_SENTENCE_KEYS = {"speaker", "text", "phase", "force", "job_type", "job", "new_turn"}


@dataclass(slots=True)
class GoldSentence:
    """One annotated sentence. ``force``/``job_type``/``job`` are ``None`` for the interviewer."""

    speaker: str
    role: str
    text: str
    phase: str
    force: str | None = None
    job_type: str | None = None
    job: str | None = None
    turn: int = 0
    line: int = 0


@dataclass(slots=True)
class GoldInterview:
    interview_id: str
    split: str
    domain: str
    market: str
    main_job: str
    speakers: dict[str, str]
    summary: str
    sentences: list[GoldSentence] = field(default_factory=list)
    path: Path | None = None

    @property
    def interviewee(self) -> list[GoldSentence]:
        return [s for s in self.sentences if s.role == INTERVIEWEE]

    def turns(self) -> list[list[GoldSentence]]:
        out: list[list[GoldSentence]] = []
        for s in self.sentences:
            if out and out[-1][0].turn == s.turn:
                out[-1].append(s)
            else:
                out.append([s])
        return out

    def to_transcript(self) -> tuple[Transcript, list[list[tuple[int, int]]]]:
        """The transcript the pipeline would read, and each gold sentence's span in its turn.

        Sentences of a turn are joined with one space; ``spans[t][k]`` is the character
        span of the k-th gold sentence of turn ``t`` inside that turn's text. No roles
        are set: finding them is part of what the evaluation measures.
        """
        turns: list[Turn] = []
        spans: list[list[tuple[int, int]]] = []
        for t, group in enumerate(self.turns()):
            text, turn_spans = "", []
            for s in group:
                if text:
                    text += " "
                turn_spans.append((len(text), len(text) + len(s.text)))
                text += s.text
            turns.append(Turn(index=t, speaker=group[0].speaker, text=text))
            spans.append(turn_spans)
        transcript = Transcript(
            interview_id=self.interview_id,
            source=str(self.path or self.interview_id),
            kind="text",
            turns=turns,
            speakers=list(dict.fromkeys(t.speaker for t in turns)),
        )
        return transcript, spans


def load_jobs(root: Path = DEFAULT_DIR) -> dict[str, str]:
    path = root / "jobs.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise InputError(path, "the job catalog must map job ids to statements")
    return {str(k): str(v) for k, v in data.items()}


def load_interview(path: Path, split: str, jobs: dict[str, str]) -> GoldInterview:
    """Parse and validate one annotation file; raises :class:`InputError` naming the line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"line {n}: not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(path, f"line {n}: expected a JSON object")
        rows.append((n, obj))
    if not rows:
        raise InputError(path, "the file is empty")
    n, head = rows[0]
    if head.get("format") != FORMAT:
        raise InputError(path, f"line {n}: format must be {FORMAT!r}, found {head.get('format')!r}")
    missing = _HEADER_KEYS - head.keys()
    if missing:
        raise InputError(path, f"line {n}: header misses {sorted(missing)}")
    if head["interview_id"] != path.stem:
        raise InputError(path, f"line {n}: interview_id {head['interview_id']!r} != file name")
    if head["market"] not in MARKETS:
        raise InputError(path, f"line {n}: market must be one of {MARKETS}")
    if head["main_job"] not in jobs:
        raise InputError(path, f"line {n}: main_job {head['main_job']!r} is not in jobs.yaml")
    speakers = head["speakers"]
    if not isinstance(speakers, dict) or not speakers or set(speakers.values()) - set(ROLES):
        raise InputError(path, f"line {n}: speakers must map labels to {ROLES}")

    interview = GoldInterview(
        interview_id=head["interview_id"],
        split=split,
        domain=str(head["domain"]),
        market=head["market"],
        main_job=head["main_job"],
        speakers=dict(speakers),
        summary=str(head["summary"]),
        path=path,
    )
    turn, previous = -1, None
    for n, obj in rows[1:]:
        where = f"line {n}"
        unknown = obj.keys() - _SENTENCE_KEYS
        if unknown:
            raise InputError(path, f"{where}: unknown keys {sorted(unknown)}")
        speaker = obj.get("speaker")
        if speaker not in speakers:
            raise InputError(path, f"{where}: speaker {speaker!r} is not in the header's speakers")
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InputError(path, f"{where}: text is empty")
        if obj.get("phase") not in PHASES:
            raise InputError(path, f"{where}: phase {obj.get('phase')!r} not in {PHASES}")
        role = speakers[speaker]
        if speaker != previous or obj.get("new_turn"):
            turn += 1
        previous = speaker
        sentence = GoldSentence(
            speaker=speaker, role=role, text=text.strip(), phase=obj["phase"], turn=turn, line=n
        )
        if role == INTERVIEWEE:
            force, job_type, job = obj.get("force"), obj.get("job_type"), obj.get("job")
            if force not in FORCES:
                raise InputError(path, f"{where}: force {force!r} not in {FORCES}")
            if job_type not in JOB_TYPES:
                raise InputError(path, f"{where}: job_type {job_type!r} not in {JOB_TYPES}")
            if job_type == NONE and job is not None:
                raise InputError(path, f"{where}: job must be null when job_type is none")
            if job_type != NONE and job not in jobs:
                raise InputError(path, f"{where}: job {job!r} is not in jobs.yaml")
            sentence.force, sentence.job_type, sentence.job = force, job_type, job
        elif any(obj.get(k) not in (None, NONE) for k in ("force", "job_type", "job")):
            raise InputError(path, f"{where}: interviewer sentences carry a phase only")
        interview.sentences.append(sentence)
    if not interview.interviewee:
        raise InputError(path, "no interviewee sentence")
    if INTERVIEWER not in speakers.values():
        raise InputError(path, "no interviewer in speakers")
    return interview


def load_corpus(
    root: Path = DEFAULT_DIR, splits: tuple[str, ...] = SPLITS
) -> tuple[list[GoldInterview], list[InputError]]:
    """All interviews of ``splits``, sorted by id, and the files that failed validation."""
    jobs = load_jobs(root)
    out, errors = [], []
    for split in splits:
        for path in sorted((root / split).glob("*.jsonl")):
            try:
                out.append(load_interview(path, split, jobs))
            except InputError as exc:
                errors.append(exc)
    return out, errors


def summarise(interviews: list[GoldInterview]) -> str:
    """Counts per split: interviews, domains, interviewee sentences, label shares."""
    lines = []
    for split in SPLITS:
        part = [i for i in interviews if i.split == split]
        if not part:
            continue
        sents = [s for i in part for s in i.interviewee]
        domains = sorted({i.domain for i in part})
        markets = Counter(i.market for i in part)
        lines.append(
            f"{split}: {len(part)} interviews, {len(domains)} domains ({', '.join(domains)}), "
            f"{dict(markets)}, {len(sents)} interviewee sentences, "
            f"{sum(len(i.sentences) for i in part)} sentences in all"
        )
        for name in ("phase", "force", "job_type"):
            counts = Counter(getattr(s, name) for s in sents)
            shares = ", ".join(f"{k} {v / len(sents):.0%}" for k, v in counts.most_common())
            lines.append(f"  {name}: {shares}")
        jobs = Counter(i.main_job for i in part)
        lines.append(f"  main jobs: {dict(sorted(jobs.items()))}")
    train = {i.domain for i in interviews if i.split == "train"}
    for split in SPLITS[1:]:  # dev and test measure fields the models never saw
        held = {i.domain for i in interviews if i.split == split}
        if train & held:
            lines.append(f"WARNING: domains in both train and {split}: {sorted(train & held)}")
    return "\n".join(lines)


def agreement(root: Path = DEFAULT_DIR) -> dict[str, dict[str, float]]:
    """Inter-annotator agreement: ``root/agreement/*.jsonl`` against the same interviews
    in ``root/dev`` (or ``train``).

    A second annotator labelled those interviews blind, from the guide alone (same
    sentences, same order; no job ids). Returns per tag: the number of sentences,
    raw agreement, Cohen's kappa and the macro-F1 of one annotator scored against the
    other, which is the ceiling to keep in mind for the models' macro-F1 targets.
    """
    from sklearn.metrics import cohen_kappa_score, f1_score

    pairs: dict[str, tuple[list, list]] = {t: ([], []) for t in ("phase", "force", "job_type")}
    for path in sorted((root / "agreement").glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        other = [json.loads(line) for line in lines[1:] if line.strip()]
        first = next((root / split / path.name for split in ("dev", "train")
                      if (root / split / path.name).exists()), None)
        if first is None:
            raise InputError(path, "no interview of that name in dev/ or train/")
        gold = [json.loads(line) for line in first.read_text(encoding="utf-8").splitlines()[1:]
                if line.strip()]
        if [g["text"] for g in gold] != [o.get("text") for o in other]:
            raise InputError(path, f"its sentences differ from {first}")
        for g, o in zip(gold, other, strict=True):
            for tag, (a, b) in pairs.items():
                if g.get(tag) is not None and o.get(tag) is not None:
                    a.append(g[tag])
                    b.append(o[tag])
    out = {}
    for tag, (a, b) in pairs.items():
        if a:
            with warnings.catch_warnings():  # kappa is undefined for a single label: nan
                warnings.simplefilter("ignore")
                kappa = float(cohen_kappa_score(a, b))
            out[tag] = {
                "sentences": len(a),
                "agreement": sum(x == y for x, y in zip(a, b, strict=True)) / len(a),
                "kappa": kappa,
                "macro_f1": float(f1_score(a, b, average="macro", zero_division=0)),
            }
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "agreement":
        root = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
        for tag, v in agreement(root).items():
            print(f"{tag:9} {v['sentences']:4d} sentences  agreement {v['agreement']:.3f}  "
                  f"kappa {v['kappa']:.3f}  macro-F1 {v['macro_f1']:.3f}")
        return 0
    if not argv or argv[0] != "check":
        print("usage: python -m pipeline.annotations check|agreement [DIR]", file=sys.stderr)
        return 2
    root = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    interviews, errors = load_corpus(root)
    for err in errors:
        print(f"ERROR {err}", file=sys.stderr)
    print(summarise(interviews))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
