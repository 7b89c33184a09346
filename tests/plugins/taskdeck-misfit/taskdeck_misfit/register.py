"""Registers a function where a Task class belongs."""

from taskdeck import hookimpl

TASKDECK_PLUGIN_API = "1.1"


def shout(text):
    return text.upper()


@hookimpl
def register_tasks(register):
    register(shout)
