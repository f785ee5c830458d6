"""report.html: written by every run, self-contained, French, escaped, and it renders.

The browser tests drive Debian's ``chromium`` headless through the DevTools protocol
(``tests/cdp_browser.py``): the page must load from ``file://`` with no script error,
no console error, no CSP violation and no request other than the page itself and
inline ``data:`` images, and every chart must be drawn. They skip, saying so, when
Chromium is not installed (``make system-deps`` installs it).

Screenshots are kept for a look in ``tests/artifacts/`` (git-ignored):
``report.png`` (the top of the sample report), ``report_full.png`` (the whole page
with every interview open, cut at 16,000 px) and ``report_handmade.png``.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cdp_browser import Browser, find_chromium
from report_sample import fast_config, handmade, sample_run
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.report import write_reports
from pipeline.report.customer_model import customer_model, jobs_matrix, strongest_by_force
from pipeline.report.html import build_context, plotly_js, write_report
from pipeline.report.vocab import FORCE_FR, PHASE_FR

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def sample(tmp_path_factory, data_dir):
    return sample_run(tmp_path_factory, data_dir)


@pytest.fixture(scope="module")
def handmade_out(tmp_path_factory, data_dir):
    """A report from hand-made tables: one audio interview, one text with tricky text."""
    out = tmp_path_factory.mktemp("handmade") / "sortie"
    out.mkdir()
    tables, sources = handmade(data_dir / "audio" / "two_voices.wav")
    config = fast_config(out.parent)
    write_report(out, config, tables=tables, sources=sources)
    return out, tables, sources, config


@pytest.fixture(scope="module")
def browser():
    exe = find_chromium()
    if exe is None:
        pytest.skip("chromium is not installed: `make system-deps` (Debian package chromium)")
    with Browser(exe, width=1366, height=1000) as b:
        yield b


# --------------------------------------------------------------------------- written by a run


def test_every_run_writes_the_report_and_exports(sample):
    out, summary = sample
    assert summary.ok
    assert summary.report == {
        "written": ["report.html", "projet_test.xlsx", "projet_test.qdpx"],
        "errors": [],
    }
    saved = json.loads((out / "run_summary.json").read_text(encoding="utf-8"))
    assert saved["report"]["written"] == summary.report["written"]
    for name in summary.report["written"]:
        assert (out / name).stat().st_size > 1000


class _Refs(HTMLParser):
    """Every URL-bearing attribute and every tag of a page, outside scripts' text."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        for key in ("src", "href", "srcset", "action", "poster", "data", "formaction"):
            if attrs.get(key):
                self.refs.append((tag, key, attrs[key]))


def test_report_is_one_self_contained_french_file(sample):
    out, _ = sample
    page = (out / "report.html").read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(page)
    # nothing points outside the page: only in-page anchors (the sample has no audio)
    for tag, key, value in parser.refs:
        assert value.startswith("#"), (tag, key, value)
    scripts = [a for t, a in parser.tags if t == "script"]
    assert all("src" not in a for a in scripts)
    assert not [a for t, a in parser.tags if t in {"link", "iframe", "img", "object", "embed"}]
    # plotly.js is embedded exactly once
    assert page.count(plotly_js()[:200]) == 1
    assert page.count("plotly.js v") == 1
    # the CSS fetches nothing
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", page.split("<script")[0])
    # a Content-Security-Policy forbids any connection, as a second lock
    assert "connect-src 'none'" in page and "default-src 'none'" in page
    # French labels
    assert '<html lang="fr">' in page
    for label in [*PHASE_FR.values(), *(v for k, v in FORCE_FR.items() if k != "none")]:
        assert label in page
    for title in ("Vue d'ensemble", "Le modèle du client", "Matrice des jobs", "Opportunités",
                  "Carte des phrases de job", "Segments de job", "Les quatre forces"):
        assert title in page
    for iid in ("crm_cabinet", "velo_cargo", "courses_en_ligne"):
        assert iid in page


def test_every_figure_is_a_valid_plotly_figure(sample, handmade_out):
    import plotly.graph_objects as go

    out, _ = sample
    for ctx in (
        build_context(out, fast_config(out.parent)),
        build_context(handmade_out[0], handmade_out[3], handmade_out[1], handmade_out[2]),
    ):
        assert ctx["figures"]
        for _, text in ctx["figures"]:
            spec = json.loads(text)
            go.Figure(data=spec["data"], layout=spec["layout"])  # raises on a wrong property


