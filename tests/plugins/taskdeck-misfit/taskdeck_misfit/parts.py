"""A task that calls the backend wrongly, one that returns no Result, and a formatter that
returns no path."""

from dataclasses import dataclass

from taskdeck import CHAT, Formatter, Task, hookimpl, param

TASKDECK_PLUGIN_API = "1.1"


class WrongCall(Task):
    name = "misfit_call"
    description = "calls chat with a wrong argument (how= picks which)"

    @dataclass
    class Params:
        model: str = param("colours", "a chat model")
        how: str = param("type", "the mistake", choices=("type", "missing", "unknown", "protocol"))

    def run(self, params, ctx):
        backend, _ = ctx.model(params.model, needs=[CHAT])
        if params.how == "type":
            backend.chat([{"role": "user", "content": "red"}], max_new_tokens="many")
        elif params.how == "missing":
            backend.chat(max_new_tokens=4)
        elif params.how == "unknown":
            backend.score_labels([{"role": "user", "content": "red"}], ["a"], normalise=True)
        else:
            backend.lookup("red")  # a capability another plugin declares: its protocol is checked too


class NoResult(Task):
    name = "misfit_result"
    description = "returns a string instead of a Result"

    @dataclass
    class Params:
        pass

    def run(self, params, ctx):
        return "a plain string"


class NoPath(Formatter):
    name = "misfit_output"
    description = "returns a number instead of the path it wrote"
    extension = "txt"

    def write(self, result, run_dir, stem, stream):
        return 3


@hookimpl
def register_tasks(register):
    register(WrongCall)
    register(NoResult)


@hookimpl
def register_formatters(register):
    register(NoPath())
