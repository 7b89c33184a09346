"""taskdeck-wordfreq: an example third-party taskdeck plugin."""

import re
from collections import Counter
from dataclasses import dataclass

from taskdeck import Report, Section, Task, hookimpl, param, required

TASKDECK_PLUGIN_API = "1.1"  # the plugin API this plugin is written for (docs/plugin-api.md)


class WordFreq(Task):
    name = "wordfreq"
    description = "the most frequent words of a text"

    @dataclass
    class Params:
        text: str = required("the text to count")
        top: int = param(5, "how many words to show")

    def run(self, params, ctx):
        counts = Counter(re.findall(r"[\w']+", params.text.lower()))
        rows = [{"word": w, "count": n} for w, n in counts.most_common(params.top)]
        return Report(title="word frequencies", sections=[Section("top words", rows)])


@hookimpl
def register_tasks(register):
    register(WordFreq)


@hookimpl
def register_configs(register):
    register(search_path="pkg://taskdeck_wordfreq.conf")
