"""Evidence: numbered transcript lines, and the checks that hold the minutes to them.

Every action item and decision names the line it comes from. Code then checks what a small
model gets wrong and a reader would notice:

- the line must support the item (its content words are there, give or take a line);
  an item no line supports is dropped;
- the owner of a task is the speaker who says "I'll ..." on that line, or the person
  addressed by "<name>, can you ...": the model's owner is corrected when it is neither;
- the due date is taken as said from the owner's line or the request, so "by the end of
  this week" stays words and "the twentieth of March" never becomes February;
- a summary sentence must be supported: its numbers and dates must stand on one line with
  its subject, and an open task must not be reported as done.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Optional

from taskdeck import Transcript

from .real_talk import backchannel, clean

LINE_WORDS = 60  # a speaker's consecutive segments are joined into lines of at most this many words

STOP = set(
    """a about after again all also am an and any are as at be been before being both but by can could did do does
    done for from had has have he her here him his how i if in into is it its just let me more most my no not now of
    off on once only or other our out over own same she should so some such than that the their them then there these
    they this those through to too under until up very was we were what when where which while who whom why will with
    would you your yes okay sure thanks thank good great right well going get got make made need needs want one two
    three every each next last first meeting team today everyone please""".split()
)
MONTHS = "january february march april may june july august september october november december".split()
WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
ORDINAL_WORDS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth thirtieth"
).split()
NUMBER_WORDS = (
    {
        w: i + 1
        for i, w in enumerate(
            "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
            "seventeen eighteen nineteen twenty".split()
        )
        if w != "one"  # "one concern", "one more thing"
    }
    | {w: i + 1 for i, w in enumerate(ORDINAL_WORDS[:20])}
    | {"thirty": 30, "thirtieth": 30}
)

MONTH_PATTERN = "(?:" + "|".join(MONTHS) + ")"
WEEKDAY_PATTERN = "(?:" + "|".join(WEEKDAYS) + ")"
ORDINAL_PATTERN = (
    r"(?:\d{1,2}(?:st|nd|rd|th)?|(?:twenty|thirty)[- ](?:"
    + "|".join(ORDINAL_WORDS[:9])
    + ")|"
    + "|".join(ORDINAL_WORDS)
    + ")"
)
_WHEN = (
    rf"(?:{WEEKDAY_PATTERN},?\s+)?(?:the\s+)?{ORDINAL_PATTERN}\s+(?:of\s+)?{MONTH_PATTERN}"
    rf"|{MONTH_PATTERN}\s+(?:the\s+)?{ORDINAL_PATTERN}"
    rf"|(?:next|this|coming)\s+(?:{WEEKDAY_PATTERN}|week|month)"
    r"|(?:the\s+)?next\s+(?:meeting|session|call)"
    r"|(?:the\s+)?end\s+of\s+(?:this|the|next)\s+(?:week|month|quarter|year|day)"
    r"|(?:a|one|two|three|four|five|six|\d+)\s+(?:days?|weeks?|months?)"
    rf"|tomorrow(?:\s+(?:morning|afternoon|evening))?|tonight|today|{WEEKDAY_PATTERN}(?:\s+(?:morning|afternoon|evening))?"
)
DUE = re.compile(rf"\b(?P<prep>by|before|until|till|on|within|in|no later than)\s+(?P<when>{_WHEN})\b", re.I)
KEEP_PREP = {"before", "until", "till", "within", "no later than"}
#: A deadline said without "by": "today", "next Friday", "the end of the month".
SOON = re.compile(
    r"\b(today|tonight|tomorrow(?:\s+(?:morning|afternoon|evening))?"
    rf"|(?:next|this coming)\s+(?:{WEEKDAY_PATTERN}|week|month)"
    rf"|(?:{WEEKDAY_PATTERN},?\s+)?(?:the\s+)?{ORDINAL_PATTERN}\s+of\s+{MONTH_PATTERN}"
    r"|(?:the\s+)?end\s+of\s+(?:this|the|next)\s+(?:week|month|quarter|year))\b",
    re.I,
)

FIRST_PERSON = re.compile(r"\b(i'll|i will|i can|i'm going to|i am going to|i shall|let me|i'd|i would)\b", re.I)
_OPENING = r"(?:^|[.?!]\s+)(?:(?i:and|so|now|okay|ok|then|also|good|great|right)\s*,?\s+)?"
#: "Tom, can you ...": a request to the person named.
#: The person spoken to: a name or a role of up to three words ("User Interface Designer"),
#: maybe followed by a first name ("User Interface Designer, Roo, ...").
_ADDRESSEE = r"([A-Z][a-z]+(?: [A-Z][a-z]+){0,2}),\s+(?:[A-Z][a-z]+,\s+)?"
_ASKING = r"(?:(?:can|could|would|will)\s+you|please|I(?:'d|\s+would)\s+like\s+you\s+to)"
REQUEST = re.compile(_OPENING + _ADDRESSEE + _ASKING + r"\b")
#: A line that asks someone to do something: a short "Yes." after it is an answer, not a backchannel.
ASKED = re.compile(r"\b" + _ASKING + r"\b", re.I)
#: "James, where did we land?": a sentence spoken to the person named.
VOCATIVE = re.compile(_OPENING + r"([A-Z][a-z]+),\s+[a-z]")
DONE = re.compile(
    r"\b(was|were|has been|have been|had been|is now|are now|has|have)\s+(already\s+)?"
    r"(\w+ed|done|sent|made|written|set|bought|given|got|brought)\b"
    r"|\b(prepared|updated|booked|finished|completed|signed off|delivered|trained|connected|sent|wrote|made)\b",
    re.I,
)
#: Words after which a participle describes a thing ("two finished bikes"), not work done.
ATTRIBUTIVE = set("a an the two three four five six our their its his her my your these those some all new".split())
FUTURE = re.compile(r"\b(will|'ll|shall|going to|to be|agreed to|asked to|is to|are to|needs? to|plans? to)\b", re.I)


@dataclass
class Line:
    """One numbered line of the transcript the model reads: a speaker's turn (or a part),
    cleaned of markers and fillers (``text``) and as transcribed (``verbatim``, for quotes)."""

    number: int
    speaker: str
    text: str
    verbatim: str = ""

    def __post_init__(self) -> None:
        self.verbatim = self.verbatim or self.text

    def render(self) -> str:
        return f"{self.number}. {self.speaker}: {self.text}" if self.speaker else f"{self.number}. {self.text}"


def numbered_lines(transcript: Transcript, language: str = "en") -> list[Line]:
    """The transcript as numbered lines: one per segment, a speaker's consecutive segments joined
    up to :data:`LINE_WORDS` words, a longer segment cut between sentences. Real talk is read
    clean (:mod:`.real_talk`): markers and fillers go, and a turn that only acknowledges
    ("Mm-hmm.", "Yeah.") is left out unless it answers a request; no words are dropped otherwise."""
    from taskdeck.helpers.text_chunks import chunk_sentences, split_sentences

    def words(text: str) -> int:
        return len(text.split())

    pieces: list[tuple[str, str]] = []
    for seg in transcript.segments:
        text = " ".join(seg.text.split())
        if not text:
            continue
        if words(text) > LINE_WORDS:
            pieces += [(seg.speaker, c) for c in chunk_sentences(split_sentences(text, language), words, LINE_WORDS)]
        else:
            pieces.append((seg.speaker, text))
    if not pieces and transcript.text.strip():
        pieces = [("", ln.strip()) for ln in transcript.text.splitlines() if ln.strip()]
    lines: list[Line] = []
    for speaker, said in pieces:
        text = clean(said)
        last = lines[-1] if lines else None
        if backchannel(said) and not (last and last.speaker != speaker and ASKED.search(last.text)):
            continue
        if last and speaker and last.speaker == speaker and words(last.text) + words(text) <= LINE_WORDS:
            last.text += " " + text
            last.verbatim += " " + said
        else:
            lines.append(Line(len(lines) + 1, speaker, text, said))
    return lines


# ---- words ----
def stem(word: str) -> str:
    """A crude English stem: enough to match "shipped" with "ship" and "booking" with "book"."""
    w = word.lower().strip("'")
    for suffix in ("ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
                w = w[:-1]
            break
    return w[:-1] if len(w) > 4 and w.endswith("e") else w


def content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z][a-z'-]+", str(text).lower())
    return {stem(w) for w in words if len(w) > 3 and w not in STOP and w not in MONTHS and w not in WEEKDAYS}


TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
UNITS = {w: i for i, w in enumerate("one two three four five six seven eight nine".split(), 1)}
UNITS |= {w: i for i, w in enumerate(ORDINAL_WORDS[:9], 1)}
_COMPOUND = re.compile(rf"\b({'|'.join(TENS)})[- ]({'|'.join(UNITS)})\b")
_HALF = re.compile(r"\b(\d+|[a-z]+) and a half\b")


def _digits(lower: str) -> str:
    """Spoken numbers as digits where they combine: "twenty five" → 25, "twelve and a half" → 12.5."""
    lower = _COMPOUND.sub(lambda m: str(TENS[m.group(1)] + UNITS[m.group(2)]), lower)

    def half(m: re.Match) -> str:
        n = m.group(1)
        value = int(n) if n.isdigit() else NUMBER_WORDS.get(n, TENS.get(n))
        return f"{value}.5" if value is not None else m.group(0)

    return _HALF.sub(half, lower)


def _number(digits: str) -> str:
    value = float(digits)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def when_tokens(text: str) -> set[str]:
    """Numbers (as digits: "12.50" and "twelve and a half" are both 12.5), months and weekdays
    a text names."""
    lower = _digits(re.sub(r"(\d),(\d{3})\b", r"\1\2", str(text).lower()))
    found = {_number(n) for n in re.findall(r"\b(\d+(?:\.\d+)?)(?:st|nd|rd|th)?\b", lower)}
    for word in re.findall(r"[a-z]+", lower):
        if word in TENS:
            found.add(str(TENS[word]))
            continue
        if word in NUMBER_WORDS:
            found.add(str(NUMBER_WORDS[word]))
        elif word in MONTHS or word in WEEKDAYS:
            found.add(word)
        elif word.rstrip("s") in WEEKDAYS:
            found.add(word.rstrip("s"))
    return found


def support(claim: str, text: str) -> float:
    """Share of ``claim``'s content words found in ``text`` (1.0 when it has none)."""
    words = content_words(claim)
    return len(words & content_words(text)) / len(words) if words else 1.0


