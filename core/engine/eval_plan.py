"""``eval=<file>``: the plan that scores a batch against a gold column.

``eval=labelled.csv`` runs the task over the file as a batch; the gold column (``gold=``, else
the first of the metric's usual names) is compared with each row's prediction in the results
file. The plan is made and checked (file, column, metric library) before any model loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from ..errors import ConfigError, InputError
from ..scoring import Metric
from .batch import RowSource, read_records

if TYPE_CHECKING:
    from ..tasks import Task


@dataclass
class EvalPlan:
    """What ``eval=`` scores: the file, its metric and gold column, the gold value of each row."""

    location: str  # the file's absolute path, or hf://datasets/org/name
    metric: Metric
    column: str
    gold: list[Any]
    split: Optional[str] = None  # the split of a datasets folder or Hub dataset
    subset: Optional[str] = None  # the subset of a Hub dataset

    @classmethod
    def of_file(
        cls, file: str | RowSource, metric: Metric, column: str, split: Optional[str] = None,
        subset: Optional[str] = None,
    ) -> EvalPlan:  # fmt: skip
        """The plan for a file's gold ``column`` (kept as one value per row)."""
        source = file if isinstance(file, RowSource) else RowSource(file, split, subset)
        gold = [row.get(column) for _, row in source.rows()]
        return cls(source.location, metric, column, gold, source.split, source.subset)

    def score(self, results: Path) -> dict[str, Any]:
        """Metrics of the predictions in a results file (JSONL rows with the file's ``index``)."""
        by_index = {int(r["index"]): r for r in read_records(results)}
        indices = sorted(by_index)
        return self.metric.report([self.gold[i] for i in indices], [by_index[i] for i in indices])

    def describe(self) -> dict[str, str]:
        chosen = {"split": self.split, "subset": self.subset}
        return {"file": self.location, "metric": self.metric.name, "column": self.column,
                **{k: v for k, v in chosen.items() if v}}  # fmt: skip


def plan(
    task_cls: type[Task], path: str, gold: Optional[str], split: Optional[str] = None, subset: Optional[str] = None
) -> EvalPlan:
    """Check ``eval=`` before anything loads: the task's metric, the file, its gold column, the
    metric's library."""
    metric = getattr(task_cls, "eval_metric", None)
    if metric is None:
        raise ConfigError(
            f"task '{task_cls.name}' has no eval metric: its class sets eval_metric "
            "(e.g. taskdeck.evaluation.CLASSIFICATION) to be scored with eval="
        )
    source = RowSource(path, split, subset)
    label = source.label.replace("input", "eval", 1)
    column = gold_column(metric, source.columns, gold, getattr(task_cls, "batch_fields", ()), label)
    metric.check()
    return EvalPlan.of_file(source, metric, column)


def gold_column(metric: Metric, columns: Sequence[str], given: Optional[str], inputs: Sequence[str], label: str) -> str:
    """The gold column's name: ``gold=`` or the first of the metric's usual names the file has."""
    if given:
        if given not in columns:
            raise InputError(f"{label} has no gold column '{given}' (columns: {', '.join(columns)})")
        return given
    for name in metric.gold_columns:
        if name in columns and name not in inputs:
            return name
    raise InputError(
        f"{label} has no gold column (looked for {', '.join(metric.gold_columns)}; "
        f"columns: {', '.join(columns)}): add gold=<column>"
    )
