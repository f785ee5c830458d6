"""Run a batch: every interview of a folder through the per-interview stages, then the corpus.

Per-interview work (:func:`process_interview`) is a pure function of (input file,
config) → files under ``OUTPUT_DIR``: it shares no state, loads its models once per
process (module-level caches), and can therefore fan out to worker processes here, or
to a Dask cluster later (``client.map(process_interview, files, config=..., out_dir=...)``)
without change. The corpus stage (:func:`build_corpus`) then reads what the
interviews produced and clusters job sentences across them.

Every stage is cached by the content hash of its input and the hash of its config
section, so a re-run with nothing new loads no model.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from pipeline.cache import (
    atomic_write_json,
    atomic_write_text,
    code_hash,
    file_hash,
    read_cached,
    stage_key,
    text_hash,
    write_cached,
)
from pipeline.config import Config, section_hash
from pipeline.errors import E_EMPTY, InputError, JtbdError
from pipeline.ingest import InterviewFile, discover, read_transcript, transcript_to_txt
from pipeline.records import Sentence, Transcript
from pipeline.review import ReviewSession

log = logging.getLogger("jtbd")

STAGES = ("transcribe", "tag", "segment")


@dataclass
class Paths:
    """Where a run writes, under one output folder."""

    out: Path

    @property
    def transcripts(self) -> Path:
        return self.out / "transcripts"

    @property
    def interim(self) -> Path:
        return self.out / "interim"

    @property
    def tagged(self) -> Path:
        return self.interim / "tagged"

    @property
    def embeddings(self) -> Path:
        return self.interim / "embeddings"

    @property
    def corpus(self) -> Path:
        return self.interim / "segments.json"


@dataclass
class InterviewOutcome:
    """What one interview produced (or why it failed), sent back to the batch."""

    interview_id: str
    source: str
    ok: bool
    error: str | None = None
    work: list[str] = field(default_factory=list)  # stages that ran (not read from cache)
    tagged_path: str | None = None


@dataclass
class RunSummary:
    """The run's report: what was done, what was cached, what failed and why."""

    interviews: int = 0
    succeeded: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, problem)
    work: Counter = field(default_factory=Counter)
    segments: int = 0
    seconds: float = 0.0
    # what the review step did: corrections imported and applied, orphans (see
    # pipeline.review.session.ReviewSession.report); empty when no review step ran
    review: dict = field(default_factory=dict)
    # what pipeline.report wrote (file names) and what failed ("what: why"), see _write_report
    report: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict:
        return {
            "interviews": self.interviews,
            "succeeded": self.succeeded,
            "failed": [{"file": f, "problem": p} for f, p in self.failed],
            "work": dict(self.work),
            "segments": self.segments,
            "seconds": round(self.seconds, 2),
            "review": self.review,
            "report": self.report,
        }


# ---------------------------------------------------------------- per interview


def _transcript_for(
    item: InterviewFile, config: Config, paths: Paths, work: list[str]
) -> Transcript:
    """The interview as turns: read a transcript, or transcribe audio (cached)."""
    if item.kind == "text":
        return read_transcript(item.path, item.interview_id)
    if item.path.stat().st_size == 0:
        raise InputError(item.path, E_EMPTY)
    key = stage_key(
        "transcribe",
        file_hash(item.path),
        # No code hash here: transcription is the expensive stage, so it is redone only
        # when the audio, its settings or the package version change.
        section_hash(config, "transcribe", "speakers"),
    )
    cache_path = paths.transcripts / f"{item.interview_id}.json"
    cached = read_cached(cache_path, key)
    if cached is not None:
        return Transcript.from_dict(cached["transcript"])
    from pipeline.audio import decode_audio
    from pipeline.transcribe import transcribe_audio_file

    # Decoded before the warm-up starts: PyAV hands the GIL back and forth for every
    # frame, and loading spaCy holds it for seconds at a time. Side by side, decoding a
    # 3-minute MP3 took 6 s instead of 0.15 s, and Whisper waited for it.
    audio = decode_audio(item.path)
    warm = _warm_up(config)
    try:
        transcript = transcribe_audio_file(item.path, config, audio=audio)
    finally:
        warm.join()  # the text stages must not race the warm-up for the same models
    transcript.interview_id = item.interview_id
    work.append("transcribe")
    atomic_write_text(paths.transcripts / f"{item.interview_id}.txt", transcript_to_txt(transcript))
    write_cached(cache_path, key, {"transcript": transcript.to_dict()})
    return transcript