def window(lines: Sequence[Line], line: Line) -> str:
    """A line with its neighbours."""
    return " ".join(x.text for x in lines[max(0, line.number - 2) : line.number + 1])


def next_line(lines: Sequence[Line], line: Line) -> Optional[Line]:
    """The line after ``line``, if any."""
    return lines[line.number] if line.number < len(lines) else None


def best_sentence(claim: str, text: str) -> str:
    """The sentence of ``text`` that holds most of ``claim``'s words."""
    return max(sentences(text), key=lambda s: support(claim, s), default=text)


def full_name(name: str, people: Iterable[str]) -> str:
    """``name`` as the longest of ``people`` with its first name ("Tom" → "Tom Baker")."""
    first = name.split()[0].lower() if name.split() else ""
    same = [p for p in people if p.split() and p.split()[0].lower() == first]
    return max([name, *same], key=len) if first else name


def best_line(
    claim: str, lines: Sequence[Line], near: Optional[int] = None, among: Optional[Sequence[Line]] = None
) -> tuple[Optional[Line], float]:
    """The line (of ``among``, else of all ``lines``) that supports ``claim`` best: its own words
    first, then with its neighbours; the line nearest the cited ``near`` wins ties. Returns it
    with the support of its neighbourhood."""
    best, key = None, (-1.0, -1.0, 0.0)
    for line in among if among is not None else lines:
        rank = (support(claim, line.text), support(claim, window(lines, line)), -abs((near or 0) - line.number))
        if rank > key:
            best, key = line, rank
    return best, (support(claim, window(lines, best)) if best else 0.0)


