"""The ``jtbd`` command: a thin typer layer that parses arguments and calls library functions.

Every command takes ``--config FILE`` and dotted overrides after the arguments, e.g.::

    jtbd run data/recordings --out data/processed --transcribe.model large-v3 --run.workers 2
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline.config import Config, load_config
from pipeline.errors import ConfigError, InputError, JtbdError

app = typer.Typer(
    help=(
        "Turn French Jobs-To-Be-Done interviews (audio or transcripts) into tagged sentences "
        "and job segments. Settings come from configs/default.yaml; change any of them with "
        "--config FILE or a dotted option such as --transcribe.model large-v3."
    ),
    no_args_is_help=True,
    add_completion=False,
)

_EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="A YAML file with the settings to change.")
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder for the outputs.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show debugging details.")]
InputArg = Annotated[Path, typer.Argument(help="The drop folder: audio files and/or transcripts.")]
DEFAULT_OUT = Path("data/processed")


def _setup(ctx: typer.Context, config_file: Path | None, verbose: bool) -> Config:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    for noisy in ("faster_whisper", "numba", "httpx", "urllib3", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return load_config(config_file, list(ctx.args))
    except ConfigError as exc:
        typer.secho(f"Configuration error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None


def _echo_review(review: dict) -> None:
    """The review step's lines: corrections imported and applied, and orphans (kept)."""
    if not review:
        return
    if review.get("new_corrections") or review.get("applied"):
        typer.echo(
            f"Review: {review.get('new_corrections', 0)} new correction(s) imported, "
            f"reviewers' values applied to {review.get('reviewed_sentences', 0)} sentence(s) "
            f"(store: {review.get('store')})."
        )
    for note in review.get("notes", []):
        typer.secho(f"Review: {note}", fg="yellow", err=True)
    orphans = review.get("orphans", [])
    if orphans:
        typer.secho(
            f"Review: {len(orphans)} correction(s) concern sentences that are no longer in "
            f"their transcript; they are kept in {review.get('store')} (not applied, listed "
            "in run_summary.json):",
            fg="yellow",
            err=True,
        )
        for o in orphans[:10]:
            text = o["text"] if len(o["text"]) <= 60 else o["text"][:57] + "..."
            typer.secho(
                f"  - {o['interview_id']} {o['sentence_id']} {o['field']}={o['value']!r}: "
                f"{text!r}",
                fg="yellow",
                err=True,
            )
        if len(orphans) > 10:
            typer.secho(f"  ... and {len(orphans) - 10} more", fg="yellow", err=True)


def _echo_report(report: dict) -> None:
    """Where the report and the exports are, and any of them that failed (in red)."""
    if report.get("written"):
        typer.echo(f"Report and exports: {', '.join(report['written'])}.")
    for error in report.get("errors", []):
        typer.secho(
            f"Report: {error} (the tables are written; `jtbd report -v` shows details)",
            fg="red",
            err=True,
        )


def _finish(summary) -> None:
    typer.echo("")
    typer.echo(
        f"{len(summary.succeeded)} of {summary.interviews} interviews processed, "
        f"{summary.segments} job segments, {summary.seconds:.1f} s "
        f"(work done: {dict(summary.work) or 'none, everything was up to date'})."
    )
    _echo_review(getattr(summary, "review", {}))
    _echo_report(getattr(summary, "report", {}))
    if summary.failed:
        typer.secho(f"{len(summary.failed)} file(s) could not be processed:", fg="red", err=True)
        for path, problem in summary.failed:
            typer.secho(f"  - {path}: {problem}", fg="red", err=True)
        raise typer.Exit(1)


