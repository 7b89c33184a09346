"""The Metric contract: how ``eval=`` scores a task's predictions against a gold column.

A task names its metric with ``eval_metric`` (e.g. ``taskdeck.evaluation.CLASSIFICATION``);
the engine's eval plan (:mod:`taskdeck.engine.eval_plan`) reads the file and calls ``report``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, Optional

from .errors import MissingDependencyError


class Metric:
    """How predictions are scored against gold values, row by row (failed rows count as wrong)."""

    name: str = ""
    #: Column names taken as the gold column when ``gold=`` is not given, first found wins.
    gold_columns: tuple[str, ...] = ("gold",)
    #: ``(module, pip package, purpose)`` of the library the scorer imports, or None.
    library: Optional[tuple[str, str, str]] = None

    def check(self) -> Any:
        """The metric library, imported; one line naming the extra when it is missing."""
        if self.library is None:
            return None
        module, package, purpose = self.library
        try:
            return importlib.import_module(module)
        except ImportError:
            raise MissingDependencyError(package, purpose, "eval") from None

    def score(self, gold: list[Any], records: list[dict[str, Any]]) -> dict[str, float]:
        """Metrics of the predictions ``records`` (flat result rows) against ``gold``, row by row."""
        raise NotImplementedError

    def report(self, gold: Sequence[Any], records: Sequence[Optional[dict[str, Any]]]) -> dict[str, Any]:
        """``score`` rounded, with the counts ``eval=`` reports (``None``: a row with no result)."""
        if len(gold) != len(records):
            raise ValueError("gold and predictions differ in length")
        scores = self.score(list(gold), [r or {} for r in records])
        failed = sum(1 for r in records if not r or r.get("error"))
        return {**{k: round(float(v), 4) for k, v in scores.items()}, "eval_rows": len(gold), "eval_failed": failed}
