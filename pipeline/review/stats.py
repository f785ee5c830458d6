"""How far the model agrees with the reviewers: Cohen's kappa and confusion per tag.

Only the sentences a reviewer labelled count: a changed cell (correction) or a row
ticked as checked (confirmation). The model's side is today's model when the output
folder still holds its tags (``OUT/interim/tagged``, never touched by corrections), so
the figure shows whether the model improves; otherwise it is the value the model gave
when the reviewer looked (recorded in the store). Forces and job types are compared on
interviewee sentences only: the model gives interviewer sentences none by design.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.labels import INTERVIEWER
from pipeline.review.store import Correction, load_corrections
from pipeline.review.vocabulary import LABELS, TAG_FIELDS


@dataclass
class TagAgreement:
    """Model against reviewers on one tag."""

    field: str
    n: int
    agreement: float  # share of sentences where both say the same
    kappa: float  # Cohen's kappa; NaN when it is undefined (a single label on both sides)
    confusion: pd.DataFrame  # rows: model, columns: reviewer
    corrected: int  # how many the reviewers changed


@dataclass
class ReviewStats:
    """What ``jtbd review stats`` prints (:meth:`format`)."""

    store: str
    reviewed_sentences: int
    corrected_sentences: int
    interviews: int
    comments: int
    model_source: str
    tags: list[TagAgreement] = field(default_factory=list)

    def format(self) -> str:
        if not self.reviewed_sentences:
            return f"No reviewed sentence yet in {self.store}."
        lines = [
            f"Corrections store: {self.store}",
            f"Reviewed sentences: {self.reviewed_sentences} in {self.interviews} interview(s) "
            f"({self.corrected_sentences} with at least one tag changed, "
            f"{self.comments} with a comment)",
            f"Model values: {self.model_source}",
        ]
        for tag in self.tags:
            lines.append("")
            if not tag.n:
                lines.append(f"{tag.field}: no reviewed sentence")
                continue
            kappa = "n/a (one label only)" if math.isnan(tag.kappa) else f"{tag.kappa:.2f}"
            lines.append(
                f"{tag.field}: {tag.n} sentences, agreement {tag.agreement:.0%}, "
                f"Cohen's kappa {kappa}, {tag.corrected} changed by reviewers"
            )
            lines.append("  confusion (rows: model, columns: reviewers)")
            table = tag.confusion.to_string()
            lines.extend("  " + line for line in table.splitlines())
        return "\n".join(lines)


def _current_model(out_dir: Path | None) -> dict[str, dict]:
    """Today's model tags per sentence id, from ``OUT/interim/tagged`` when there."""
    found: dict[str, dict] = {}
    if out_dir is None:
        return found
    for path in sorted((Path(out_dir) / "interim" / "tagged").glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for s in data.get("sentences", []):
            found[s["sentence_id"]] = s
    return found


def _kappa(model: list[str], reviewer: list[str], labels: list[str]) -> float:
    if len(set(model) | set(reviewer)) < 2:
        return float("nan")
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(model, reviewer, labels=labels))


def review_stats(store: str | Path, out_dir: str | Path | None = None) -> ReviewStats:
    """Agreement between the model and the reviewers, per tag, from the store.

    ``out_dir``: an output folder whose tags (today's model) to compare with; without
    it, or for sentences it does not hold, the model value recorded with each decision.
    """
    latest = load_corrections(store)
    current = _current_model(Path(out_dir) if out_dir else None)
    by_sentence: dict[str, dict[str, Correction]] = {}
    for (sid, fld), c in latest.items():
        by_sentence.setdefault(sid, {})[fld] = c
    reviewed = {sid: d for sid, d in by_sentence.items() if any(f in d for f in TAG_FIELDS)}
    used_current: Counter[bool] = Counter()
    tags = []
    corrected_sentences = set()
    for fld in TAG_FIELDS:
        pairs = []
        for sid, decisions in reviewed.items():
            c = decisions.get(fld)
            if c is None:
                continue
            now = current.get(sid)
            role = (now or {}).get("role") or c.role
            if fld != "phase" and role == INTERVIEWER:
                continue
            model = now.get(fld) if now else c.model
            used_current[now is not None] += 1
            if model is None:
                continue
            pairs.append((model, c.new))
            if model != c.new:
                corrected_sentences.add(sid)
        labels = list(LABELS[fld])
        model_side = [m for m, _ in pairs]
        reviewer_side = [r for _, r in pairs]
        present = [lab for lab in labels if lab in set(model_side) | set(reviewer_side)]
        confusion = pd.crosstab(
            pd.Categorical(model_side, categories=present),
            pd.Categorical(reviewer_side, categories=present),
            rownames=["model"],
            colnames=["reviewer"],
            dropna=False,
        )
        tags.append(
            TagAgreement(
                field=fld,
                n=len(pairs),
                agreement=sum(m == r for m, r in pairs) / len(pairs) if pairs else float("nan"),
                kappa=_kappa(model_side, reviewer_side, labels) if pairs else float("nan"),
                confusion=confusion,
                corrected=sum(m != r for m, r in pairs),
            )
        )
    if used_current[True] and used_current[False]:
        source = "today's model (from the output folder) where available, else as recorded"
    elif used_current[True]:
        source = "today's model (from the output folder)"
    else:
        source = "as recorded when each sentence was reviewed"
    interviews = {c.interview_id for d in reviewed.values() for c in d.values()}
    comments = sum(1 for d in by_sentence.values() if d.get("comment") and d["comment"].new)
    return ReviewStats(
        store=str(store),
        reviewed_sentences=len(reviewed),
        corrected_sentences=len(corrected_sentences),
        interviews=len(interviews),
        comments=comments,
        model_source=source,
        tags=tags,
    )
