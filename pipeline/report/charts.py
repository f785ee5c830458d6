"""The report's charts, as plotly.js figure specifications (plain dicts).

Figures are built as the JSON that ``Plotly.newPlot`` takes (``{"data": [...],
"layout": {...}}``) rather than through ``plotly.graph_objects``: a report holds a few
charts per interview, and plain dicts cost nothing to build, while the tests pass every
figure through ``plotly.graph_objects.Figure`` to check that each property exists.
plotly.js itself is embedded once in the page (:mod:`pipeline.report.html`).

User text (sentences, job statements) is HTML-escaped before it goes into hover
labels: plotly renders a small subset of HTML there.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from typing import Any

from pipeline.labels import PHASES
from pipeline.report.vocab import (
    FORCE_COLORS,
    FORCE_FR,
    FORCE_IDS,
    FORCE_SYMBOLS,
    PHASE_COLORS,
    PHASE_FR,
    UNASSIGNED_COLOR,
    clock,
    fr_number,
    fr_percent,
    segment_color,
)

Row = dict[str, Any]
Figure = dict[str, Any]
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12}


def hover_text(text: str, width: int = 70, max_lines: int = 6) -> str:
    """Escaped, wrapped text for a hover label (``<br>`` between lines)."""
    lines = textwrap.wrap(str(text or ""), width) or [""]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1] + " …"]
    return "<br>".join(html.escape(line) for line in lines)


def short(text: str, n: int = 48) -> str:
    text = str(text or "")
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _layout(**extra: Any) -> dict[str, Any]:
    base = {
        "font": FONT,
        "separators": ", ",  # French: decimal comma, space between thousands
        "margin": {"l": 10, "r": 10, "t": 30, "b": 40},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hoverlabel": {"align": "left", "font": {"size": 12}},
        "legend": {"orientation": "h", "y": -0.25, "x": 0},
    }
    base.update(extra)
    return base


# --------------------------------------------------------------------------- per interview


def _positions(rows: Sequence[Row]) -> tuple[list[float], bool]:
    """Where each sentence sits on the x axis: minutes when most sentences have a time
    (missing ones take the previous time), else the sentence number (1, 2, ...)."""
    times = [r.get("start") for r in rows]
    known = sum(t is not None for t in times)
    if rows and known >= 0.5 * len(rows):
        out, last = [], next((t for t in times if t is not None), 0.0)
        for t in times:
            last = t if t is not None else last
            out.append(float(last) / 60.0)
        return out, True
    return [float(i + 1) for i in range(len(rows))], False


def timeline(rows: Sequence[Row]) -> Figure:
    """The five phases of one interview along time, with the forces placed on them.

    One bar per run of consecutive sentences in the same phase, on that phase's row
    (a flash-back shows as a jump back to an earlier row); each sentence with a force
    is a marker on its phase's row, its text in the hover label.
    """
    xs, timed = _positions(rows)
    data: list[dict[str, Any]] = []
    runs: dict[str, dict[str, list]] = {p: {"x": [], "base": [], "text": []} for p in PHASES}
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[j + 1]["phase"] == rows[i]["phase"]:
            j += 1
        if timed:
            x0 = xs[i]
            if j + 1 < len(rows):
                x1 = xs[j + 1]
            else:
                end = rows[j].get("end")
                x1 = float(end) / 60.0 if end is not None else xs[j] + 0.05
            x1 = max(x1, x0 + 0.02)  # a run is always visible
            span = f"{clock(x0 * 60)} → {clock(x1 * 60)}"
        else:
            x0, x1 = xs[i] - 0.5, xs[j] + 0.5
            span = f"phrases {i + 1} à {j + 1}"
        phase = rows[i]["phase"]
        run = runs.setdefault(phase, {"x": [], "base": [], "text": []})
        run["x"].append(x1 - x0)
        run["base"].append(x0)
        run["text"].append(f"<b>{PHASE_FR.get(phase, phase)}</b><br>{span} · {j - i + 1} phrase(s)")
        i = j + 1
    for phase in PHASES:
        run = runs[phase]
        if not run["x"]:
            continue
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": PHASE_FR[phase],
                "y": [PHASE_FR[phase]] * len(run["x"]),
                "x": run["x"],
                "base": run["base"],
                "width": 0.55,
                "marker": {"color": PHASE_COLORS[phase], "opacity": 0.55},
                "hovertext": run["text"],
                "hoverinfo": "text",
            }
        )
    for force in FORCE_IDS:
        idx = [k for k, r in enumerate(rows) if r.get("force") == force]
        if not idx:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": FORCE_FR[force],
                "x": [xs[k] for k in idx],
                "y": [PHASE_FR.get(rows[k]["phase"], rows[k]["phase"]) for k in idx],
                "marker": {
                    "color": FORCE_COLORS[force],
                    "symbol": FORCE_SYMBOLS[force],
                    "size": 11,
                    "line": {"color": "#ffffff", "width": 1},
                },
                "hovertext": [
                    f"<b>{FORCE_FR[force]}</b>"
                    + (f" · {clock(rows[k]['start'])}" if rows[k].get("start") is not None else "")
                    + f"<br>{hover_text(rows[k]['text'])}"
                    for k in idx
                ],
                "hoverinfo": "text",
            }
        )
    return {
        "data": data,
        "layout": _layout(
            height=290,
            barmode="overlay",
            xaxis={
                "title": {"text": "temps (minutes)" if timed else "phrase n° (pas d'horodatage)"},
                "zeroline": False,
                "gridcolor": "#eeeeee",
            },
            yaxis={
                "categoryorder": "array",
                "categoryarray": [PHASE_FR[p] for p in PHASES],
                "autorange": "reversed",
                "automargin": True,
                "type": "category",
            },
            legend={"orientation": "h", "y": -0.35, "x": 0},
            margin={"l": 10, "r": 10, "t": 10, "b": 70},
        ),
    }


def forces_diagram(counts: dict[str, int], mean_scores: dict[str, float] | None = None) -> Figure:
    """The four forces: push and pull towards the change (right) against habit and
    anxiety that hold it back (left); bar length = number of interviewee sentences."""
    mean_scores = mean_scores or {}
    names = [f"{FORCE_FR[f]}" for f in FORCE_IDS]
    values = [counts.get(f, 0) * (1 if f in {"push", "pull"} else -1) for f in FORCE_IDS]
    top = max([abs(v) for v in values] + [1]) * 1.3
    hover = [
        f"<b>{FORCE_FR[f]}</b> : {counts.get(f, 0)} phrase(s)"
        + (f"<br>confiance moyenne {fr_number(mean_scores[f], 2)}" if f in mean_scores else "")
        for f in FORCE_IDS
    ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": names,
                "x": values,
                "marker": {"color": [FORCE_COLORS[f] for f in FORCE_IDS]},
                "text": [str(abs(v)) for v in values],
                "textposition": "outside",
                "hovertext": hover,
                "hoverinfo": "text",
                "showlegend": False,
            }
        ],
        "layout": _layout(
            height=230,
            xaxis={
                "range": [-top, top],
                "showticklabels": False,
                "zeroline": True,
                "zerolinewidth": 2,
                "zerolinecolor": "#444444",
                "showgrid": False,
                "fixedrange": True,
            },
            yaxis={"autorange": "reversed", "automargin": True, "fixedrange": True},
            margin={"l": 10, "r": 10, "t": 34, "b": 10},
            annotations=[
                {
                    "text": "← freinent le changement",
                    "xref": "paper", "yref": "paper", "x": 0, "y": 1.14,
                    "xanchor": "left", "showarrow": False, "font": {"color": "#8e6c4a"},
                },
                {
                    "text": "poussent au changement →",
                    "xref": "paper", "yref": "paper", "x": 1, "y": 1.14,
                    "xanchor": "right", "showarrow": False, "font": {"color": "#2e86de"},
                },
            ],
        ),    "config": {"displayModeBar": False},
    }


# --------------------------------------------------------------------------- overview


def forces_by_interview(interviews: Sequence[Row]) -> Figure:
    """Forces per interview (stacked bars), to compare interviews at a glance."""
    ids = [str(r["interview_id"]) for r in interviews]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": FORCE_FR[f],
            "y": ids,
            "x": [int(r.get(f"force_{f}") or 0) for r in interviews],
            "marker": {"color": FORCE_COLORS[f]},
            "hovertemplate": f"%{{y}}<br>{FORCE_FR[f]} : %{{x}} phrase(s)<extra></extra>",
        }
        for f in FORCE_IDS
    ]
    return {
        "data": data,
        "layout": _layout(
            height=max(220, 60 + 22 * len(ids)),
            barmode="stack",
            xaxis={"title": {"text": "phrases de l'interviewé(e)"}, "gridcolor": "#eeeeee"},
            yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                    "traceorder": "normal"},
            margin={"l": 10, "r": 10, "t": 40, "b": 40},
        ),
        "config": {"displayModeBar": False},
    }


# --------------------------------------------------------------------------- across interviews


def segment_label(seg: Row, n: int = 48) -> str:
    return f"{seg['segment_id']} · {short(seg.get('job_statement') or seg.get('label') or '', n)}"


def segment_forces(segments: Sequence[Row], forces: dict[str, dict[str, int]]) -> Figure:
    """Forces in the interviews of each segment (stacked bars, one row per segment)."""
    labels = [html.escape(segment_label(s)) for s in segments]
    data = [
        {
            "type": "bar",
            "orientation": "h",
            "name": FORCE_FR[f],
            "y": labels,
            "x": [forces.get(s["segment_id"], {}).get(f, 0) for s in segments],
            "marker": {"color": FORCE_COLORS[f]},
            "hovertemplate": f"%{{y}}<br>{FORCE_FR[f]} : %{{x}}<extra></extra>",
        }
        for f in FORCE_IDS
    ]
    return {
        "data": data,
        "layout": _layout(
            height=max(200, 70 + 30 * len(segments)),
            barmode="stack",
            xaxis={"title": {"text": "phrases des entretiens du segment"}, "gridcolor": "#eeeeee"},
            yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                    "traceorder": "normal"},
            margin={"l": 10, "r": 10, "t": 40, "b": 40},
        ),
        "config": {"displayModeBar": False},
    }


def opportunity_heatmap(segments: Sequence[Row], n_interviews: int) -> Figure:
    """Segments (rows, best priority on top) against frequency, pain intensity, current
    dissatisfaction and priority. Colour: each column scaled to its own maximum, so the
    strongest segment of each criterion is the darkest; the cells show the real values."""
    cols = ["frequency", "pain", "dissatisfaction", "priority"]
    titles = [
        "Fréquence<br>(entretiens)",
        "Intensité<br>de la douleur",
        "Insatisfaction<br>actuelle",
        "Priorité",
    ]
    maxima = {c: max([float(s.get(c) or 0) for s in segments] + [0.0]) for c in cols}
    z, text = [], []
    for s in segments:
        row_z, row_t = [], []
        for c in cols:
            v = float(s.get(c) or 0)
            row_z.append(v / maxima[c] if maxima[c] > 0 else 0.0)
            if c == "frequency":
                row_t.append(f"{int(s.get('n_interviews') or 0)}/{n_interviews} ({fr_percent(v)})")
            elif c == "priority":
                row_t.append(fr_number(v, 2))
            else:
                row_t.append(fr_percent(v))
        z.append(row_z)
        text.append(row_t)
    labels = [html.escape(segment_label(s, 40)) for s in segments]
    return {
        "data": [
            {
                "type": "heatmap",
                "z": z,
                "x": titles,
                "y": labels,
                "text": text,
                "texttemplate": "%{text}",
                "hovertemplate": "%{y}<br>%{x} : %{text}<extra></extra>",
                "colorscale": [[0, "#fff7ec"], [0.5, "#fdae6b"], [1, "#d94801"]],
                "zmin": 0,
                "zmax": 1,
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
            }
        ],
        "layout": _layout(
            height=max(200, 90 + 36 * len(segments)),
            xaxis={"side": "top", "fixedrange": True},
            yaxis={"autorange": "reversed", "automargin": True, "fixedrange": True},
            margin={"l": 10, "r": 10, "t": 60, "b": 10},
        ),
        "config": {"displayModeBar": False},
    }


def sentence_map(
    points: Sequence[Row], segments: Sequence[Row], positions: dict[str, int]
) -> Figure:
    """Job sentences in 2-D (t-SNE of their embeddings), one colour per segment."""
    groups: dict[str | None, list[Row]] = {}
    for p in points:
        groups.setdefault(p.get("segment_id"), []).append(p)
    data = []
    order = [s["segment_id"] for s in segments if s["segment_id"] in groups]
    by_id = {s["segment_id"]: s for s in segments}
    for sid in [*order, None]:
        pts = groups.get(sid)
        if not pts:
            continue
        name = html.escape(segment_label(by_id[sid], 36)) if sid in by_id else "hors segment"
        color = segment_color(positions[sid]) if sid in positions else UNASSIGNED_COLOR
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": [p["x"] for p in pts],
                "y": [p["y"] for p in pts],
                "marker": {"color": color, "size": 8, "opacity": 0.8,
                           "line": {"color": "#ffffff", "width": 0.5}},
                "hovertext": [
                    f"<b>{html.escape(str(p['interview_id']))}</b>"
                    f" · {html.escape(str(sid or 'hors segment'))}<br>{hover_text(p['text'])}"
                    for p in pts
                ],
                "hoverinfo": "text",
            }
        )
    return {
        "data": data,
        "layout": _layout(
            height=520,
            xaxis={"showticklabels": False, "zeroline": False, "showgrid": False},
            yaxis={"showticklabels": False, "zeroline": False, "showgrid": False},
            legend={"orientation": "v", "x": 1.02, "y": 1, "yanchor": "top"},
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
        ),
    }
