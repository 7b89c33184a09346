"""``output=text``: the result's summary on the terminal, in colour where the terminal wants it."""

import os

from taskdeck import Formatter, hookimpl


def wants_colour(stream) -> bool:
    """ANSI colours on a terminal, unless ``NO_COLOR`` is set; ``FORCE_COLOR`` forces them
    (the conventions of no-color.org and force-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


class TerminalFormatter(Formatter):
    name = "text"
    description = "print a short summary to the terminal"

    def write(self, result, run_dir, stem, stream):
        text = result.to_terminal(colour=wants_colour(stream)).rstrip()
        if text:  # empty when the task already streamed its output
            stream.write(text + "\n")
            stream.flush()
        return None


@hookimpl
def register_formatters(register):
    register(TerminalFormatter())