def _warm_up(config: Config) -> threading.Thread:
    """Load the text-stage models in a thread while Whisper transcribes.

    CTranslate2 releases the GIL while it decodes, so loading spaCy (seconds of regex
    compilation), building the tagger's matchers and loading the sentence encoder
    overlap with transcription instead of adding to it. Started only when audio is
    really transcribed, so a run with nothing new still loads no model.
    """

    def work() -> None:
        try:
            from pipeline.nlp import load_nlp
            from pipeline.tagging import get_tagger

            get_tagger(load_nlp(config.nlp.spacy_model), config.tagging)
            if config.run.workers <= 1:  # the corpus stage runs in this same process
                if config.segments.method == "sentences":
                    import hdbscan  # noqa: F401
                    import umap  # noqa: F401

                from pipeline.segments import get_embedder

                get_embedder(config.segments).embed(["échauffement du modèle"])
        except Exception:  # noqa: BLE001 - the stage itself will report the real error
            log.debug("warm-up failed\n%s", traceback.format_exc())

    thread = threading.Thread(target=work, name="jtbd-warm-up", daemon=True)
    thread.start()
    return thread


def process_interview(
    item: InterviewFile, config: Config, out_dir: Path, upto: str = "tag"
) -> InterviewOutcome:
    """Run the per-interview stages on one file; never raises for a bad input.

    ``upto`` is ``"transcribe"`` (audio → transcript only) or ``"tag"`` (the whole
    per-interview chain: transcript, roles, sentences, tags).
    """
    paths = Paths(Path(out_dir))
    outcome = InterviewOutcome(item.interview_id, str(item.path), ok=False)
    try:
        transcript = _transcript_for(item, config, paths, outcome.work)
        if upto == "transcribe":
            outcome.ok = True
            return outcome
        if not transcript.roles:  # audio transcripts come with roles already
            from pipeline.speakers import assign_roles

            transcript.roles = assign_roles(transcript, config.speakers)
        # The key is the transcript's content, not where the file lies: moving the drop
        # folder, or copying it, must not re-tag anything.
        content = {k: v for k, v in transcript.to_dict().items() if k != "source"}
        tr_hash = text_hash(json.dumps(content, sort_keys=True, ensure_ascii=False))
        key = stage_key(
            "tag",
            tr_hash,
            section_hash(config, "nlp", "tagging"),
            code_hash("sentences", "tagging", "speakers"),
            _tagger_fingerprint(config),
        )
        tagged_path = paths.tagged / f"{item.interview_id}.json"
        if read_cached(tagged_path, key) is None:
            sentences = tag_transcript(transcript, config)
            if not sentences:
                raise InputError(item.path, "no sentence could be read from the transcript")
            outcome.work.append("tag")
            meta = {
                k: v for k, v in transcript.to_dict().items() if k not in {"turns", "asr_segments"}
            } | {"n_turns": len(transcript.turns)}
            write_cached(
                tagged_path, key, {"interview": meta, "sentences": [s.to_dict() for s in sentences]}
            )
        outcome.tagged_path = str(tagged_path)
        outcome.ok = True
    except InputError as exc:
        outcome.error = exc.problem
    except JtbdError:
        raise  # configuration or model problems stop the whole run
    except Exception as exc:  # noqa: BLE001 - one broken interview must not stop the batch
        log.debug("unexpected error on %s\n%s", item.path, traceback.format_exc())
        outcome.error = f"unexpected error: {type(exc).__name__}: {exc}"
    return outcome


def _tagger_fingerprint(config: Config) -> str:
    from pipeline.tagger_model import tagger_fingerprint

    return tagger_fingerprint(config.tagging)


def tag_transcript(transcript: Transcript, config: Config) -> list[Sentence]:
    """Sentences and tags of one interview (roles must already be set)."""
    from pipeline.nlp import load_nlp
    from pipeline.sentences import split_sentences
    from pipeline.tagging import get_tagger

    nlp = load_nlp(config.nlp.spacy_model)
    sentences, docs = split_sentences(transcript, nlp, batch_size=config.nlp.batch_size)
    tagger = get_tagger(nlp, config.tagging)
    return tagger(sentences, docs)


# ---------------------------------------------------------------- the corpus


