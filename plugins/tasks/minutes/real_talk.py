"""Real talk made readable before the passes: what the model reads, not what is quoted.

Transcripts of real meetings hold what scripted ones do not: transcribers' markers
(``{disfmarker}``, ``{vocalsound}``, ``{gap}``), fillers (``uh``, ``um``), words said twice
("I've I've"), spelled acronyms (``T_V_``) and whole turns that are only a backchannel
("Mm-hmm.", "Yeah, okay."). :func:`clean` reads a turn without them; :func:`backchannel`
tells the turns that say nothing but "I'm listening". Quotes in the minutes stay verbatim:
the lines keep the words as transcribed beside the cleaned ones.
"""

from __future__ import annotations

import re

MARKER = re.compile(r"\{\w+\}|\[(?:laughter|noise|inaudible|crosstalk|music)\]", re.I)
FILLER = re.compile(r"(?<![\w'-])(?:u+h+m*|u+m+|e+r+m+|h+m+|m+h*m+|a+h+|uh-huh|mm-hmm)(?![\w'-])\s*,?", re.I)
ACRONYM = re.compile(r"\b((?:[A-Za-z]_){2,})")
REPEAT = re.compile(r"\b(\w+(?:'\w+)?)(?:\s+\1\b)+", re.I)
SPACE_BEFORE = re.compile(r"\s+([,.?!;:])")
#: Words that, alone in a turn, only acknowledge: a turn of these says nothing to minute.
ACKNOWLEDGE = set(
    """yeah yes yep yup no nope okay ok 'kay kay right alright sure mm hmm mhm mm-hmm uh-huh oh ah aha huh
    good great nice fine cool true exactly really indeed wow so well and but thanks thank you""".split()
)


def clean(text: str) -> str:
    """``text`` without markers and fillers, repeated words said once, acronyms joined."""
    text = MARKER.sub(" ", text)
    text = ACRONYM.sub(lambda m: m.group(1).replace("_", ""), text)
    text = FILLER.sub(" ", text)
    text = REPEAT.sub(r"\1", text)
    text = SPACE_BEFORE.sub(r"\1", " ".join(text.split()))
    text = re.sub(r"([,.?!;:])(?:\s*[,;:])+", r"\1", text)  # "um , uh ," left commas behind
    return re.sub(r"^[\s,.;:!?]+", "", text).strip(" ,;:")


def backchannel(text: str) -> bool:
    """The turn only acknowledges ("Mm-hmm.", "Yeah, okay.", "Oh really?"): four words at
    most, every one of them an acknowledgement (or nothing left once cleaned)."""
    words = re.findall(r"[a-z'-]+", clean(text).lower())
    return len(words) <= 4 and all(w in ACKNOWLEDGE for w in words)