COMMITMENT = re.compile(
    r"\b(i'll|i will|i can|i'm going to|i am going to|i shall|let me|we'll|we will|let's|please|"
    r"we need to|you need to|make sure|could you|can you|would you|will you)\b",
    re.I,
)
PAST_DONE = re.compile(r"\bI(?:'ve| have)?\s+(?:already\s+)?(\w+ed|did|sent|made|wrote|got|built|done)\b")


def commits(text: str) -> bool:
    """Someone takes on or is asked to do something in ``text``."""
    return bool(COMMITMENT.search(text) or requested(text))


def states_done(text: str) -> bool:
    """``text`` says some work is done ("the budget was updated", "prepared the kit"); a
    participle used as an adjective ("two finished bikes") is not."""
    for m in DONE.finditer(text):
        before = text[: m.start()].split()
        if m.group(4) and before and (before[-1].lower() in ATTRIBUTIVE or before[-1].isdigit()):
            continue
        return True
    return False


def reports_done(sentence: str) -> bool:
    """The speaker reports work as finished ("I finished the export yesterday")."""
    return bool(PAST_DONE.search(sentence)) and not FUTURE.search(sentence)


# ---- owners and due dates ----
def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", text) if s.strip()]


def requested(text: str) -> list[str]:
    """Names a text asks to do something: "Tom, can you ...", "And Sarah, please ..."."""
    return [m.group(1) for m in REQUEST.finditer(text)]


