"""A yes/no question per candidate, scored by the chat model in one forward pass.

The passes and the code that finds "I'll ..." propose; on real talk many proposals are things
done in the room ("I'll introduce myself", "pass the pen"), ideas nobody took up, or facts
from a briefing. Each candidate action item is shown to the model with the lines around its
evidence and one question; the probability of "yes" against "no" (``score_labels``, no text
generated) keeps it or drops it at a threshold calibrated on real meetings
(``benchmarks/minutes_real.py``). The question comes last and the instructions first, so on
llama.cpp the instructions are evaluated once for all candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .evidence import Line

ACTION_SYSTEM = (
    "You check action items taken from meeting transcripts. An action item is work that a person takes on "
    "to do after the meeting: they say they will do it, or they agree when asked. It is not an action item "
    "when it is done right there during the meeting (introducing oneself, presenting, showing something, "
    "sharing a screen, passing something around, starting or ending the meeting, taking a seat), when it is "
    "only a question, a wish or an idea that nobody takes on, or when the excerpt does not say it. "
    "Answer yes or no."
)
ACTION_QUESTION = """Transcript excerpt:
{excerpt}

Proposed action item: {owner} will {task}.
Is this work that {owner} takes on to do after the meeting?"""


def excerpt(lines: Sequence[Line], number: int, names: dict[str, str], before: int = 2, after: int = 1) -> str:
    """Lines ``number - before`` .. ``number + after`` as ``Name: words``."""
    picked = lines[max(0, number - 1 - before) : number + after]
    return "\n".join(f"{names.get(ln.speaker, ln.speaker)}: {ln.text}" if ln.speaker else ln.text for ln in picked)


def yes_probability(backend: Any, system: str, question: str) -> float:
    """P("yes") against P("no") as the model's answer (log-probabilities from ``score_labels``)."""
    import math

    scores = backend.score_labels([{"role": "system", "content": system}, {"role": "user", "content": question}],
                                  ["yes", "no"])  # fmt: skip
    yes, no = scores["yes"], scores["no"]
    top = max(yes, no)
    return math.exp(yes - top) / (math.exp(yes - top) + math.exp(no - top))


def confirm_action_items(backend: Any, data: dict, lines: Sequence[Line], threshold: float) -> list[str]:
    """Keep the action items the model confirms as work taken on for after the meeting; each
    kept item gets its ``confidence``. Returns a note per item removed."""
    names: dict[str, str] = data["speakers"]
    kept, notes = [], []
    for item in data["action_items"]:
        owner = item["owner"] if item["owner"] and item["owner"] != "not stated" else "someone"
        question = ACTION_QUESTION.format(
            excerpt=excerpt(lines, item["line"], names), owner=owner, task=item["task"][:1].lower() + item["task"][1:]
        )
        p = yes_probability(backend, ACTION_SYSTEM, question)
        item["confidence"] = round(p, 3)
        if p >= threshold:
            kept.append(item)
        else:
            notes.append(f"removed action item '{item['task']}': not work taken on for after the meeting (p={p:.2f})")
    data["action_items"] = kept
    return notes
