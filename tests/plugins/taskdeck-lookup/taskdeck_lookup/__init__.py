"""A capability taskdeck does not have, declared by this plugin: ``lookup`` (which of the
given words a model knows), with ``task=known`` using it. A backend in another plugin
(``taskdeck-wordlist``) offers it; no taskdeck file names it."""

from collections.abc import Sequence
from dataclasses import dataclass

from taskdeck import Capability, Report, Section, Task, hookimpl, param, required, route

TASKDECK_PLUGIN_API = "1.1"
LOOKUP = "lookup"


class Lookup:
    """The capability's protocol: the methods a backend offering ``lookup`` implements."""

    def lookup(self, words: Sequence[str], *, fold_case: bool = True) -> list[bool]:
        """Whether the model knows each word, in order."""
        raise NotImplementedError


class Known(Task):
    """A task as routes: the base class prepares, loads and calls the route of ``lookup``."""

    name = "known"
    description = "which words of a text a model knows"

    @dataclass
    class Params:
        text: str = required("the words to look up")
        model: str = param("colours", "a model offering lookup")

    def prepare(self, params):
        return params.text.split()

    @route(LOOKUP)
    def look_up(self, backend, words, params, ctx):
        rows = [{"word": w, "known": k} for w, k in zip(words, backend.lookup(words))]
        return Report(title="known words", sections=[Section("words", rows)])


@hookimpl
def register_capabilities(register):
    register(Capability(LOOKUP, "which of the given words the model knows", ("lookup",), protocol=Lookup, batched=True))


@hookimpl
def register_tasks(register):
    register(Known)