def addressed(text: str, names: Iterable[str]) -> list[str]:
    """The ``names`` (first names) a text speaks to at the start of a sentence."""
    known = {n.lower() for n in names}
    return [m.group(1) for m in VOCATIVE.finditer(text) if m.group(1).lower() in known]


def owner_from(line: Line, task: str, lines: Sequence[Line], names: dict[str, str]) -> Optional[str]:
    """Who takes on ``task`` on ``line``: the speaker when the sentence is in the first person,
    else the person the sentence asks. ``names`` maps speaker labels to names."""
    best = best_sentence(task, line.text)
    who = requested(best)
    if who:
        return who[0]
    if FIRST_PERSON.search(best) and line.speaker:
        return names.get(line.speaker, line.speaker)
    return None


def due_as_said(texts: Iterable[str]) -> Optional[str]:
    """The first deadline said in ``texts``, in its own words ("Friday, the 13th of March",
    "within two weeks", "the end of this week")."""
    for text in texts:
        m = DUE.search(text)
        if m:
            prep = m.group("prep").lower()
            when = m.group("when").strip(" ,")
            return f"{prep} {when}" if prep in KEEP_PREP else when
        soon = SOON.search(text)
        if soon:
            return soon.group(1)
    return None


def same_person(a: str, b: str) -> bool:
    """One person by two names: the same first word ("Tom", "Tom Baker"), or one name's words
    within the other's ("User Interface", "User Interface Designer"). Roles that share a word
    ("Industrial Designer", "User Interface Designer") are different people."""
    wa = [w for w in re.findall(r"[a-z']+", a.lower()) if len(w) > 1]
    wb = [w for w in re.findall(r"[a-z']+", b.lower()) if len(w) > 1]
    if not wa or not wb:
        return False
    return wa[0] == wb[0] or set(wa) <= set(wb) or set(wb) <= set(wa)


# ---- summaries ----
def unsupported_sentence(sentence: str, lines: Sequence[Line], facts: Sequence[str], tasks: Sequence[str]) -> str:
    """Why ``sentence`` is not supported by the transcript or the extracted facts; ``""`` when it is.

    Most of its content words must be said; each number, month or weekday must be said on one
    line (or fact) together with a content word standing next to it in the sentence; an open
    action item must not be reported as done."""
    sources = [ln.text for ln in lines] + list(facts)
    words_said = content_words(" ".join(sources))
    missing = content_words(sentence) - words_said
    if len(missing) >= 2 and support(sentence, " ".join(sources)) < 0.6:
        return f"most of its words are not in the transcript ({', '.join(sorted(missing))})"
    words = re.findall(r"\d[\d.,]*\d|[\w',-]+", sentence)  # "12.5" is one number
    for i, word in enumerate(words):
        for token in when_tokens(word):
            near = content_words(" ".join(words[max(0, i - 4) : i + 5]))
            holders = [s for s in sources if token in when_tokens(s)]
            if not any(not near or near & content_words(h) for h in holders):
                return f"'{word}' is not said together with what the sentence says of it"
    lower = sentence.lower()
    if states_done(lower) and not FUTURE.search(lower) and any(support(t, sentence) >= 0.5 for t in tasks):
        return "it reports an open action item as done"
    return ""