def _guarded(call):
    """Run a library call, turning project errors into a message and exit code 2."""
    try:
        return call()
    except InputError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from None
    except JtbdError as exc:
        typer.secho(f"Error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None


def _batch_command(upto: str, doc: str):
    """A command that runs the per-interview stages up to ``upto`` on a drop folder."""

    def command(
        ctx: typer.Context,
        input_dir: InputArg,
        out: OutOpt = DEFAULT_OUT,
        config_file: ConfigOpt = None,
        verbose: VerboseOpt = False,
    ) -> None:
        from pipeline.run import run_batch

        config = _setup(ctx, config_file, verbose)
        _finish(_guarded(lambda: run_batch(input_dir, out, config, upto=upto)))

    command.__doc__ = doc
    return command


app.command(name="run", context_settings=_EXTRA)(
    _batch_command(
        "segment",
        """Run every stage: transcribe, find speakers, split sentences, tag, build job segments.

    Work already done is not redone. Files that cannot be read are listed at the end and the
    command exits with code 1; the other interviews are processed. Any setting of
    configs/default.yaml can be changed after the arguments, e.g. --transcribe.model large-v3.
    """,
    )
)
app.command(name="transcribe", context_settings=_EXTRA)(
    _batch_command(
        "transcribe", "Only transcribe the audio files (with speakers) into OUT/transcripts/."
    )
)
app.command(name="tag", context_settings=_EXTRA)(
    _batch_command(
        "tag", "Transcribe when needed, split into sentences and tag them; no job segments."
    )
)


@app.command(context_settings=_EXTRA)
def segment(
    ctx: typer.Context,
    out: OutOpt = DEFAULT_OUT,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Rebuild the job segments and the tables from the interviews already tagged in OUT.

    Useful after changing a segments.* setting: no input folder is read, no audio is
    transcribed, nothing is re-tagged.
    """
    from pipeline.run import segment_outputs

    config = _setup(ctx, config_file, verbose)
    _finish(_guarded(lambda: segment_outputs(out, config)))


review_app = typer.Typer(
    help=(
        "Reviewers' corrections: review sheets in OUT/review/, the corrections store "
        "(review.store), agreement between the model and the reviewers."
    ),
    no_args_is_help=True,
)
app.add_typer(review_app, name="review")


@review_app.command(name="stats", context_settings=_EXTRA)
def review_stats_command(
    ctx: typer.Context,
    out: OutOpt = DEFAULT_OUT,
    config_file: ConfigOpt = None,
) -> None:
    """How many sentences were reviewed, and per tag the agreement between model and reviewers.

    Cohen's kappa and a confusion table for phase, force and job type, from the corrections
    store. The model's side is today's model as tagged in OUT when available.
    """
    from pipeline.review import resolve_store
    from pipeline.review.stats import review_stats

    config = _setup(ctx, config_file, False)
    out_dir = out if out.exists() else None
    stats = _guarded(lambda: review_stats(resolve_store(config.review.store), out_dir))
    typer.echo(stats.format())


@review_app.command(name="import", context_settings=_EXTRA)
def review_import_command(
    ctx: typer.Context,
    out: OutOpt = DEFAULT_OUT,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Import the edited review sheets of OUT/review/ into the corrections store, now.

    `jtbd run` does this by itself; this command only records the edits (e.g. before
    `make train`) without running the pipeline or regenerating the sheets.
    """
    from pipeline.review import ReviewSession

    config = _setup(ctx, config_file, verbose)
    session = _guarded(lambda: ReviewSession.open(out, config.review))
    added = sum(session.imported.values())
    typer.echo(
        f"{added} new correction(s) from {len(session.imported)} edited sheet(s) in "
        f"{out / 'review'}, stored in {session.store.path}."
    )
    for note in session.notes:
        typer.secho(f"  {note}", fg="yellow", err=True)
    if session.failed:
        typer.secho(f"{len(session.failed)} sheet(s) could not be imported:", fg="red", err=True)
        for path, problem in session.failed:
            typer.secho(f"  - {path}: {problem}", fg="red", err=True)
        raise typer.Exit(1)


@app.command(context_settings=_EXTRA)
def train(
    ctx: typer.Context,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    out: OutOpt = DEFAULT_OUT,
    max_epochs: Annotated[
        int | None,
        typer.Option(help="Epochs of the spaCy classifiers (default: configs/textcat_*.cfg)."),
    ] = None,
) -> None:
    """Train the tagger on data/annotations and the reviewers' corrections into tagging.model.

    Corrected sentences of interviews outside the annotated corpus are learnt with their
    context, read from the tagged interviews of OUT (the folder `jtbd run` wrote).
    """
    config = _setup(ctx, config_file, verbose)
    from pipeline.train import train_from_config

    _guarded(lambda: train_from_config(config, out_dir=out, max_epochs=max_epochs,
                                       log=typer.echo))


@app.command(name="eval", context_settings=_EXTRA)
def evaluate_command(
    ctx: typer.Context,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
    audio: Annotated[
        int, typer.Option(help="Dev interviews to speak with espeak-ng and transcribe (0: none).")
    ] = 2,
    rules: Annotated[bool, typer.Option(help="Also score the rule tagger, for comparison.")] = True,
) -> None:
    """Score phases, forces, job types, roles and segments on the dev interviews."""
    config = _setup(ctx, config_file, verbose)
    from pipeline.evaluate import evaluate

    _guarded(lambda: evaluate(config, audio=audio, rules=rules, log=typer.echo))


@app.command(name="report", context_settings=_EXTRA)
def report_command(
    ctx: typer.Context,
    out: OutOpt = DEFAULT_OUT,
    input_dir: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help="The drop folder, if the recordings were moved since the run "
            "(audio players point at them).",
        ),
    ] = None,
    config_file: ConfigOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Rewrite OUT/report.html, OUT/<name>.xlsx and OUT/<name>.qdpx from the tables in OUT.

    No model is loaded. Settings: report.* (e.g. --report.name projet_crm --report.quotes 5).
    Exits with code 1 when any of the three could not be written.
    """
    from pipeline.report import write_reports

    config = _setup(ctx, config_file, verbose)
    sources = None
    if input_dir is not None:
        if not input_dir.is_dir():
            typer.secho(f"{input_dir}: not a folder", fg="red", err=True)
            raise typer.Exit(2)
        audio = {ext.lower() for ext in config.ingest.audio_extensions}
        sources = {p.stem: p for p in input_dir.iterdir() if p.suffix.lower() in audio}
    outcome = write_reports(out, config, sources=sources)
    for path in outcome.written:
        typer.echo(f"written: {path}")
    for error in outcome.errors:
        typer.secho(f"not written: {error}", fg="red", err=True)
    if not outcome.ok:
        raise typer.Exit(1)


@app.command(name="config", context_settings=_EXTRA)
def show_config(ctx: typer.Context, config_file: ConfigOpt = None) -> None:
    """Print the configuration in force (defaults + your file + overrides), validated."""
    config = _setup(ctx, config_file, False)
    typer.echo(json.dumps(config.model_dump(mode="json"), indent=2, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    app()
