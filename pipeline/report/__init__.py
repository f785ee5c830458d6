"""The analysis as researchers read it: an HTML report, an Excel workbook, a REFI-QDA project.

Written at the end of every run (after the tables) and by ``jtbd report --out OUT``:

- ``OUT/report.html`` (:mod:`.html`): one self-contained page in French with charts
  (plotly.js inline), per interview and across interviews;
- ``OUT/<name>.xlsx`` (:mod:`.excel`): the four tables, one sheet each;
- ``OUT/<name>.qdpx`` (:mod:`.qdpx`): transcripts, codes and coded sentences for
  ATLAS.ti, NVivo, MAXQDA or QualCoder.

:func:`write_reports` is the library entry point. Each of the three is written on its
own: one that fails is logged with its reason and reported back, and the others are
still written; the tables are already on disk by then, so nothing of the run is lost.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Config

log = logging.getLogger("jtbd")

__all__ = ["ReportOutcome", "export_name", "write_reports"]


@dataclass
class ReportOutcome:
    """What :func:`write_reports` wrote, and what failed (``"what: why"`` per failure)."""

    written: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def export_name(out_dir: Path, config: Config) -> str:
    """``report.name``, else the output folder's name, else ``jtbd``."""
    if config.report.name:
        return config.report.name
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", Path(out_dir).resolve().name).strip("._")
    return name or "jtbd"


def write_reports(
    out_dir: Path,
    config: Config,
    *,
    tables: dict[str, pd.DataFrame] | None = None,
    sources: dict[str, Path] | None = None,
    run_info: dict[str, Any] | None = None,
) -> ReportOutcome:
    """Write the report and the exports that ``config.report`` asks for; never raises.

    ``tables`` are the DataFrames a run has just written (read from ``out_dir`` when
    ``None``); ``sources`` maps interview ids to their input files, so audio players can
    point at the recordings; ``run_info`` is the run summary (failed files).
    """
    from pipeline.report.data import load_tables, records

    out_dir = Path(out_dir)
    outcome = ReportOutcome()
    rcfg = config.report
    try:
        loaded = load_tables(out_dir, tables)
    except Exception as exc:  # noqa: BLE001 - reported, never fatal for the run
        outcome.errors.append(f"tables: {type(exc).__name__}: {exc}")
        log.error("report: cannot read the output tables: %s", exc)
        return outcome
    name = export_name(out_dir, config)
    state_path = out_dir / "interim" / "report_state.json"
    state = _read_state(state_path)
    key = _tables_key(loaded, config, name)

    def attempt(what: str, call, keyed: bool = False) -> None:
        """Write one output; with ``keyed``, skip it when it was made from these tables."""
        if keyed and (out_dir / what).exists() and state.get(what) == key:
            outcome.written.append(out_dir / what)  # up to date
            return
        state.pop(what, None)
        try:
            path = call()
        except Exception as exc:  # noqa: BLE001 - one export failing must not stop the others
            log.debug("report: %s failed\n%s", what, traceback.format_exc())
            log.error("report: %s could not be written: %s: %s", what, type(exc).__name__, exc)
            outcome.errors.append(f"{what}: {type(exc).__name__}: {exc}")
        else:
            outcome.written.append(path)
            if keyed:
                state[what] = key

    if rcfg.html:
        from pipeline.report.html import write_report

        attempt(
            "report.html",
            lambda: write_report(
                out_dir, config, tables=loaded, sources=sources, run_info=run_info
            ),
        )
    if rcfg.excel:
        from pipeline.report.excel import write_workbook

        attempt(
            f"{name}.xlsx", lambda: write_workbook(out_dir / f"{name}.xlsx", loaded), keyed=True
        )
    if rcfg.qdpx:
        from pipeline.report.qdpx import write_qdpx

        def qdpx() -> Path:
            sent = loaded["sentences"]
            return write_qdpx(
                out_dir / f"{name}.qdpx",
                name,
                records(loaded["interviews"]),
                records(sent),
                sorted(records(loaded["segments"]), key=lambda s: str(s["segment_id"])),
            )

        attempt(f"{name}.qdpx", qdpx, keyed=True)
    try:
        from pipeline.cache import atomic_write_json

        atomic_write_json(state_path, state)
    except OSError as exc:  # only a lost speed-up: the exports are written again next time
        log.warning("report: cannot save %s: %s", state_path, exc)
    return outcome


def _read_state(path: Path) -> dict[str, str]:
    """Which tables each export was made from (file name -> key), to skip unchanged ones."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _tables_key(tables: dict[str, pd.DataFrame], config: Config, name: str) -> str:
    """Content key of the exports: the tables, the report settings, the code."""
    from pipeline.cache import code_hash, stage_key, text_hash
    from pipeline.config import section_hash

    parts = [name, section_hash(config, "report"), code_hash("report")]
    for table, df in sorted(tables.items()):
        parts.append(table + "|" + text_hash(df.to_csv(index=False)))
    return stage_key("report", *parts)