def load_tagged(paths: Paths, interview_ids: list[str]) -> tuple[list[dict], list[Sentence]]:
    """Read the tagged interviews of this run from ``interim/tagged``."""
    interviews, sentences = [], []
    for iid in interview_ids:
        data = json.loads((paths.tagged / f"{iid}.json").read_text(encoding="utf-8"))
        interviews.append(data["interview"])
        sentences.extend(Sentence.from_dict(s) for s in data["sentences"])
    return interviews, sentences


def statement_ranker(config: Config):
    """``(loader, cache key part)`` of the job-statement ranker the config asks for.

    ``segments.statements: ranked`` uses the ranker trained with the tagger in
    ``tagging.model`` when the tagger is the trained one and has a ranker; otherwise
    (``tagging.method: rules`` runs without any trained model, or no ranker trained
    yet) the hand-written scores do, and the key says so. The key reads only
    ``meta.json``, so a run with nothing new loads no model.
    """
    from pipeline.tagger_model import model_fingerprint, model_path

    if config.segments.statements != "ranked" or config.tagging.method != "trained":
        return None, "statements:rules"
    folder = model_path(config.tagging.model)
    if not (folder / "statements.npz").exists():
        return None, "statements:rules"

    def load():
        from pipeline.segments import load_statement_ranker

        return load_statement_ranker(folder)

    return load, f"statements:{model_fingerprint(folder)}"


def build_corpus(
    paths: Paths,
    interview_ids: list[str],
    config: Config,
    work: Counter,
    review: ReviewSession | None = None,
):
    """Cluster job sentences across interviews (cached on the whole corpus's tags).

    With ``review``, the reviewers' corrections are applied to the sentences first, so
    segments are built on the tags a reviewer set, and the hash of the corrections
    applied is part of the cache key.
    """
    from pipeline.records import Quote, Segment

    interviews, sentences = load_tagged(paths, interview_ids)
    if review is not None:
        review.apply(sentences)
    ranker, ranker_key = statement_ranker(config)
    corpus_key = stage_key(
        "segment",
        text_hash(
            *(
                f"{s.sentence_id}|{s.text}|{s.role}|{s.phase}|{s.force}|{s.job_type}"
                for s in sentences
            )
        ),
        section_hash(config, "segments"),
        code_hash("segments"),
        review.applied_hash() if review is not None else "",
        ranker_key,
    )
    cached = read_cached(paths.corpus, corpus_key)
    if cached is not None:
        assignment = cached["assignment"]
        for s in sentences:
            s.segment_id = assignment.get(s.sentence_id)
        segments = [Segment(**d) for d in cached["segments"]]
        quotes = [Quote(**d) for d in cached["quotes"]]
        return interviews, sentences, segments, quotes
    from dataclasses import asdict

    from pipeline.nlp import load_nlp
    from pipeline.segments import build_segments

    segments, quotes = [], []
    if any(s.job_type != "none" and s.role == "interviewee" for s in sentences):
        nlp = load_nlp(config.nlp.spacy_model)
        segments, quotes = build_segments(
            sentences, config.segments, nlp=nlp, cache_dir=paths.embeddings,
            statement_ranker=ranker() if ranker else None,
        )
        work["segment"] += 1
    write_cached(
        paths.corpus,
        corpus_key,
        {
            "assignment": {s.sentence_id: s.segment_id for s in sentences if s.segment_id},
            "segments": [asdict(s) for s in segments],
            "quotes": [asdict(q) for q in quotes],
        },
    )
    return interviews, sentences, segments, quotes


# ---------------------------------------------------------------- the batch


def _map(items: list[InterviewFile], config: Config, out_dir: Path, upto: str):
    """Per-interview stages, in this process or in ``run.workers`` worker processes."""
    if config.run.workers <= 1 or len(items) <= 1:
        for item in items:
            yield process_interview(item, config, out_dir, upto)
        return
    # spawn, not fork: torch and CTranslate2 threads do not survive a fork safely.
    with ProcessPoolExecutor(config.run.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(process_interview, item, config, out_dir, upto) for item in items]
        for future in futures:
            yield future.result()


def segment_outputs(out_dir: Path, config: Config) -> RunSummary:
    """Rebuild segments and tables from the interviews tagged by the last run in ``out_dir``."""
    started = time.perf_counter()
    paths = Paths(Path(out_dir))
    last = paths.out / "run_summary.json"
    if last.exists():
        done = json.loads(last.read_text(encoding="utf-8")).get("succeeded", [])
    else:
        done = sorted(p.stem for p in paths.tagged.glob("*.json"))
    done = [iid for iid in done if (paths.tagged / f"{iid}.json").exists()]
    if not done:
        raise InputError(paths.out, "no tagged interview here; run `jtbd run` or `jtbd tag` first")
    summary = RunSummary(interviews=len(done), succeeded=done)
    review = _open_review(paths, config, summary)
    interviews, sentences, segments, quotes = build_corpus(
        paths, done, config, summary.work, review=review
    )
    _publish(paths, config, summary, review, interviews, sentences, segments, quotes)
    summary.review = review.report(done)
    summary.seconds = time.perf_counter() - started
    return summary


