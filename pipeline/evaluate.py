"""Measure the analysis on the dev interviews (``make eval``), as a researcher would meet it.

Each dev interview of ``data/annotations/dev`` (domains absent from training) goes
through the real stages, not through the gold sentence boundaries:

- **text**: its transcript (``Speaker: text`` turns) -> roles -> spaCy sentences ->
  tagger; every gold sentence takes the tags of the predicted sentence that covers
  most of its characters;
- **audio** (``--audio N``): N dev interviews are spoken with espeak-ng (two voices),
  transcribed by Whisper and diarized; gold and recognised words are aligned
  (difflib) and every gold sentence takes the tags of the recognised sentence that
  holds most of its words (a gold sentence with no recognised word counts as missed:
  role wrong, tags "none").

It prints per-label precision, recall, F1 and the confusion matrix for phase, force
and job type; role accuracy; segment ARI (job segments across the dev interviews);
next to plain baselines (majority label; phase by position in the interview; first
speaker is the interviewer; one segment per interview) and the rule tagger, so the
gain is visible. ``data/interim/eval/report.json`` keeps the figures.

The interviews of ``data/annotations/test`` (written by other writers, in domains of
neither train nor dev) go through the same text path with the tagger in use, next to
their own majority and by-position baselines: four times the dev set's sentences, so
their figures move less from one training to the next, and labels applied by other
hands from the same guide, as a team's own interviews will be. Dev holds the targets;
the test set is never used to choose anything.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import re
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.annotations import DEFAULT_DIR, GoldInterview, load_corpus
from pipeline.config import REPO_ROOT, Config, load_config
from pipeline.labels import FORCES, INTERVIEWEE, INTERVIEWER, JOB_TYPES, NONE, PHASES
from pipeline.records import Sentence, Transcript

EVAL_DIR = REPO_ROOT / "data" / "interim" / "eval"
TARGETS = {
    "force_macro_f1": 0.75,
    "job_type_macro_f1": 0.65,
    "phase_accuracy": 0.90,
    "role_accuracy": 0.98,
    "segment_ari": 0.60,
}


@dataclass
class Aligned:
    """Per gold sentence of one interview: the predicted sentence it maps to (or None)."""

    gold: GoldInterview
    predicted: list[Sentence]
    mapping: list[int | None] = field(default_factory=list)

    def pred(self, k: int) -> Sentence | None:
        j = self.mapping[k]
        return None if j is None else self.predicted[j]


# ---------------------------------------------------------------- alignment


def align_text(gold: GoldInterview, spans, predicted: list[Sentence], transcript: Transcript):
    """Map gold sentences to predicted ones by character overlap within each turn."""
    by_turn: dict[int, list[tuple[int, int, int]]] = {}
    for j, s in enumerate(predicted):
        text = transcript.turns[s.turn].text
        spans_t = by_turn.setdefault(s.turn, [])
        pos = spans_t[-1][1] if spans_t else 0
        at = text.find(s.text, pos)
        if at < 0:
            at = text.find(s.text)
        if at >= 0:
            spans_t.append((at, at + len(s.text), j))
    mapping: list[int | None] = []
    k = 0
    for t, turn_spans in enumerate(spans):
        for a, b in turn_spans:
            best, best_overlap = None, 0
            for pa, pb, j in by_turn.get(t, []):
                overlap = min(b, pb) - max(a, pa)
                if overlap > best_overlap:
                    best, best_overlap = j, overlap
            mapping.append(best)
            k += 1
    return Aligned(gold, predicted, mapping)


_WORD = re.compile(r"[\w']+", re.UNICODE)


def _words(text: str) -> list[str]:
    return [w.replace("'", "") for w in _WORD.findall(text.lower().replace("’", "'"))]


def align_words(gold: GoldInterview, predicted: list[Sentence]) -> Aligned:
    """Map gold sentences to recognised ones through a word alignment (ASR output)."""
    g_words, g_idx = [], []
    for k, s in enumerate(gold.sentences):
        ws = _words(s.text)
        g_words += ws
        g_idx += [k] * len(ws)
    p_words, p_idx = [], []
    for j, s in enumerate(predicted):
        ws = _words(s.text)
        p_words += ws
        p_idx += [j] * len(ws)
    votes: list[Counter] = [Counter() for _ in gold.sentences]
    matcher = difflib.SequenceMatcher(None, g_words, p_words, autojunk=False)
    for block in matcher.get_matching_blocks():
        for i in range(block.size):
            votes[g_idx[block.a + i]][p_idx[block.b + i]] += 1
    mapping = [v.most_common(1)[0][0] if v else None for v in votes]
    return Aligned(gold, predicted, mapping)


# ---------------------------------------------------------------- metrics


def label_report(name: str, labels: tuple[str, ...], gold: list[str], pred: list[str]) -> dict:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    p, r, f, n = precision_recall_fscore_support(gold, pred, labels=list(labels), zero_division=0)
    present = [i for i, lab in enumerate(labels) if n[i] > 0]
    return {
        "name": name,
        "n": len(gold),
        "accuracy": float(np.mean([a == b for a, b in zip(gold, pred, strict=True)]))
        if gold
        else 0.0,
        "macro_f1": float(np.mean([f[i] for i in present])) if present else 0.0,
        "per_label": {
            lab: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(n[i]),
            }
            for i, lab in enumerate(labels)
        },
        "confusion": confusion_matrix(gold, pred, labels=list(labels)).tolist(),
        "labels": list(labels),
    }


def format_report(rep: dict) -> str:
    labels = rep["labels"]
    width = max(len(lab) for lab in labels) + 2
    lines = [
        f"{rep['name']}: accuracy {rep['accuracy']:.3f}, macro-F1 {rep['macro_f1']:.3f} "
        f"({rep['n']} sentences)"
    ]
    lines.append(f"  {'':{width}} precision  recall     F1  support")
    for lab in labels:
        m = rep["per_label"][lab]
        lines.append(
            f"  {lab:{width}} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:6.3f}"
            f" {m['support']:8d}"
        )
    short = [lab[:8] for lab in labels]
    lines.append("  confusion (rows: gold, columns: predicted)")
    lines.append(f"  {'':{width}}" + "".join(f"{s:>9}" for s in short))
    for lab, row in zip(labels, rep["confusion"], strict=True):
        lines.append(f"  {lab:{width}}" + "".join(f"{v:9d}" for v in row))
    return "\n".join(lines)


def collect(aligned: list[Aligned]) -> dict[str, tuple[list, list]]:
    """Gold and predicted labels per tag over all gold sentences of the interviews."""
    out = {"phase": ([], []), "force": ([], []), "job_type": ([], []), "role": ([], [])}
    for al in aligned:
        for k, g in enumerate(al.gold.sentences):
            p = al.pred(k)
            out["phase"][0].append(g.phase)
            out["phase"][1].append(p.phase if p else "before")
            out["role"][0].append(g.role)
            out["role"][1].append(p.role if p else "missing")
            if g.role != INTERVIEWEE:
                continue
            for tag in ("force", "job_type"):
                out[tag][0].append(getattr(g, tag))
                value = getattr(p, tag) if p and p.role == INTERVIEWEE else NONE
                out[tag][1].append(value)
    return out


def calibration_error(aligned: list[Aligned], tag: str, bins: int = 10) -> tuple[float, int]:
    """Expected calibration error of ``{tag}_score`` on the predicted interviewee sentences.

    Sentences are binned by their score; ECE is the mean gap, weighted by bin size,
    between a bin's mean score and its share of correct labels. 0 means "a score of 0.7
    is right 70 % of the time". Returns ``(ece, n)``.
    """
    scores, right = [], []
    for al in aligned:
        for k, g in enumerate(al.gold.sentences):
            p = al.pred(k)
            if g.role != INTERVIEWEE or p is None or p.role != INTERVIEWEE:
                continue
            scores.append(getattr(p, f"{tag}_score"))
            right.append(getattr(p, tag) == getattr(g, tag))
    if not scores:
        return 0.0, 0
    s, r = np.asarray(scores), np.asarray(right, dtype=float)
    idx = np.minimum((s * bins).astype(int), bins - 1)
    ece = sum(abs(s[idx == b].mean() - r[idx == b].mean()) * (idx == b).sum()
              for b in range(bins) if (idx == b).any()) / len(s)
    return float(ece), len(s)


def segment_scores(aligned: list[Aligned]) -> dict:
    """ARI between gold jobs and predicted segments over the gold job sentences.

    ``ari``: over the gold job sentences the pipeline also put in a segment (how well
    it groups); ``coverage``: the share of gold job sentences in some segment;
    ``ari_all``: every gold job sentence, unsegmented ones as singletons;
    ``interview_ari``: each interview's main segment against its main job.
    """
    from sklearn.metrics import adjusted_rand_score

    gold, pred, gold_all, pred_all = [], [], [], []
    per_interview_gold, per_interview_pred, baseline = [], [], []
    for al in aligned:
        segs = Counter()
        for k, g in enumerate(al.gold.sentences):
            if g.role != INTERVIEWEE or g.job is None:
                continue
            p = al.pred(k)
            seg = p.segment_id if p else None
            gold_all.append(g.job)
            pred_all.append(seg or f"single-{al.gold.interview_id}-{k}")
            baseline.append(al.gold.interview_id)
            if seg:
                gold.append(g.job)
                pred.append(seg)
                segs[seg] += 1
        per_interview_gold.append(al.gold.main_job)
        per_interview_pred.append(
            segs.most_common(1)[0][0] if segs else f"none-{al.gold.interview_id}"
        )
    return {
        "ari": float(adjusted_rand_score(gold, pred)) if gold else 0.0,
        "coverage": len(gold) / max(1, len(gold_all)),
        "ari_all": float(adjusted_rand_score(gold_all, pred_all)) if gold_all else 0.0,
        "interview_ari": float(adjusted_rand_score(per_interview_gold, per_interview_pred)),
        "baseline_one_segment_per_interview": float(adjusted_rand_score(gold_all, baseline)),
        "n_segments": len(set(pred)),
        "n_jobs": len(set(gold_all)),
    }


# ---------------------------------------------------------------- baselines


def baselines(train: list[GoldInterview], dev: list[GoldInterview]) -> dict:
    """Majority label, phase by position, first speaker as interviewer."""
    tr_sents = [s for i in train for s in i.interviewee]
    out = {}
    for tag in ("force", "job_type"):
        majority = Counter(getattr(s, tag) for s in tr_sents).most_common(1)[0][0]
        gold = [getattr(s, tag) for i in dev for s in i.interviewee]
        out[tag] = label_report(
            f"{tag} (baseline: always {majority!r})",
            FORCES if tag == "force" else JOB_TYPES,
            gold,
            [majority] * len(gold),
        )
    # phase by position: cut each interview by the train shares of the phases, in order
    shares = Counter(s.phase for i in train for s in i.sentences)
    total = sum(shares.values())
    bounds = np.cumsum([shares[p] / total for p in PHASES])
    gold, pred = [], []
    for i in dev:
        n = len(i.sentences)
        for k, s in enumerate(i.sentences):
            gold.append(s.phase)
            pred.append(PHASES[int(np.searchsorted(bounds, (k + 0.5) / n))])
    out["phase"] = label_report("phase (baseline: by position)", PHASES, gold, pred)
    right = total = 0
    for i in dev:
        first = i.sentences[0].speaker
        for s in i.sentences:
            total += 1
            right += (INTERVIEWER if s.speaker == first else INTERVIEWEE) == s.role
    out["role_accuracy"] = right / max(1, total)
    return out


# ---------------------------------------------------------------- running the stages


def tag_interviews(dev: list[GoldInterview], config: Config, log=print) -> list[Aligned]:
    from pipeline.nlp import load_nlp
    from pipeline.sentences import split_sentences
    from pipeline.speakers import assign_roles
    from pipeline.tagging import get_tagger

    nlp = load_nlp(config.nlp.spacy_model)
    tagger = get_tagger(nlp, config.tagging)
    out = []
    for gold in dev:
        transcript, spans = gold.to_transcript()
        transcript.roles = assign_roles(transcript, config.speakers)
        sentences, docs = split_sentences(transcript, nlp, batch_size=config.nlp.batch_size)
        tagger(sentences, docs)
        out.append(align_text(gold, spans, sentences, transcript))
    return out


def add_segments(aligned: list[Aligned], config: Config, cache_dir: Path) -> list:
    """Build the segments of the tagged dev interviews (sets ``segment_id``); returns them."""
    from pipeline.nlp import load_nlp
    from pipeline.run import statement_ranker
    from pipeline.segments import build_segments

    sentences = [s for al in aligned for s in al.predicted]
    ranker, _ = statement_ranker(config)
    segments, _ = build_segments(
        sentences, config.segments, nlp=load_nlp(config.nlp.spacy_model), cache_dir=cache_dir,
        statement_ranker=ranker() if ranker else None,
    )
    return segments


FIRST_PERSON = {"je", "j'", "me", "m'", "moi", "mon", "ma", "mes", "nous", "nos", "notre"}


def statement_form(nlp, text: str) -> dict[str, bool]:
    """Is a job statement in the catalog's form: an infinitive first (after ``ne plus``
    and clitic pronouns), no first person ("me", "mes")? A statement such as "me
    prendre 40 minutes" fails both; "suivre ses prospects jusqu'à la signature" passes."""
    doc = nlp(text)
    words = [t for t in doc if not t.is_punct]
    head = next(
        (t for t in words if t.lower_ not in {"ne", "n'", "plus", "pas", "jamais"}
         and not (t.pos_ == "PRON" and t.i < len(doc) - 1)),
        None,
    )
    infinitive = head is not None and "Inf" in head.morph.get("VerbForm")
    first = any(t.lower_ in FIRST_PERSON for t in words)
    return {"infinitive": infinitive, "first_person": first}


