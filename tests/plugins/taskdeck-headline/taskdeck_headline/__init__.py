"""A headline for a text, asked of a chat model.

Written from docs/plugins.md as it stood at plugin API 1.0, when ``chat`` took
``stream=False``; it is kept that way so the deprecation path stays tested.
"""

from dataclasses import dataclass

from taskdeck import CHAT, Task, Text, hookimpl, param, required

TASKDECK_PLUGIN_API = "1.0"


class Headline(Task):
    name = "headline"
    description = "a short headline for a text, from a chat model"
    outputs = ("text",)

    @dataclass
    class Params:
        text: str = required("the text to give a headline")
        model: str = param("qwen2.5-coder-1.5b", "a chat model")
        words: int = param(8, "at most this many words", ge=1, le=20)

    def run(self, params, ctx):
        backend, _ = ctx.model(params.model, needs=[CHAT])
        messages = [
            {
                "role": "system",
                "content": f"Write a headline of at most {params.words} words for the user's text. "
                "Answer with the headline alone.",
            },
            {"role": "user", "content": params.text},
        ]
        answer = backend.chat(messages, max_new_tokens=24, temperature=0.0, stream=False, json_schema=None)
        return Text(answer.text.strip().strip('"'))


@hookimpl
def register_tasks(register):
    register(Headline)