def test_overview_counts(sample, handmade_out):
    out, _ = sample
    ctx = build_context(out, fast_config(out.parent))
    ov = ctx["overview"]
    assert ov["n_interviews"] == 3 and ov["n_audio"] == 0
    assert ov["reviewed_share"] == "0,0\u00a0%"  # no review yet (or none in the store)
    assert ov["n_segments"] == len(ctx["across"]["segments"])
    assert len(ctx["sections"]) == 3
    # hand-made: 1 reviewed sentence out of 14, one audio interview of 16.62 s
    out2, tables, sources, config = handmade_out
    ov = build_context(out2, config, tables, sources)["overview"]
    assert ov["n_audio"] == 1 and ov["reviewed_share"] == "7,1\u00a0%"
    assert ov["reviewed_from"] and "reviewed" in ov["reviewed_from"]


def test_user_text_is_escaped(handmade_out):
    out, *_ = handmade_out
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(" in page  # shown as text in the quotes
    assert "suivre chaque prospect &lt;sans&gt; rien oublier" in page
    # inside the figures' JSON, "<" is written \u003c so "</script>" cannot end the block
    blocks = re.findall(r'<script type="application/json" id="fig-\d+">(.*?)</script>', page, re.S)
    assert blocks and all("<" not in b for b in blocks)
    for b in blocks:
        json.loads(b)


def test_audio_quotes_point_at_the_recording_by_relative_path(handmade_out, data_dir):
    out, *_ = handmade_out
    page = (out / "report.html").read_text(encoding="utf-8")
    srcs = re.findall(r'<audio id="(audio-\d+)" controls preload="none" src="([^"]+)"', page)
    assert len(srcs) == 1
    audio_id, src = srcs[0]
    assert not src.startswith(("/", "file:", "http"))
    from urllib.parse import unquote

    assert (out / unquote(src)).resolve() == (data_dir / "audio" / "two_voices.wav").resolve()
    buttons = re.findall(rf'class="play" data-audio="{audio_id}" data-start="([\d.]+)"', page)
    assert buttons and "2.50" in buttons  # the second sentence starts at 2.5 s
    assert not (out / "two_voices.wav").exists()  # referenced, never copied


# --------------------------------------------------------------------------- customer model


def _row(k, phase, force="none", job_type="none", score=0.8, text=None, role="interviewee"):
    return {
        "interview_id": "iv", "sentence_id": f"s{k}", "speaker": "C", "role": role,
        "start": None, "text": text or f"phrase numéro {k} avec assez de mots",
        "phase": phase, "force": force, "job_type": job_type,
        "phase_score": score, "force_score": score, "job_type_score": score,
    }


def test_customer_model_reads_the_documented_tags():
    rows = [
        _row(0, "before", job_type="related"),
        _row(1, "before", force="habit"),
        _row(2, "trigger", force="push", score=0.6),
        _row(3, "exploring", force="pull"),
        _row(4, "deciding", force="pull", score=0.9),
        _row(5, "after", force="push", score=0.95),
        _row(6, "exploring", force="anxiety", score=0.7),
        _row(7, "before", role="interviewer"),
        _row(8, "deciding", job_type="functional", score=0.5),
        _row(9, "after", force="push", score=0.99, text="oui"),  # too short: comes last
    ]
    parts = {p.key: [r["sentence_id"] for r in p.quotes] for p in customer_model(rows, n=3)}
    assert parts["context"] == ["s0"]
    assert parts["problem"] == ["s2"]  # push told before the choice
    assert parts["alternatives"] == ["s3", "s6"]
    assert parts["criteria"] == ["s4", "s8"]
    assert parts["difficulties"] == ["s5", "s6", "s9"]  # after-push, anxiety; short last
    forces = strongest_by_force(rows, n=2)
    assert [r["sentence_id"] for r in forces["push"]] == ["s5", "s2"]
    assert [r["sentence_id"] for r in forces["habit"]] == ["s1"]


def test_jobs_matrix_rows():
    rows = [
        {**_row(0, "before", "push", "functional"), "segment_id": "S01"},
        {**_row(1, "exploring", "none", "related"), "segment_id": "S01"},
        {**_row(2, "after", "none", "emotional_personal"), "segment_id": "S01"},
        {**_row(3, "before", "push", "none"), "segment_id": None},
        {**_row(4, "exploring", "pull", "functional"), "segment_id": "S02"},
    ]
    segments = [{"segment_id": "S01", "job_statement": "suivre", "label": "a, b"}]
    (m,) = jobs_matrix(segments, rows, [], n=2)
    assert [r["sentence_id"] for r in m.objective] == ["s0"]
    assert [r["sentence_id"] for r in m.frustrations] == ["s0", "s3"]  # s4 is another job's
    assert [r["sentence_id"] for r in m.emotions] == ["s2"]
    assert [r["sentence_id"] for r in m.alternatives] == ["s1", "s4"]


# --------------------------------------------------------------------------- failures


def test_a_report_failure_never_loses_the_run(sample, monkeypatch):
    """The tables are still written, the error is logged, recorded and printed."""
    out, _ = sample
    import pipeline.report.html

    def boom(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(pipeline.report.html, "write_report", boom)
    before = (out / "sentences.csv").stat().st_mtime_ns
    overrides = ["--review.store", str(out.parent / "corrections.jsonl")]
    result = CliRunner().invoke(
        app, ["segment", "--out", str(out), "--nlp.spacy_model", "fr_core_news_sm", *overrides]
    )
    assert result.exit_code == 0, result.output
    assert "report.html: RuntimeError: disque plein" in result.output
    assert (out / "sentences.csv").stat().st_mtime_ns >= before
    from pipeline.run import segment_outputs

    summary = segment_outputs(out, fast_config(out.parent))
    assert summary.ok  # the run itself succeeded
    assert summary.report == {
        "written": ["projet_test.xlsx", "projet_test.qdpx"],  # the others are still written
        "errors": ["report.html: RuntimeError: disque plein"],
    }
    assert summary.to_dict()["report"] == summary.report  # what run_summary.json records


def test_report_command(sample, tmp_path):
    out, _ = sample
    result = CliRunner().invoke(app, ["report", "--out", str(out), "--report.name", "crm"])
    assert result.exit_code == 0, result.output
    assert (out / "crm.xlsx").exists() and (out / "crm.qdpx").exists()
    result = CliRunner().invoke(app, ["report", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "no interviews.parquet or interviews.csv" in result.output
    outcome = write_reports(tmp_path, fast_config(tmp_path))
    assert not outcome.ok and not outcome.written


# --------------------------------------------------------------------------- in a browser


def _check_clean(b: Browser, url: str) -> None:
    errors = b.errors()
    assert not errors, errors
    outside = [u for u in b.requests() if not (u.startswith("data:") or u.split("#")[0] == url)]
    assert not outside, f"the page asked for {outside}"


def test_report_renders_in_chromium_without_errors_or_requests(sample, browser):
    out, _ = sample
    url = (out / "report.html").resolve().as_uri()
    browser.events.clear()
    browser.open(url, settle=1.5)
    _check_clean(browser, url)
    assert browser.evaluate("document.body.dataset.reportReady") == "1"
    assert browser.evaluate("typeof window.Plotly") == "object"
    drawn = browser.evaluate("document.querySelectorAll('.chart.js-plotly-plot').length")
    visible = browser.evaluate(
        "[...document.querySelectorAll('.chart[data-fig]')]"
        ".filter(el => !el.closest('details:not([open])')).length"
    )
    assert drawn == visible >= 5  # overview, first interview (2), segments, heatmap, map
    assert browser.evaluate("document.querySelector('#apercu .card .num').textContent") == "3"
    browser.screenshot(ARTIFACTS / "report.png")
    # every interview open: every chart is drawn, still without any error
    browser.events.clear()
    browser.open("about:blank", settle=0.2)
    browser.events.clear()
    browser.open(url + "#tout", settle=2.0)
    _check_clean(browser, url)
    total = browser.evaluate("document.querySelectorAll('.chart[data-fig]').length")
    drawn = browser.evaluate("document.querySelectorAll('.chart.js-plotly-plot').length")
    assert total == drawn and total >= 3 * 2 + 4
    browser.screenshot(ARTIFACTS / "report_full.png", full_page=True)


def test_quotes_play_the_recording_from_their_time(handmade_out, browser):
    out, *_ = handmade_out
    url = (out / "report.html").resolve().as_uri()
    browser.events.clear()
    browser.open("about:blank", settle=0.2)
    browser.events.clear()
    browser.open(url, settle=1.0)
    _check_clean(browser, url)  # preload="none": the audio is not even read yet
    state = browser.evaluate(
        """(async () => {
          const button = document.querySelector('button.play[data-start="4.50"]');
          const audio = document.getElementById(button.dataset.audio);
          button.click();
          for (let i = 0; i < 100 && (audio.readyState < 2 || audio.paused); i++) {
            await new Promise(r => setTimeout(r, 50));
          }
          audio.pause();
          return {t: audio.currentTime, error: audio.error && audio.error.code,
                  duration: audio.duration, failed: button.classList.contains('failed')};
        })()"""
    )
    assert state["error"] is None and not state["failed"], state
    assert abs(state["duration"] - 16.62) < 0.1
    assert 4.4 <= state["t"] <= 7.0, state
    assert not browser.errors()
    played = [u for u in browser.requests() if u.endswith("two_voices.wav")]
    assert played, browser.requests()
    browser.screenshot(ARTIFACTS / "report_handmade.png")