def _publish(paths: Paths, config: Config, summary: RunSummary, review, interviews, sentences,
             segments, quotes, sources: dict | None = None) -> None:
    """Everything a reader gets from the corpus: the tables, the review sheets, the report."""
    from pipeline.outputs import write_outputs

    summary.segments = len(segments)
    tables = write_outputs(
        paths.out,
        interviews,
        sentences,
        segments,
        quotes,
        config.run.formats,
        extra=review.sentence_columns(sentences),
    )
    review.write_sheets(sentences)
    _write_report(paths, config, summary, tables, sources)


def _write_report(
    paths: Paths, config: Config, summary: RunSummary, tables: dict, sources: dict | None = None
) -> None:
    """The HTML report and the exports (:mod:`pipeline.report`), after the tables.

    Never fatal: the tables are on disk already. A failure is logged as an error with
    its reason, recorded in ``summary.report["errors"]`` (and run_summary.json), and
    printed again at the end of the command.
    """
    try:
        from pipeline.report import write_reports

        outcome = write_reports(
            paths.out, config, tables=tables, sources=sources, run_info=summary.to_dict()
        )
    except Exception as exc:  # noqa: BLE001 - e.g. a missing package: say so, keep the run
        log.debug("report failed\n%s", traceback.format_exc())
        log.error("report: not written: %s: %s", type(exc).__name__, exc)
        summary.report = {"written": [], "errors": [f"report: {type(exc).__name__}: {exc}"]}
        return
    summary.report = {
        "written": [p.name for p in outcome.written],
        "errors": outcome.errors,
    }


def _open_review(paths: Paths, config: Config, summary: RunSummary) -> ReviewSession:
    """Import the reviewers' sheets before anything is regenerated (see pipeline.review).

    A sheet that cannot be imported is a failed input of the run, like a bad recording:
    listed with its problem, the rest goes on, and the run exits non-zero.
    """
    review = ReviewSession.open(paths.out, config.review)
    summary.failed.extend(review.failed)
    return review


def run_batch(input_dir: Path, out_dir: Path, config: Config, upto: str = "segment") -> RunSummary:
    """Process a drop folder into ``out_dir``; the library function behind ``jtbd run``.

    Bad inputs are reported in the summary (file + problem) and the other interviews
    go on; ``summary.ok`` is false when any file failed.
    """
    started = time.perf_counter()
    paths = Paths(Path(out_dir))
    paths.out.mkdir(parents=True, exist_ok=True)
    items, errors = discover(Path(input_dir), config.ingest)
    summary = RunSummary(interviews=len(items))
    summary.failed.extend((e.path, e.problem) for e in errors)
    per_interview = "transcribe" if upto == "transcribe" else "tag"
    done: list[str] = []
    for outcome in _map(items, config, paths.out, per_interview):
        summary.work.update(outcome.work)
        if outcome.ok:
            done.append(outcome.interview_id)
            state = "done" if outcome.work else "cached"
            log.info("%-40s %s", outcome.interview_id, state)
        else:
            summary.failed.append((outcome.source, outcome.error or "failed"))
            log.error("%s: %s", outcome.source, outcome.error)
    summary.succeeded = done
    if upto != "transcribe":
        # Reviewers' sheets are imported even when no interview could be processed:
        # their edits are kept in the store whatever happens to the inputs.
        review = _open_review(paths, config, summary)
        if done:
            if upto == "segment":
                interviews, sentences, segments, quotes = build_corpus(
                    paths, done, config, summary.work, review=review
                )
            else:
                interviews, sentences = load_tagged(paths, done)
                review.apply(sentences)
                segments, quotes = [], []
            _publish(paths, config, summary, review, interviews, sentences, segments, quotes,
                     {i.interview_id: i.path for i in items})
        summary.review = review.report(done)
    summary.seconds = time.perf_counter() - started
    atomic_write_json(paths.out / "run_summary.json", summary.to_dict())
    return summary
