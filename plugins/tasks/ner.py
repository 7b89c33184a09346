"""``task=ner``: named entities of a text, with character offsets.

Two paths, chosen by what the model is:

- a token classifier (``model=`` names one): the transformers token-classification pipeline
  with ``aggregation_strategy``; scores are the model's probabilities (averaged over the
  entity's tokens, as the strategy says). Method ``token-classifier``.
- a chat model (the default, ``qwen2.5-coder-1.5b``): the model lists the entities as JSON
  (constrained to a schema: ``entity_types`` as an enum, a bounded list). Each listed string
  is then located in the source text: every occurrence, whole words before parts of words,
  case-sensitive before case-insensitive, longer entities first, never overlapping a span
  already placed. Strings that do not occur in the text (the model invented or reworded
  them) are dropped. Method ``chat-json``.

  Score of a chat entity: the chat model's probability of its type among ``entity_types``,
  asked once per distinct entity (label scoring: one short forward pass each, the shared
  prompt prefix cached). It says how sure the model is of the type, not whether the span
  is an entity at all. A backend without label scoring gives ``UNSCORED`` (0.0).

Both paths return :class:`taskdeck.Entities` whose ``word`` is the exact span
``text[start:end]``, in text order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taskdeck import (
    CHAT,
    SCORE_LABELS,
    TAG,
    ConfigError,
    Entities,
    Entity,
    InputError,
    Task,
    hookimpl,
    param,
    required,
    route,
)
from taskdeck.evaluation import ENTITIES
from taskdeck.helpers.label_scoring import normalise

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
AGGREGATION_STRATEGIES = ("none", "simple", "first", "average", "max")
DEFAULT_TYPES = ["PER", "ORG", "LOC", "MISC"]
#: What common type names mean, told to the chat model (other names are shown as given).
TYPE_HINTS = {
    "PER": "people",
    "PERSON": "people",
    "ORG": "organisations, companies, institutions",
    "LOC": "locations: cities, countries, places",
    "GPE": "countries, cities, states",
    "MISC": "other names: nationalities, events, products, works",
    "DATE": "dates",
    "TIME": "times",
    "MONEY": "amounts of money",
    "PRODUCT": "products",
    "EVENT": "named events",
    "NORP": "nationalities, religious or political groups",
}
MAX_ENTITIES = 40  # maxItems of the chat model's list (small models loop without a bound)
MAX_NEW_TOKENS = 768
UNSCORED = 0.0  # score of chat entities when the backend cannot score labels
# The text comes first in both prompts, so type scoring reuses the prompt prefix (KV cache)
# of the listing; the entity comes last in the type question, so each costs a few tokens.
SYSTEM = "You are a named-entity recognizer. You answer in JSON."
PROMPT = (
    "Text: {text}\n\nList the proper names in this text (names of specific people, organisations, "
    "places, products, events), each once, copied exactly as written, with its type. Ordinary words "
    "(objects, times, feelings) are not names. The list may be empty.\nTypes:\n{types}"
)
TYPE_PROMPT = (
    "Text: {text}\n\nWhat type of entity is the name below, as used in this text? Types:\n{types}\n"
    "Answer with the type only.\n\nName: {entity}"
)


class NerTask(Task):
    name = "ner"
    aliases = ("token-classification",)  # transformers' pipeline name
    description = "named entities with character offsets: a token classifier, or a chat model listing them"

    @dataclass
    class Params:
        text: str = required("the text to tag")
        aggregation_strategy: str = param(
            "simple",
            "how a token classifier's tokens are grouped into entities: none, simple, first, average or max",
            choices=AGGREGATION_STRATEGIES,
        )
        entity_types: list = param(
            list(DEFAULT_TYPES), "entity types for the chat model (a token classifier has its own)"
        )
        model: str = param(
            DEFAULT_MODEL, "model pack alias, local path or Hub id (a token classifier for the dedicated path)"
        )

    eval_metric = ENTITIES

    def prepare(self, params) -> str:
        return _inputs(params)[0]

    @route(TAG, batched=True)
    def forward(self, backend, items, params, ctx):
        """The token classifier over many texts at once; an overlong text fails alone (the base
        class retries a failed chunk row by row)."""
        found = backend.tag(items, aggregation_strategy=params.aggregation_strategy)
        return [_result(text, spans, "token-classifier") for text, spans in zip(items, found)]

    @route(CHAT)
    def extract(self, backend, text, params, ctx):
        """A chat model listing the entities as JSON, each located in the text."""
        return _result(text, chat_entities(backend, text, _types(params)), "chat-json")


def _inputs(params) -> tuple[str, str]:
    text = params.text if isinstance(params.text, str) else ""
    if not text.strip():
        raise InputError('text= is empty: give the text to tag, e.g. text="Maria Lopez flew to Paris"')
    return text, params.aggregation_strategy


def _types(params) -> list[str]:
    types = list(dict.fromkeys(str(t).strip() for t in (params.entity_types or []) if str(t).strip()))
    if not types:
        raise ConfigError("entity_types is empty: give the types to find, e.g. entity_types=[PER,ORG,LOC,MISC]")
    return types


def _type_lines(types: list[str]) -> str:
    return "\n".join(f"- {t}: {TYPE_HINTS[t.upper()]}" if t.upper() in TYPE_HINTS else f"- {t}" for t in types)


def entity_schema(types: list[str]) -> dict:
    """The JSON schema the chat model answers in: a bounded list of {text, type}."""
    item = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 100},
            "type": {"type": "string", "enum": list(types)},
        },
        "required": ["text", "type"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"entities": {"type": "array", "items": item, "maxItems": MAX_ENTITIES}},
        "required": ["entities"],
        "additionalProperties": False,
    }


def chat_entities(backend, text: str, types: list[str]) -> list[dict]:
    """Entities of ``text`` from a chat model: listed as JSON, located in the text, scored."""
    from taskdeck.helpers.structured import StructuredOutputError, chat_json

    type_lines = _type_lines(types)
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": PROMPT.format(types=type_lines, text=text)},
    ]
    try:
        data = chat_json(backend, messages, entity_schema(types), max_new_tokens=MAX_NEW_TOKENS)
    except StructuredOutputError as exc:
        raise StructuredOutputError(
            f"model '{backend.model.ref}' could not list the entities as JSON: {exc}; "
            "use a larger chat model (e.g. model=qwen2.5-coder-1.5b) or a token "
            "classifier (model=<hub id or path>)",
            exc.raw,
        ) from None
    listed = [(str(e["text"]).strip(), e["type"]) for e in data.get("entities", [])]
    spans = locate(text, [(name, etype) for name, etype in listed if name])
    scores: dict[tuple[str, str], float] = {}
    can_score = SCORE_LABELS in backend.capabilities()
    for span in spans:
        key = (span["word"], span["entity"])
        if key not in scores:
            scores[key] = (
                _type_probability(backend, text, span["word"], span["entity"], types, type_lines)
                if can_score
                else UNSCORED
            )
        span["score"] = scores[key]
    return spans


def _type_probability(backend, text, entity, etype, types, type_lines) -> float:
    if len(types) == 1:
        return 1.0  # one type to choose from: the model had no choice to make
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": TYPE_PROMPT.format(text=text, entity=entity, types=type_lines)},
    ]
    return normalise(backend.score_labels(messages, types))[etype]


def locate(text: str, listed: list[tuple[str, str]]) -> list[dict]:
    """Character spans of the listed ``(string, type)`` pairs in ``text``, in text order.

    For each string (longest first, duplicates once) every occurrence is taken from the first
    of these tiers that has any: whole-word case-sensitive, whole-word case-insensitive, then
    the same inside words; occurrences overlapping an already placed span are skipped.
    Strings found nowhere are dropped. ``word`` is always ``text[start:end]``."""
    unique = list(dict.fromkeys((name, etype) for name, etype in listed if name))
    unique.sort(key=lambda it: -len(it[0]))  # stable: the model's order among equal lengths
    placed: list[tuple[int, int]] = []
    found: list[dict] = []
    for name, etype in unique:
        pattern = re.escape(name)
        for whole, flags in ((True, 0), (True, re.IGNORECASE), (False, 0), (False, re.IGNORECASE)):
            spans = [
                m.span()
                for m in re.finditer(pattern, text, flags)
                if (not whole or _whole_word(text, *m.span()))
                and not any(m.start() < e and s < m.end() for s, e in placed)
            ]
            if spans:
                break
        for start, end in spans:
            placed.append((start, end))
            found.append({"entity": etype, "score": UNSCORED, "start": start, "end": end, "word": text[start:end]})
    return sorted(found, key=lambda d: (d["start"], d["end"]))


def _whole_word(text: str, start: int, end: int) -> bool:
    """The span does not cut a word: no letter/digit runs across either edge."""
    before = start == 0 or not (text[start - 1].isalnum() and text[start].isalnum())
    after = end == len(text) or not (text[end - 1].isalnum() and text[end].isalnum())
    return before and after


def _result(text: str, found: list[dict], method: str) -> Entities:
    entities = [
        Entity(
            entity=d["entity"],
            score=round(float(d["score"]), 6),
            start=d["start"],
            end=d["end"],
            word=text[d["start"] : d["end"]],
        )
        for d in found
    ]
    return Entities(text=text, entities=entities, method=method)


@hookimpl
def register_tasks(register):
    register(NerTask)
