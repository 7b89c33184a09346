"""The ``Answer`` result of ``task=ask question=...``: the answer and the quotes behind it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from taskdeck import Result


@dataclass
class Quote:
    """Words said in a past meeting (or an item of its minutes), and where to find them."""

    meeting: str
    date: str
    speaker: str
    time: str  # "12:03" into the recording; "" for a transcript without times
    text: str
    item: str = ""  # the minutes item the quote is the evidence of ("Decided: ...")
    run: str = ""  # the minutes run directory


@dataclass
class Answer(Result):
    kind: ClassVar[str] = "answer"
    question: str
    answer: str
    found: bool
    quotes: list[Quote] = field(default_factory=list)
    meetings: int = 0  # meetings searched
    model: str = ""

    def rows(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in asdict(q).items() if k != "run"} for q in self.quotes]

    def summary(self) -> str:
        if not self.found:
            return f"Not found: nothing in the {_meetings(self.meetings)} of the archive answers this."
        out = [self.answer, ""]
        for q in self.quotes:
            where = ", ".join(x for x in (q.meeting, q.date, q.speaker, q.time) if x)
            out.append(f'  "{q.text}" ({where})')
            if q.item:
                out.append(f"    minutes: {q.item}")
        return "\n".join(out)

    def to_markdown(self) -> str:
        out = [f"# {self.question}", ""]
        if not self.found:
            out.append(f"**Not found:** nothing in the {_meetings(self.meetings)} of the archive answers this.")
            return "\n".join(out) + "\n"
        out += [self.answer, ""]
        for q in self.quotes:
            where = ", ".join(x for x in (f"*{q.meeting}*", q.date, f"**{q.speaker}**", q.time) if x)
            out += [f"> {q.text}", ">", f"> — {where}", ""]
            if q.item:
                out += [f"(minutes: {q.item})", ""]
        if self.model:
            out.append(f"_Answered by {self.model} from the quoted words only._")
        return "\n".join(out) + "\n"


def _meetings(count: int) -> str:
    return f"{count} meeting" + ("" if count == 1 else "s")
