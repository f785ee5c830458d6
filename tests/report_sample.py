"""What test_report.py and test_exports.py share: one fast run, and hand-made tables.

- :func:`sample_run`: ``run_batch`` once per test session on the three text fixtures of
  ``tests/data/transcripts`` (small spaCy model, rule tagger: no Whisper, seconds), which
  writes the tables, ``report.html``, ``<name>.xlsx`` and ``<name>.qdpx``.
- :func:`handmade`: tables built from records for what a text-only run cannot give
  quickly: an audio interview (pointing at ``tests/data/audio/two_voices.wav``, no
  Whisper needed), sentences with markup, formulas, emoji and combining accents, and
  a reviewed sentence.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.config import Config, load_config
from pipeline.outputs import interviews_frame, quotes_frame, segments_frame, sentences_frame
from pipeline.records import Quote, Segment, Sentence

FAST = [
    "--nlp.spacy_model", "fr_core_news_sm",
    "--tagging.method", "rules",
    "--transcribe.progress", "false",
]
_RUNS: dict[str, object] = {}


def fast_config(tmp: Path, *extra: str) -> Config:
    """The fast settings, with the corrections store kept inside the test's folder."""
    return load_config(overrides=[*FAST, "--review.store", str(tmp / "corrections.jsonl"), *extra])


def sample_run(tmp_path_factory, data_dir: Path):
    """(out_dir, summary) of one run on the text fixtures, made once per session."""
    if "out" not in _RUNS:
        from pipeline.run import run_batch

        base = tmp_path_factory.mktemp("report_run")
        out = base / "projet_test"
        summary = run_batch(data_dir / "transcripts", out, fast_config(base))
        _RUNS.update(out=out, summary=summary, base=base)
    return _RUNS["out"], _RUNS["summary"]


TRICKY = [
    # (speaker, role, phase, force, job_type, text)
    ("Intervieweuse", "interviewer", "before", "none", "none", "Avant, comment faisiez-vous ?"),
    ("Client", "interviewee", "before", "push", "functional",
     "<script>alert('x')</script> on perdait des clients, c'était pas la joie."),
    ("Client", "interviewee", "trigger", "anxiety", "emotional_personal",
     "J'avais peur 😬 que ça plante </script><!-- et tout."),
    ("Client", "interviewee", "exploring", "pull", "related",
     "=SOMME(A1:A3) c'est le prix, « trois euros » & pas plus."),
    ("Intervieweuse", "interviewer", "deciding", "none", "none",
     "Qu'est-ce qui a fait pencher la balance ?"),
    ("Client", "interviewee", "deciding", "pull", "functional",
     "Pouvoir suivre chaque prospect, c\u0327a m'a plu 😀 vraiment."),
    ("Client", "interviewee", "after", "habit", "emotional_social",
     "L'ancien tableur me manque un peu, devant mon directeur."),
]


def handmade(audio: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Path]]:
    """Tables with an audio interview (times on every sentence) and a text one.

    Returns the tables and the ``sources`` mapping (interview id -> recording).
    """
    sentences: list[Sentence] = []
    for iid, timed in (("appel_audio", True), ("piège texte", False)):
        turn = -1
        last = None
        for k, (speaker, role, phase, force, job_type, text) in enumerate(TRICKY):
            if speaker != last:
                turn += 1
                last = speaker
            sentences.append(
                Sentence(
                    interview_id=iid,
                    sentence_id=f"{iid}-{k:02d}",
                    turn=turn,
                    index=k,
                    speaker=speaker,
                    role=role,
                    text=text,
                    start=2.0 * k + 0.5 if timed else None,
                    end=2.0 * k + 2.0 if timed else None,
                    phase=phase,
                    phase_score=0.9,
                    force=force,
                    force_score=0.8 if force != "none" else 1.0,
                    job_type=job_type,
                    job_type_score=0.7 if job_type != "none" else 1.0,
                    segment_id="S01" if role == "interviewee" and job_type != "none" else None,
                )
            )
    members = [s for s in sentences if s.segment_id]
    segment = Segment(
        segment_id="S01",
        label="prospect, prix",
        job_statement="suivre chaque prospect <sans> rien oublier",
        n_sentences=len(members),
        n_interviews=2,
        interviews=["appel_audio", "piège texte"],
        frequency=1.0,
        pain=0.2,
        dissatisfaction=0.0,
        priority=1.0,
        forces={"push": 2, "pull": 4, "habit": 2, "anxiety": 2},
        job_types={"functional": 4, "emotional_personal": 2, "emotional_social": 2, "related": 2},
    )
    quotes = [
        Quote("S01", rank, s.interview_id, s.sentence_id, s.speaker, s.start, s.end, s.text, 0.9)
        for rank, s in enumerate(members[:4], start=1)
    ]
    metas = [
        {
            "interview_id": "appel_audio",
            "source": str(audio),
            "kind": "audio",
            "duration": 16.62,
            "language": "fr",
            "speakers": ["Intervieweuse", "Client"],
            "roles": {"Intervieweuse": "interviewer", "Client": "interviewee"},
            "n_turns": 4,
        },
        {
            "interview_id": "piège texte",
            "source": "piège texte.txt",
            "kind": "text",
            "duration": None,
            "language": "fr",
            "speakers": ["Intervieweuse", "Client"],
            "roles": {"Intervieweuse": "interviewer", "Client": "interviewee"},
            "n_turns": 4,
        },
    ]
    reviewed = {s.sentence_id: "" for s in sentences}
    reviewed["appel_audio-01"] = "force, job_type"
    tables = {
        "sentences": sentences_frame(sentences, {"reviewed": reviewed}),
        "segments": segments_frame([segment]),
        "quotes": quotes_frame(quotes),
        "interviews": interviews_frame(metas, sentences, [segment]),
    }
    return tables, {"appel_audio": audio}
