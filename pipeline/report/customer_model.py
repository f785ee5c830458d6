"""Read the customer's model, the strongest quotes and the jobs matrix off the tags.

Nothing here is a new model: every box of the report is a documented selection of
tagged sentences, so a researcher can tell why a quote is where it is, and a reviewer's
correction of a tag moves the quote on the next run.

**Customer's model** of one interview (interviewee sentences only):

============================  ============================================================
part                          sentences, best first
============================  ============================================================
Contexte                      phase ``before``, force ``none``, job type ``related`` or
                              ``none``: how things were, the constraints (``related``
                              first, then by phase confidence)
Problème                      force ``push`` told before the choice: ``before`` and
                              ``trigger`` first, then ``exploring`` and ``deciding``, by
                              force confidence (push told in ``after`` is a difficulty)
Alternatives envisagées       phase ``exploring``, by phase confidence (a pull or an
                              anxiety about an option comes first)
Critères de choix             phase ``deciding`` with force ``pull`` or job type
                              ``related``/``functional``, by the stronger of the two scores
Difficultés                   force ``anxiety`` (any phase) and ``push`` in ``after``
                              (what still hurts with the new solution), by force confidence
============================  ============================================================

**Strongest quotes per force**: the interviewee sentences of that force, by force
confidence. Everywhere, sentences of at least :data:`MIN_WORDS` words come before
shorter ones ("oui, voilà" says little), and ties keep the interview's order.

**Jobs matrix**, one row per job segment: *job* (its statement); *objectif* (its
functional sentences, by job-type confidence, else its most central quotes);
*frustrations* (push sentences of the segment, then push sentences of its interviews
that belong to no other segment); *émotions* (its emotional sentences, personal or
social, then the same interviews' unclaimed ones); *alternatives* (``exploring``
sentences of its interviews, by phase confidence).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.labels import INTERVIEWEE
from pipeline.report.vocab import FORCE_IDS

Row = dict[str, Any]
MIN_WORDS = 5


def _words(row: Row) -> int:
    return len(str(row.get("text") or "").split())


def _num(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def pick(rows: Iterable[Row], n: int, score: Callable[[Row], float]) -> list[Row]:
    """The ``n`` best rows by ``score``; informative sentences first, stable on ties."""
    ranked = sorted(
        enumerate(rows),
        key=lambda ir: (_words(ir[1]) < MIN_WORDS, -score(ir[1]), ir[0]),
    )
    return [r for _, r in ranked[:n]]


def customers(rows: Iterable[Row]) -> list[Row]:
    return [r for r in rows if r.get("role") == INTERVIEWEE]


@dataclass
class ModelPart:
    """One box of the customer's model: a title, what it holds, its quotes."""

    key: str
    title: str
    hint: str
    quotes: list[Row] = field(default_factory=list)


def customer_model(rows: Sequence[Row], n: int = 3) -> list[ModelPart]:
    """The five parts of the customer's model of one interview (see the module doc)."""
    cust = customers(rows)

    def force_score(r: Row) -> float:
        return _num(r.get("force_score"))

    context = pick(
        (r for r in cust
         if r["phase"] == "before" and r["force"] == "none"
         and r["job_type"] in {"related", "none"}),
        n,
        lambda r: (r["job_type"] == "related") + _num(r.get("phase_score")),
    )
    problem = pick(
        (r for r in cust if r["force"] == "push" and r["phase"] != "after"),
        n,
        lambda r: (r["phase"] in {"before", "trigger"}) + force_score(r),
    )
    alternatives = pick(
        (r for r in cust if r["phase"] == "exploring"),
        n,
        lambda r: 0.5 * (r["force"] in {"pull", "anxiety"}) + _num(r.get("phase_score")),
    )
    criteria = pick(
        (r for r in cust
         if r["phase"] == "deciding"
         and (r["force"] == "pull" or r["job_type"] in {"related", "functional"})),
        n,
        lambda r: max(
            force_score(r) if r["force"] == "pull" else 0.0,
            _num(r.get("job_type_score")) if r["job_type"] in {"related", "functional"} else 0.0,
        ),
    )
    difficulties = pick(
        (r for r in cust
         if r["force"] == "anxiety" or (r["force"] == "push" and r["phase"] == "after")),
        n,
        force_score,
    )
    return [
        ModelPart("context", "Contexte", "comment c'était avant, les contraintes", context),
        ModelPart("problem", "Problème", "ce qui n'allait pas (push)", problem),
        ModelPart(
            "alternatives", "Alternatives envisagées", "les options regardées (exploration)",
            alternatives,
        ),
        ModelPart("criteria", "Critères de choix", "ce qui a fait pencher la balance", criteria),
        ModelPart(
            "difficulties", "Difficultés", "peurs, et ce qui gêne encore après le choix",
            difficulties,
        ),
    ]


