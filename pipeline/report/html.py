"""``OUT/report.html``: the analysis as one self-contained page, in French.

Everything is inline: the styles, the script, plotly.js (once, in the head) and each
chart's data (a ``<script type="application/json">`` block per figure, drawn by
``Plotly.newPlot`` when its section is open). The page makes no request to any server
and opens from ``file://`` offline. The only outside references are the interview
recordings, by a path relative to the report, in ``<audio preload="none">`` players
that load nothing until the reader presses play.

The page is rendered with a Jinja2 template (``templates/report.html.j2``) with
autoescaping on: every sentence, name and file name is HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Config
from pipeline.labels import INTERVIEWEE, PHASES
from pipeline.report import charts
from pipeline.report.customer_model import (
    customer_model,
    emotional_quotes,
    jobs_matrix,
    strongest_by_force,
)
from pipeline.report.data import (
    InterviewInfo,
    interview_infos,
    load_tables,
    records,
    reviewed_sentences,
    split_counts,
    split_list,
)
from pipeline.report.vocab import (
    FORCE_COLORS,
    FORCE_FR,
    FORCE_HINT_FR,
    FORCE_IDS,
    JOB_TYPE_FR,
    KIND_FR,
    PHASE_COLORS,
    PHASE_FR,
    ROLE_FR,
    clock,
    fr_duration,
    fr_number,
    fr_percent,
    segment_color,
)

log = logging.getLogger("jtbd")
TEMPLATES = Path(__file__).parent / "templates"
REPORT_NAME = "report.html"
_STAMP = re.compile(r"Rapport généré le [^·<]*")  # the only part that changes by itself


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package (no CDN, no download)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def plotly_version() -> str:
    from importlib.metadata import version

    return version("plotly")


def _json_for_script(data: Any) -> str:
    """JSON that is safe inside ``<script>``: no ``</script>``, no ``<!--``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Figures:
    """Collects figures; the template places one JSON block per figure."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, fig: dict[str, Any]) -> str:
        fig_id = f"fig-{len(self.items) + 1}"
        self.items.append((fig_id, _json_for_script(fig)))
        return fig_id


@dataclass
class QuoteView:
    """A quote as the page shows it."""

    text: str
    interview_id: str
    speaker: str
    time: str
    start: float | None
    audio_id: str | None
    anchor: str | None
    tags: str = ""


def _quote(row: dict[str, Any], audio_ids: dict[str, str], anchors: dict[str, str]) -> QuoteView:
    iid = str(row["interview_id"])
    start = row.get("start")
    start = float(start) if start is not None else None
    tags = []
    if row.get("phase"):
        tags.append(PHASE_FR.get(row["phase"], row["phase"]))
    if row.get("force") and row["force"] != "none":
        tags.append(FORCE_FR.get(row["force"], row["force"]))
    if row.get("job_type") and row["job_type"] != "none":
        tags.append(JOB_TYPE_FR.get(row["job_type"], row["job_type"]))
    return QuoteView(
        text=str(row.get("text") or ""),
        interview_id=iid,
        speaker=str(row.get("speaker") or ""),
        time=clock(start),
        start=start,
        audio_id=audio_ids.get(iid) if start is not None else None,
        anchor=anchors.get(iid),
        tags=" · ".join(tags),
    )


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def build_context(
    out_dir: Path,
    config: Config,
    tables: dict[str, pd.DataFrame] | None = None,
    sources: dict[str, Path] | None = None,
    run_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the template shows (also handy to test the content without a browser)."""
    out_dir = Path(out_dir)
    rcfg = config.report
    t = load_tables(out_dir, tables)
    sent_df = t["sentences"]
    if len(sent_df):
        sent_df = sent_df.copy()
        sent_df["index"] = sent_df.groupby("interview_id", sort=False).cumcount()
    sentences = records(sent_df)
    segments = sorted(
        records(t["segments"]), key=lambda s: (-(s.get("priority") or 0), str(s["segment_id"]))
    )
    quotes = records(t["quotes"])
    interviews = records(t["interviews"])
    infos = interview_infos(out_dir, t["interviews"], sources)
    if run_info is None:
        path = out_dir / "run_summary.json"
        try:
            run_info = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except ValueError:
            run_info = {}
    figures = _Figures()

    by_iv: dict[str, list[dict[str, Any]]] = {}
    for s in sentences:
        by_iv.setdefault(str(s["interview_id"]), []).append(s)
    ordered_ids = [str(r["interview_id"]) for r in interviews]
    anchors = {iid: f"iv-{k + 1}" for k, iid in enumerate(ordered_ids)}
    audio_ids = {
        iid: f"audio-{k + 1}"
        for k, iid in enumerate(ordered_ids)
        if infos.get(iid) and infos[iid].audio_href
    }
    detailed = ordered_ids[: rcfg.max_interviews]
    # colours follow the segment ids (as in the .qdpx codes), not the priority order
    seg_positions = {sid: k for k, sid in enumerate(sorted(str(s["segment_id"]) for s in segments))}
    seg_by_id = {str(s["segment_id"]): s for s in segments}
    n = rcfg.quotes

    def q(row: dict[str, Any]) -> QuoteView:
        return _quote(row, audio_ids, anchors)

    # ------------------------------------------------------------ overview
    reviewed, reviewed_from = reviewed_sentences(out_dir, sent_df, config)
    n_sent = len(sentences)
    n_cust = sum(1 for s in sentences if s.get("role") == INTERVIEWEE)
    audio_seconds = sum(float(i.duration or 0) for i in infos.values() if i.kind == "audio")
    known_seconds = sum(float(i.duration or 0) for i in infos.values())
    overview = {
        "n_interviews": len(interviews),
        "n_audio": sum(1 for i in infos.values() if i.kind == "audio"),
        "audio_hours": fr_number(audio_seconds / 3600, 2),
        "audio_duration": fr_duration(audio_seconds),
        "known_duration": fr_duration(known_seconds) if known_seconds else None,
        "n_sentences": fr_number(n_sent),
        "n_customer": fr_number(n_cust),
        "reviewed_share": fr_percent(len(reviewed) / n_sent if n_sent else 0.0, 1),
        "n_reviewed": fr_number(len(reviewed)),
        "reviewed_from": reviewed_from,
        "n_segments": len(segments),
        "failed": run_info.get("failed", []) if isinstance(run_info, dict) else [],
        "forces_fig": figures.add(charts.forces_by_interview(interviews[: rcfg.max_interviews]))
        if interviews
        else None,
    }
    interview_rows = []
    for iid in ordered_ids:
        info = infos[iid]
        interview_rows.append(
            {
                "id": iid,
                "anchor": anchors[iid] if iid in detailed else None,
                "kind": KIND_FR.get(info.kind, info.kind),
                "duration": fr_duration(info.duration) if info.duration else "–",
                "n_sentences": info.n_sentences,
                "main_job": info.main_job or "",
                "main_segment": info.main_segment_id or "",
            }
        )

    # ------------------------------------------------------------ per interview
    sections = []
    for iid in detailed:
        info: InterviewInfo = infos[iid]
        rows = by_iv.get(iid, [])
        cust = [r for r in rows if r.get("role") == INTERVIEWEE]
        counts = Counter(r["force"] for r in cust)
        scores = {
            f: _mean([float(r["force_score"]) for r in cust
                      if r["force"] == f and r.get("force_score") is not None])
            for f in FORCE_IDS
        }
        by_force = strongest_by_force(rows, n)
        seg_counts = Counter(r["segment_id"] for r in cust if r.get("segment_id"))
        emotional = emotional_quotes(rows, max(1, min(n, 2)))
        sections.append(
            {
                "id": iid,
                "anchor": anchors[iid],
                "info": info,
                "kind": KIND_FR.get(info.kind, info.kind),
                "duration": fr_duration(info.duration) if info.duration else None,
                "audio_id": audio_ids.get(iid),
                "speakers": [
                    f"{sp} ({ROLE_FR['interviewer' if sp in info.interviewer else 'interviewee']})"
                    for sp in info.speakers
                ],
                "n_sentences": len(rows),
                "n_customer": len(cust),
                "phase_counts": [
                    (PHASE_FR[p], PHASE_COLORS[p], sum(1 for r in rows if r["phase"] == p))
                    for p in PHASES
                ],
                "timeline_fig": figures.add(charts.timeline(rows)) if rows else None,
                "forces_fig": figures.add(
                    charts.forces_diagram(
                        dict(counts), {f: v for f, v in scores.items() if v is not None}
                    )
                )
                if rows
                else None,
                "forces": [
                    {
                        "id": f,
                        "name": FORCE_FR[f],
                        "hint": FORCE_HINT_FR[f],
                        "color": FORCE_COLORS[f],
                        "count": counts.get(f, 0),
                        "quotes": [q(r) for r in by_force[f]],
                    }
                    for f in FORCE_IDS
                ],
                "model": [
                    {"title": part.title, "hint": part.hint, "quotes": [q(r) for r in part.quotes]}
                    for part in customer_model(rows, n)
                ],
                "jobs": [
                    {
                        "id": sid,
                        "statement": seg_by_id.get(sid, {}).get("job_statement") or "",
                        "count": c,
                        "color": segment_color(seg_positions.get(sid, 0)),
                    }
                    for sid, c in seg_counts.most_common(3)
                ],
                "emotional": [q(r) for r in emotional["emotional_personal"]],
                "social": [q(r) for r in emotional["emotional_social"]],
            }
        )
    others = [
        {"id": iid, "audio_id": audio_ids.get(iid), "href": infos[iid].audio_href}
        for iid in ordered_ids[rcfg.max_interviews:]
    ]

    # ------------------------------------------------------------ across interviews
    quotes_by_seg: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(quotes, key=lambda r: (str(r["segment_id"]), float(r.get("rank") or 0))):
        quotes_by_seg.setdefault(str(row["segment_id"]), []).append(row)
    sentence_by_id = {s["sentence_id"]: s for s in sentences}
    seg_views = []
    seg_forces = {}
    for seg in segments:
        sid = str(seg["segment_id"])
        forces = split_counts(seg.get("forces"))
        seg_forces[sid] = forces
        seg_views.append(
            {
                "id": sid,
                "color": segment_color(seg_positions[sid]),
                "statement": seg.get("job_statement") or "",
                "label": seg.get("label") or "",
                "n_interviews": int(seg.get("n_interviews") or 0),
                "n_sentences": int(seg.get("n_sentences") or 0),
                "interviews": [
                    {"id": iv, "anchor": anchors.get(iv) if iv in detailed else None}
                    for iv in split_list(seg.get("interviews"))
                ],
                "priority": fr_number(float(seg.get("priority") or 0), 2),
                "forces": [(FORCE_FR[f], FORCE_COLORS[f], forces.get(f, 0)) for f in FORCE_IDS],
                "job_types": [
                    (JOB_TYPE_FR.get(k, k), v)
                    for k, v in split_counts(seg.get("job_types")).items()
                ],
                "quotes": [
                    q({**sentence_by_id.get(r["sentence_id"], {}), **r})
                    for r in quotes_by_seg.get(sid, [])
                ],
            }
        )
    matrix = [
        {
            "id": m.segment_id,
            "color": segment_color(seg_positions[m.segment_id]),
            "job": m.job,
            "label": m.label,
            "objective": [q(r) for r in m.objective],
            "frustrations": [q(r) for r in m.frustrations],
            "emotions": [q(r) for r in m.emotions],
            "alternatives": [q(r) for r in m.alternatives],
        }
        for m in jobs_matrix(segments, sentences, quotes, n=2)
    ]
    map_fig, map_note = None, None
    if rcfg.map and segments:
        try:
            from pipeline.report.map2d import job_sentence_map

            points, map_note = job_sentence_map(sentences, config, out_dir)
            if points:
                map_fig = figures.add(charts.sentence_map(points, segments, seg_positions))
        except Exception as exc:  # noqa: BLE001 - the map is a bonus; the report goes on
            log.warning("report: the sentence map was left out: %s: %s", type(exc).__name__, exc)
            map_note = f"carte indisponible ({type(exc).__name__} : {exc})"
    elif not rcfg.map:
        map_note = "carte désactivée (report.map: false)"
    across = {
        "segments": seg_views,
        "forces_fig": figures.add(charts.segment_forces(segments, seg_forces))
        if segments
        else None,
        "matrix": matrix,
        "heatmap_fig": figures.add(charts.opportunity_heatmap(segments, len(interviews)))
        if segments
        else None,
        "map_fig": map_fig,
        "map_note": map_note,
    }
    return {
        "title": f"Analyse JTBD — {out_dir.resolve().name}",
        "generated": dt.datetime.now().strftime("%d/%m/%Y à %H:%M"),
        "overview": overview,
        "interviews": interview_rows,
        "sections": sections,
        "others": others,
        "max_interviews": rcfg.max_interviews,
        "across": across,
        "figures": figures.items,
        "phases": [(PHASE_FR[p], PHASE_COLORS[p]) for p in PHASES],
        "forces_legend": [(FORCE_FR[f], FORCE_COLORS[f], FORCE_HINT_FR[f]) for f in FORCE_IDS],
        "plotly_version": plotly_version(),
        "n_quotes": n,
    }


def render(context: dict[str, Any]) -> str:
    """The page's HTML for a context from :func:`build_context`."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("report.html.j2")
    return template.render(
        **context,
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        js=(TEMPLATES / "report.js").read_text(encoding="utf-8"),
        plotly_js=plotly_js(),
    )


def write_report(
    out_dir: Path,
    config: Config,
    *,
    tables: dict[str, pd.DataFrame] | None = None,
    sources: dict[str, Path] | None = None,
    run_info: dict[str, Any] | None = None,
) -> Path:
    """Write ``OUT/report.html`` from the tables (given, or read from ``out_dir``)."""
    from pipeline.cache import atomic_write_text

    context = build_context(out_dir, config, tables, sources, run_info)
    path = Path(out_dir) / REPORT_NAME
    page = render(context)
    # Same content as the page already there (but for the time it was made): leave it
    # alone, so that a run with nothing new changes no file.
    if path.exists():
        try:
            same = _STAMP.sub("", path.read_text(encoding="utf-8")) == _STAMP.sub("", page)
        except (OSError, UnicodeDecodeError):
            same = False
        if same:
            return path
    atomic_write_text(path, page)
    return path
