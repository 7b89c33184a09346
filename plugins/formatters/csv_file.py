"""``output=csv``: the result's table (``Result.rows()``) as a CSV file in the run directory."""

import csv
import json

from taskdeck import Formatter, hookimpl
from taskdeck.io import atomic_writer


class CsvFormatter(Formatter):
    name = "csv"
    description = "write <task>.csv (the result's table: one row per token, label, entity, ...)"
    extension = "csv"

    def accepts(self, result):
        return result.kind != "batch"  # a batch already writes its rows as CSV beside its results

    def write(self, result, run_dir, stem, stream):
        rows = result.rows()
        columns = list(dict.fromkeys(k for row in rows for k in row))
        path = run_dir / f"{stem}.{self.extension}"
        with atomic_writer(path) as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(v) for k, v in row.items()})
        return path


def _cell(value):
    """Nested values as JSON, so a cell round-trips."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value


@hookimpl
def register_formatters(register):
    register(CsvFormatter())