# ---- commitments found by code ----
TAKE_ON = re.compile(r"\b(?:I'll|I will|I can|I'm going to|I am going to|I shall)\s+(?P<rest>[^.?!]+)")
#: "We'll ... by <when>": the group takes it on (owner :data:`GROUP`), when a time after the
#: meeting is said with it.
WE_TAKE_ON = re.compile(r"\b(?:[Ww]e'll|[Ww]e will|[Ww]e're going to|[Ww]e are going to)\s+(?P<rest>[^.?!]+)")
GROUP = "all"
#: A group's "we'll meet again ..." is the next meeting, not an action item.
MEET_AGAIN = re.compile(r"^(?:meet|see\s+(?:you|each\s+other)|get\s+together|reconvene|talk)\b", re.I)
#: What people do in the room while everyone is there, said as "I'll ...": introducing,
#: presenting, showing, passing things, trying something, sitting down, starting or ending,
#: a break. Read as the task's first words; never a commitment for after the meeting.
IN_ROOM = re.compile(
    r"^(?:(?:just|first|now|then|quickly|also|briefly|again)\s+)*(?:"
    r"introduce\s+(?:myself|ourselves|yourselves|the\s+(?:project|topic|agenda|meeting))"
    r"|(?:tell|show|direct|guide|lead)\s+(?:you|us|everyone|everybody)\b|walk\s+(?:you|us)\s+through"
    r"|explain\s+(?:it|this|that|why|how|what|you|to\s+you)\b|show\s+(?:it|this|that)\b"
    r"|present\s+(?:it|this|that|them)\s*$|go\s+(?:through|over|on|back|ahead|to\s+the\s+next)"
    r"|start\s+(?:with|off|from|the\s+(?:meeting|presentation))|begin\s+(?:with|the\s+(?:meeting|presentation))"
    r"|(?:open|close|end)\s+(?:the|this|my)\s+(?:meeting|presentation|slides?|laptop)|stop\s+(?:here|now|the\s+meeting)"
    r"|pass\s+(?:it|this|that|the\s+(?:pen|marker|mic|microphone|word|floor|remote|ball))\b"
    r"|hand\s+(?:it|this|that|over\s+to\s+(?:you|the))\b|sit\b|stand\s+up|see\s+(?:if|whether|what|how)\b"
    r"|try\b(?!\s+to\b)|read\s+(?:it|this|that|out|the\s+agenda)\b|draw\s+(?:it|this|that|on\s+the\s+board)\b"
    r"|share\s+(?:my|the|this)\s+screen|chair\b|switch\s+(?:to\s+the\s+next|on|off|over)\b|move\s+on"
    r"|summari[sz]e|repeat|say\b|ask\s+(?:you|everyone|everybody|the\s+group|a\s+question)|answer\s+(?:that|this|it)"
    r"|wait|imagine|think|guess|mean\b|meet\s+(?:you|again|here)|turn\s+(?:it|this)"
    r"|give\s+(?:you\s+)?(?:a|an|the)\s+(?:\w+\s+)?(?:overview|introduction|presentation|summary|demo)"
    r"|take\s+(?:a|the|some|my)?\s*(?:lunch|break|coffee|notes|seat|minutes\b(?!\s+(?:to|in|into)))"
    r"|have\s+(?:a|the|our)?\s*(?:lunch|break|coffee|look|seat|go)\b|do\s+(?:it|this|that|so)\s*$"
    r"|be\s+(?:quick|brief|right\s+back|back|there|here|honest)\b"
    r")",
    re.I,
)
#: Said for the moment: "in a minute", "right now", "here".
NOW = re.compile(
    r"\b(?:in\s+(?:about\s+)?(?:a\s+(?:minute|second|moment|sec)|(?:a\s+)?half\s+an\s+hour|(?:a\s+few|\d+|five|ten|fifteen|twenty)\s+minutes)"
    r"|right\s+now|for\s+now|now|here)\b",
    re.I,
)
#: Said with a time after the meeting: "by Friday", "next time", "after the meeting".
LATER = re.compile(
    r"\b(?:next\s+(?:meeting|time|week|session)|after\s+(?:the|this)\s+meeting|afterwards|later\s+on)\b", re.I
)


