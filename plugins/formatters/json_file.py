"""``output=json``: the whole result as JSON in the run directory."""

from taskdeck import Formatter, hookimpl
from taskdeck.io import atomic_write_json


class JsonFormatter(Formatter):
    name = "json"
    description = "write <task>.json (the result as a plain dict)"
    extension = "json"

    def write(self, result, run_dir, stem, stream):
        return atomic_write_json(run_dir / f"{stem}.{self.extension}", result.to_dict())


@hookimpl
def register_formatters(register):
    register(JsonFormatter())
