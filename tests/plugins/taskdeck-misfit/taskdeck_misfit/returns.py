"""Returns its formatters from the hook instead of registering them; written for a plugin API
older than any this taskdeck supports."""

from taskdeck import hookimpl

TASKDECK_PLUGIN_API = "0.9"


@hookimpl
def register_formatters(register):
    return ["a formatter"]