#: Work for the meeting in progress: "we have to decide this in this meeting".
THIS_MEETING = re.compile(
    r"\b(?:in|during|at|within|decide(?:d)?(?:\s+\w+)?|before\s+the\s+end\s+of)\s+(?:this|today's)\s+meeting\b", re.I
)


def in_room_clause(sentence: str) -> bool:
    """The sentence's own "I'll ..." is done in the room ("then I'll meet you in half an hour"),
    or the sentence gives the work to the meeting in progress ("decide it in this meeting")."""
    if THIS_MEETING.search(sentence):
        return True
    take = TAKE_ON.search(sentence)
    return take is not None and in_room(task_phrase(take.group("rest")), sentence)


def in_room(task: str, sentence: str = "") -> bool:
    """``task`` is done in the room ("introduce myself", "pass the pen", "start with the
    presentation"), not taken on for after the meeting: its first words say so and the
    sentence gives it no time after the meeting."""
    if not (IN_ROOM.search(task.strip()) or NOW.search(task)):
        return False
    return not (due_as_said([sentence]) or LATER.search(sentence))


ASK = re.compile(_OPENING + _ADDRESSEE.replace("(", "(?P<name>", 1) + _ASKING + r"\s+(?P<rest>[^.?!]+)")
#: "Roo, I'd like to see the interface concept": work to deliver, asked of the person named.
WANT = re.compile(
    _OPENING
    + _ADDRESSEE.replace("(", "(?P<name>", 1)
    + r"I(?:'d|\s+would)\s+like\s+to\s+(?:see|receive|have|get)\s+(?P<rest>[^.?!]+)"
)
PRONOUN_TASK = {"do", "that", "it", "this", "so", "sure", "fine", "yes", "to", "the", "have", "get", "make", "be"}


def task_phrase(clause: str) -> str:
    """A clause after "I'll" or "can you" as a task: its deadline cut, first letter upper."""
    text = DUE.sub("", clause)
    text = SOON.sub("", text)
    text = re.sub(r"\s+", " ", text).strip(" ,;:-")
    text = re.sub(r"\b(?:and|then)$", "", text).strip(" ,")
    return text[:1].upper() + text[1:]


def commitments(lines: Sequence[Line], names: dict[str, str]) -> list[dict]:
    """Tasks people take on in so many words: "<name>, can you ..." and the answer, or "I'll
    ..." (owner: the speaker). ``names`` maps voice labels to names."""
    found: list[dict] = []
    answered: set[int] = set()
    for line in lines:
        if line.number in answered:
            continue
        following = next_line(lines, line)
        for sentence in sentences(line.text):
            ask = ASK.search(sentence) or WANT.search(sentence)
            if ask:
                task = task_phrase(ask.group("rest"))
                if ask.re is WANT:
                    task = "Deliver " + task[:1].lower() + task[1:]
                texts = [sentence]
                answer = following if following and following.speaker != line.speaker else None
                if (
                    answer
                    and FIRST_PERSON.search(answer.text)
                    or (answer and re.search(r"\b(yes|sure|okay)\b", answer.text, re.I))
                ):
                    answered.add(answer.number)
                    texts.insert(0, answer.text)
                if len(content_words(task)) >= 1:
                    found.append({"owner": ask.group("name"), "task": task, "due": due_as_said(texts) or "",
                                  "line": line.number})  # fmt: skip
                continue
            take = TAKE_ON.search(sentence)
            group = WE_TAKE_ON.search(sentence) if not take else None
            said = take or group
            if said is not None and line.speaker:
                task = task_phrase(said.group("rest"))
                if take and re.search(r"\bI can\b", take.group(0)) and not due_as_said([sentence]):
                    continue  # "then I can take some notes": an offer, unless it has a time
                due = due_as_said([sentence])
                if group and (MEET_AGAIN.search(task) or not (due_as_said([sentence]) or LATER.search(sentence))):
                    continue  # "we'll draw an animal" narrates the meeting; "we'll ... by Friday" commits
                if len(task.split()) < 2:
                    continue
                if len(content_words(task)) >= (1 if due else 2) and not in_room(task, sentence):
                    owner = names.get(line.speaker, line.speaker) if take else GROUP
                    found.append({"owner": owner, "task": task, "due": due or "", "line": line.number})
    return found
