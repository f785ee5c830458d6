"""``OUT/<name>.xlsx``: the four output tables as one Excel workbook, one sheet per table.

Sheets are named like the CSV files (``interviews``, ``sentences``, ``segments``,
``quotes``) with the same columns in the same order, a frozen bold header and filters,
so a researcher can sort and filter at once. Text is written as text, always: a
sentence that starts with ``=`` is not turned into a formula, and characters that the
XLSX format forbids (control characters from a broken transcript) are dropped.
Written with openpyxl in streaming mode, so thousands of interviews stay cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.cache import atomic_write

SHEETS: tuple[str, ...] = ("interviews", "sentences", "segments", "quotes")
WIDE = {"text": 90, "job_statement": 50, "main_job": 50, "label": 34, "interviews": 40,
        "source": 28, "sentence_id": 30, "interview_id": 26, "speakers": 26}


def _cell_value(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, (list, tuple, dict, str)) and pd.isna(value):
        return None  # NaN, pd.NA, NaT
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    return value


def write_workbook(path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """Write the tables (a dict name -> DataFrame) as ``path``, one sheet each."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    wb.properties.creator = "jtbd-pipeline"
    wb.properties.title = "Analyse JTBD"
    bold = Font(bold=True)
    for name in SHEETS:
        df = tables.get(name)
        if df is None:
            continue
        ws = wb.create_sheet(name)
        columns = [str(c) for c in df.columns]
        for k, col in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(k)].width = WIDE.get(col, max(10, len(col) + 2))
        ws.freeze_panes = "A2"
        last = get_column_letter(max(1, len(columns)))
        ws.auto_filter.ref = f"A1:{last}{len(df) + 1}"
        header = []
        for col in columns:
            cell = WriteOnlyCell(ws, value=col)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for values in df.itertuples(index=False, name=None):
            row = []
            for value in values:
                value = _cell_value(value)
                if isinstance(value, str):
                    cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                    row.append(cell)
                else:
                    row.append(value)
            ws.append(row)

    atomic_write(path, lambda tmp: wb.save(tmp))
    return Path(path)