def statement_scores(segments: list, aligned: list[Aligned], jobs: dict[str, str],
                     embedder, nlp) -> dict:
    """How close each segment's statement (and each interview's main-job statement) is
    to the catalog statement of the gold job it stands for, and whether it has the form.

    The gold job of a segment is the most common gold job of its sentences. Similarity
    is the cosine of the sentence embeddings: a paraphrase of the catalog statement
    scores about 0.6-0.8, a statement about something else about 0.1-0.3. ``examples``
    lists every statement with its gold statement, for reading.
    """
    by_sentence: dict[str, str] = {}
    for al in aligned:
        for k, g in enumerate(al.gold.sentences):
            p = al.pred(k)
            if p is not None and g.job:
                by_sentence[p.sentence_id] = g.job
    pairs = []  # (kind, statement, gold job)
    main_jobs = {al.gold.interview_id: al.gold.main_job for al in aligned}
    members: dict[str, Counter] = {}
    for al in aligned:
        for s in al.predicted:
            if s.segment_id and s.sentence_id in by_sentence:
                members.setdefault(s.segment_id, Counter())[by_sentence[s.sentence_id]] += 1
    for seg in segments:
        votes = members.get(seg.segment_id)
        if seg.job_statement and votes:
            pairs.append(("segment", seg.job_statement, votes.most_common(1)[0][0]))
        for interview_id, text in seg.interview_statements.items():
            if text and main_jobs.get(interview_id):
                pairs.append(("interview", text, main_jobs[interview_id]))
    pairs = [p for p in pairs if p[2] in jobs]
    if not pairs:
        return {"n": 0}
    vec = np.asarray(embedder.embed([p[1] for p in pairs] + [jobs[p[2]] for p in pairs]))
    vec /= np.linalg.norm(vec, axis=1, keepdims=True) + 1e-12
    sims = (vec[: len(pairs)] * vec[len(pairs):]).sum(axis=1)
    forms = [statement_form(nlp, p[1]) for p in pairs]
    out: dict = {"n": len(pairs)}
    for kind in ("segment", "interview"):
        idx = [i for i, p in enumerate(pairs) if p[0] == kind]
        if idx:
            out[kind] = {
                "n": len(idx),
                "similarity": float(np.mean(sims[idx])),
                "infinitive": float(np.mean([forms[i]["infinitive"] for i in idx])),
                "first_person": float(np.mean([forms[i]["first_person"] for i in idx])),
            }
    out["examples"] = [
        {"kind": p[0], "statement": p[1], "gold_job": p[2], "gold": jobs[p[2]],
         "similarity": round(float(sims[i]), 3)}
        for i, p in enumerate(pairs)
    ]
    return out