def strongest_by_force(rows: Sequence[Row], n: int = 3) -> dict[str, list[Row]]:
    """For each of the four forces, its ``n`` strongest interviewee quotes."""
    cust = customers(rows)
    return {
        f: pick((r for r in cust if r["force"] == f), n, lambda r: _num(r.get("force_score")))
        for f in FORCE_IDS
    }


def emotional_quotes(rows: Sequence[Row], n: int = 2) -> dict[str, list[Row]]:
    """The emotional (personal) and social dimensions of one interview's jobs."""
    cust = customers(rows)
    return {
        jt: pick(
            (r for r in cust if r["job_type"] == jt), n, lambda r: _num(r.get("job_type_score"))
        )
        for jt in ("emotional_personal", "emotional_social")
    }


# --------------------------------------------------------------------------- jobs matrix


@dataclass
class MatrixRow:
    segment_id: str
    job: str
    label: str
    objective: list[Row]
    frustrations: list[Row]
    emotions: list[Row]
    alternatives: list[Row]


def jobs_matrix(
    segments: Sequence[Row], sentences: Sequence[Row], quotes: Sequence[Row], n: int = 2
) -> list[MatrixRow]:
    """One row per segment: job | objective | frustrations | emotions | alternatives."""
    cust = customers(sentences)
    by_segment: dict[str, list[Row]] = {}
    by_interview: dict[str, list[Row]] = {}
    for r in cust:
        by_interview.setdefault(r["interview_id"], []).append(r)
        if r.get("segment_id"):
            by_segment.setdefault(r["segment_id"], []).append(r)
    quotes_by_segment: dict[str, list[Row]] = {}
    for q in quotes:
        quotes_by_segment.setdefault(q["segment_id"], []).append(q)
    out = []
    for seg in segments:
        sid = seg["segment_id"]
        members = by_segment.get(sid, [])
        ivs = {r["interview_id"] for r in members}
        pool = [r for iv in sorted(ivs) for r in by_interview.get(iv, [])]
        unclaimed = [r for r in pool if not r.get("segment_id")]

        def first(primary: list[Row], extra: list[Row], score, k: int = n) -> list[Row]:
            chosen = pick(primary, k, score)
            if len(chosen) < k:
                seen = {r["sentence_id"] for r in chosen}
                chosen += pick((r for r in extra if r["sentence_id"] not in seen),
                               k - len(chosen), score)
            return chosen

        def fscore(r: Row) -> float:
            return _num(r.get("force_score"))

        def jscore(r: Row) -> float:
            return _num(r.get("job_type_score"))

        ranked_quotes = sorted(quotes_by_segment.get(sid, []), key=lambda q: _num(q.get("rank")))
        objective = pick((r for r in members if r["job_type"] == "functional"), n, jscore)
        if not objective:
            objective = ranked_quotes[:n]
        emotional = {"emotional_personal", "emotional_social"}
        out.append(
            MatrixRow(
                segment_id=sid,
                job=str(seg.get("job_statement") or ""),
                label=str(seg.get("label") or ""),
                objective=objective,
                frustrations=first(
                    [r for r in members if r["force"] == "push"],
                    [r for r in unclaimed if r["force"] == "push"],
                    fscore,
                ),
                emotions=first(
                    [r for r in members if r["job_type"] in emotional],
                    [r for r in unclaimed if r["job_type"] in emotional],
                    jscore,
                ),
                alternatives=pick(
                    (r for r in pool if r["phase"] == "exploring"),
                    n,
                    lambda r: _num(r.get("phase_score")),
                ),
            )
        )
    return out
