"""``output=text``: the result's summary on the terminal."""

from taskdeck import Formatter, hookimpl


class TerminalFormatter(Formatter):
    name = "text"
    description = "print a short summary to the terminal"

    def write(self, result, run_dir, stem, stream):
        text = result.summary().rstrip()
        if text:  # empty when the task already streamed its output
            stream.write(text + "\n")
            stream.flush()
        return None


@hookimpl
def register_formatters(register):
    register(TerminalFormatter())