def format_statements(st: dict, how: str, examples: bool = True) -> list[str]:
    lines = []
    for kind, name in (("segment", "segment statements"), ("interview", "main-job statements")):
        if kind in st:
            v = st[kind]
            lines.append(
                f"{name} ({how}): {v['n']}, similarity to the catalog statement "
                f"{v['similarity']:.3f}, infinitive form {v['infinitive']:.0%}, "
                f"first person {v['first_person']:.0%}"
            )
    for ex in st.get("examples", []) if examples else []:
        lines.append(f"  [{ex['kind'][:3]}] {ex['similarity']:.2f}  {ex['statement']!r}  "
                     f"(gold: {ex['gold']!r})")
    return lines


def _synth_module():
    path = REPO_ROOT / "scripts" / "make_sample_audio.py"
    spec = importlib.util.spec_from_file_location("make_sample_audio", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def audio_interviews(
    dev: list[GoldInterview], config: Config, n: int, log=print, out_dir: Path = EVAL_DIR
) -> list[Aligned]:
    """Speak ``n`` dev interviews, transcribe them with the real audio stages, align."""
    from pipeline.cache import file_hash, read_cached, stage_key, write_cached
    from pipeline.config import section_hash
    from pipeline.nlp import load_nlp
    from pipeline.sentences import split_sentences
    from pipeline.tagging import get_tagger
    from pipeline.transcribe import transcribe_audio_file

    synth = _synth_module()
    nlp = load_nlp(config.nlp.spacy_model)
    tagger = get_tagger(nlp, config.tagging)
    audio_dir = out_dir / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for gold in dev[:n]:
        turns_text = "\n".join(
            f"{group[0].speaker}: {' '.join(s.text for s in group)}" for group in gold.turns()
        )
        turns = audio_dir / f"{gold.interview_id}.turns.txt"
        wav = audio_dir / f"{gold.interview_id}.ogg"
        if (
            not wav.exists()
            or not turns.exists()
            or turns.read_text(encoding="utf-8") != turns_text
        ):
            turns.write_text(turns_text, encoding="utf-8")
            t0 = time.perf_counter()
            seconds = synth.make_audio(turns, wav, gap=0.5)
            log(
                f"  spoke {gold.interview_id}: {seconds / 60:.1f} min of audio "
                f"({time.perf_counter() - t0:.0f} s)"
            )
        cached_path = audio_dir / f"{gold.interview_id}.transcript.json"
        key = stage_key("eval-asr", file_hash(wav), section_hash(config, "transcribe", "speakers"))
        cached = read_cached(cached_path, key)
        if cached is None:
            t0 = time.perf_counter()
            transcript = transcribe_audio_file(wav, config)
            write_cached(cached_path, key, {"transcript": transcript.to_dict()})
            log(f"  transcribed {gold.interview_id} in {time.perf_counter() - t0:.0f} s")
        else:
            transcript = Transcript.from_dict(cached["transcript"])
        transcript.interview_id = gold.interview_id
        sentences, docs = split_sentences(transcript, nlp, batch_size=config.nlp.batch_size)
        tagger(sentences, docs)
        al = align_words(gold, sentences)
        gw = sum(len(_words(s.text)) for s in gold.sentences)
        pw = [w for s in sentences for w in _words(s.text)]
        gw_list = [w for s in gold.sentences for w in _words(s.text)]
        sm = difflib.SequenceMatcher(None, gw_list, pw, autojunk=False)
        matched = sum(b.size for b in sm.get_matching_blocks())
        log(
            f"  {gold.interview_id}: {matched / max(1, gw):.0%} of the spoken words recognised "
            f"exactly, {len(transcript.speakers)} voices found"
        )
        out.append(al)
    return out


# ---------------------------------------------------------------- the report


def evaluate(
    config: Config,
    *,
    annotations: Path = DEFAULT_DIR,
    audio: int = 0,
    rules: bool = True,
    out_dir: Path = EVAL_DIR,
    log=print,
) -> dict:
    corpus, errors = load_corpus(annotations)
    for err in errors:
        log(f"skipped {err}")
    train = [i for i in corpus if i.split == "train"]
    dev = [i for i in corpus if i.split == "dev"]
    if not dev:
        raise ValueError(f"no dev interview in {annotations}/dev")
    log(
        f"dev: {len(dev)} interviews ({', '.join(sorted({i.domain for i in dev}))}), "
        f"{sum(len(i.interviewee) for i in dev)} interviewee sentences; "
        f"train: {len(train)} interviews"
    )
    report: dict = {"targets": TARGETS, "systems": {}}
    base = baselines(train, dev)
    report["baselines"] = {
        k: (v if isinstance(v, float) else {kk: v[kk] for kk in ("accuracy", "macro_f1")})
        for k, v in base.items()
    }

    systems = [(config.tagging.method, config)]
    if rules and config.tagging.method != "rules":
        systems.append(
            (
                "rules",
                config.model_copy(
                    update={"tagging": config.tagging.model_copy(update={"method": "rules"})}
                ),
            )
        )
    printed = []
    for name, cfg in systems:
        t0 = time.perf_counter()
        aligned = tag_interviews(dev, cfg, log)
        seconds = time.perf_counter() - t0
        segments = add_segments(aligned, cfg, out_dir / "embeddings")
        report["systems"][name] = _scores(aligned, f"text, {name} tagger", printed)
        if name == config.tagging.method:
            st = _statements(segments, aligned, annotations, cfg, out_dir)
            report["systems"][name]["statements"] = st
            printed.extend(format_statements(st, cfg.segments.statements))
            if cfg.segments.statements != "rules":  # same segments, hand-written scores
                plain = cfg.model_copy(
                    update={"segments": cfg.segments.model_copy(update={"statements": "rules"})}
                )
                segments = add_segments(aligned, plain, out_dir / "embeddings")
                st = _statements(segments, aligned, annotations, plain, out_dir)
                report["systems"][name]["statements_rules"] = st
                printed.extend(format_statements(st, "rules", examples=False))
        report["systems"][name]["seconds"] = round(seconds, 1)
    printed.append("\n== baselines ==")
    for tag in ("phase", "force", "job_type"):
        printed.append(format_report(base[tag]))
    printed.append(
        f"role accuracy (baseline: first speaker is the interviewer): {base['role_accuracy']:.3f}"
    )

    test = [i for i in corpus if i.split == "test"]
    if test:
        log(f"test: {len(test)} interviews ({len({i.domain for i in test})} domains), "
            f"{sum(len(i.interviewee) for i in test)} interviewee sentences")
        aligned = tag_interviews(test, config, log)
        add_segments(aligned, config, out_dir / "embeddings")
        report["test"] = _scores(
            aligned, f"test set (other writers, unseen domains), text, "
            f"{config.tagging.method} tagger ({len(test)} interviews)", printed,
        )
        base_test = baselines(train, test)
        report["test"]["baselines"] = {
            k: (v if isinstance(v, float) else {kk: v[kk] for kk in ("accuracy", "macro_f1")})
            for k, v in base_test.items()
        }
        printed.append("baselines on the test set (macro-F1): " + ", ".join(
            f"{tag} {base_test[tag]['macro_f1']:.3f}" for tag in ("phase", "force", "job_type")
        ) + f"; phase accuracy by position {base_test['phase']['accuracy']:.3f}")

    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if audio and missing:
        log(f"synthesized audio skipped: {', '.join(missing)} not found "
            "(`make system-deps`, or apt-get install espeak-ng sox libsox-fmt-all)")
    elif audio:
        log(f"synthesized audio: {audio} dev interviews (espeak-ng, Whisper, diarization)")
        aligned = audio_interviews(dev, config, audio, log, out_dir)
        add_segments(aligned, config, out_dir / "embeddings")
        report["systems"]["audio"] = _scores(
            aligned,
            f"synthesized audio, {config.tagging.method} tagger ({audio} interviews)",
            printed,
        )

    main = report["systems"][config.tagging.method]
    printed.append("\n== targets (dev, text) ==")
    for key, target in TARGETS.items():
        value = main[key]
        printed.append(
            f"  {key:20} {value:.3f}  target {target:.2f}  "
            f"{'met' if value >= target else 'NOT met'}"
        )
    if "test" in report:
        t = report["test"]
        printed.append(
            "  test set (no targets): " + ", ".join(f"{k} {t[k]:.3f}" for k in TARGETS)
        )
    text = "\n".join(printed)
    log(text)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (out_dir / "report.txt").write_text(text + "\n", encoding="utf-8")
    return report


def _statements(segments, aligned, annotations: Path, config: Config, out_dir: Path) -> dict:
    from pipeline.annotations import load_jobs
    from pipeline.nlp import load_nlp
    from pipeline.segments.embedders import get_embedder

    embedder = get_embedder(config.segments)
    return statement_scores(segments, aligned, load_jobs(annotations), embedder,
                            load_nlp(config.nlp.spacy_model))


def _scores(aligned: list[Aligned], title: str, printed: list[str]) -> dict:
    data = collect(aligned)
    reps = {
        "phase": label_report("phase", PHASES, *data["phase"]),
        "force": label_report("force", FORCES, *data["force"]),
        "job_type": label_report("job type", JOB_TYPES, *data["job_type"]),
    }
    role_acc = float(np.mean([a == b for a, b in zip(*data["role"], strict=True)]))
    seg = segment_scores(aligned)
    printed.append(f"\n== {title} ==")
    for rep in reps.values():
        printed.append(format_report(rep))
    printed.append(f"role accuracy: {role_acc:.3f}")
    ece = {tag: calibration_error(aligned, tag) for tag in ("force", "job_type")}
    printed.append(
        "calibration (expected calibration error of the scores, 0 = perfect): "
        + ", ".join(f"{tag} {e:.3f}" for tag, (e, _) in ece.items())
    )
    printed.append(
        f"segments: ARI {seg['ari']:.3f} over the {seg['coverage']:.0%} of gold job sentences "
        f"put in a segment; ARI {seg['ari_all']:.3f} counting the others as singletons; "
        f"interview-level ARI {seg['interview_ari']:.3f}; {seg['n_segments']} segments for "
        f"{seg['n_jobs']} gold jobs (baseline one segment per interview: "
        f"{seg['baseline_one_segment_per_interview']:.3f})"
    )
    return {
        "phase_accuracy": reps["phase"]["accuracy"],
        "force_macro_f1": reps["force"]["macro_f1"],
        "job_type_macro_f1": reps["job_type"]["macro_f1"],
        "role_accuracy": role_acc,
        "segment_ari": seg["ari"],
        "calibration_error": {tag: e for tag, (e, _) in ece.items()},
        "segments": seg,
        "reports": reps,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the tagger and segments on the dev set")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument(
        "--audio",
        type=int,
        default=2,
        help="how many dev interviews to synthesize and transcribe (0: none)",
    )
    parser.add_argument("--no-rules", action="store_true", help="skip the rule tagger comparison")
    args, overrides = parser.parse_known_args(argv)  # the rest: --section.key value
    config = load_config(args.config, overrides)
    evaluate(config, audio=args.audio, rules=not args.no_rules)
    return 0


if __name__ == "__main__":
    sys.exit(main())
