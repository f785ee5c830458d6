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


def _finish(summary) -> None:
    typer.echo("")
    typer.echo(
        f"{len(summary.succeeded)} of {summary.interviews} interviews processed, "
        f"{summary.segments} job segments, {summary.seconds:.1f} s "
        f"(work done: {dict(summary.work) or 'none, everything was up to date'})."
    )
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


@app.command(name="config", context_settings=_EXTRA)
def show_config(ctx: typer.Context, config_file: ConfigOpt = None) -> None:
    """Print the configuration in force (defaults + your file + overrides), validated."""
    config = _setup(ctx, config_file, False)
    typer.echo(json.dumps(config.model_dump(mode="json"), indent=2, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    app()
