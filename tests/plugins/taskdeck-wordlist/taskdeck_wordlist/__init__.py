"""A backend for word-list models (``format="wordlist"``): its chat answers with the words of
the list that the user's last message holds, capitalised, in the order written; it also
offers ``lookup``, a capability another plugin (``taskdeck-lookup``) declares."""

import re
from dataclasses import dataclass

from taskdeck import CHAT, Backend, BackendParams, Completion, hookimpl, param

TASKDECK_PLUGIN_API = "1.1"


@dataclass
class WordlistParams(BackendParams):
    name: str = "wordlist"
    empty: str = param("Nothing to report", "the answer when no listed word is written")


class WordlistBackend(Backend):
    name = "wordlist"
    description = "answers with the listed words a message holds"
    Params = WordlistParams
    formats = ("wordlist",)
    all_capabilities = (CHAT, "lookup")

    def load(self):
        self.words = set(self.model.path().read_text().split())
        self.loaded = True

    def chat(self, messages, *, max_new_tokens=256, temperature=0.0, stream=None, json_schema=None, **options):
        said = re.findall(r"[a-z]+", messages[-1]["content"].lower())
        text = " ".join(w.capitalize() for w in said if w in self.words) or self.params.empty
        if stream is not None:
            stream(text)
        return Completion(text, prompt_tokens=len(said), completion_tokens=len(text.split()))

    def lookup(self, words, *, fold_case=True):
        return [(w.lower() if fold_case else w) in self.words for w in words]


@hookimpl
def register_backends(register):
    register(WordlistBackend)
