"""Tables and summary statistics of the command line's reports.

One row of a text table is a left-aligned label and right-aligned cells of
fixed widths (``row()``); the figures in them are nearest-rank percentiles
and medians (``percentile()``, ``median()``), the same wherever gcx prints
or exports them (``gcx compare``, the report of ``gcx`` with no command).
"""

from __future__ import annotations

import math
import statistics
from typing import Iterable, Optional, Sequence, TypeVar

T = TypeVar("T", int, float)


def row(label: str, *cells: object, label_width: int = 34, cell_width: int = 14) -> str:
    """One line of a table: the label padded to ``label_width``, each cell
    right-aligned in ``cell_width``, no trailing blanks."""
    text = "".join(f"{cell!s:>{cell_width}}" for cell in cells)
    return f"{label:<{label_width}}{text}".rstrip()


def percentile(sorted_values: Sequence[T], q: float) -> Optional[T]:
    """Nearest-rank percentile ``q`` (0-100] of an ascending sequence
    (None if it is empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def median(values: Iterable[Optional[float]]) -> Optional[float]:
    """The median of the values that are not None (None if there are none)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None
