"""Review: sheets out to reviewers, their corrections in, kept forever, winning over the model.

- :mod:`~pipeline.review.sheets`: write and read the per-interview CSV review sheets.
- :mod:`~pipeline.review.vocabulary`: French label names and variants → label ids.
- :mod:`~pipeline.review.store`: the append-only corrections store and
  :func:`load_corrections` (reviewer labels for training code).
- :mod:`~pipeline.review.session`: the review step of a run (import, apply, regenerate).
- :mod:`~pipeline.review.stats`: model/reviewer agreement (``jtbd review stats``).
"""

from pipeline.review.session import ReviewSession, interview_of, resolve_store
from pipeline.review.sheets import SHEET_COLUMNS, SheetError, read_sheet, render_sheet
from pipeline.review.store import (
    Correction,
    CorrectionStore,
    load_corrections,
    reviewer_labels,
)
from pipeline.review.vocabulary import SYNONYMS, TAG_FIELDS, accepted_values, canonical_label

__all__ = [
    "SHEET_COLUMNS",
    "SYNONYMS",
    "TAG_FIELDS",
    "Correction",
    "CorrectionStore",
    "ReviewSession",
    "SheetError",
    "accepted_values",
    "canonical_label",
    "interview_of",
    "load_corrections",
    "read_sheet",
    "render_sheet",
    "resolve_store",
    "reviewer_labels",
]
