"""Dates said with a weekday, checked against the calendar.

Speech-to-text confuses numbers that sound alike: Whisper hears "Friday, the thirteenth of
March" as "Friday, the 30th of March". When the meeting says its own date with a weekday
("Tuesday, the third of March"), that fixes the year, and every other date said with a
weekday can be checked. A date whose weekday is wrong is corrected when the number it sounds
like fits ("the 30th" → "the 13th": 30 March is a Monday, 13 March a Friday), and every field
of the minutes naming that date follows; a wrong weekday with no such fix is only reported.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Optional

from .evidence import MONTH_PATTERN, MONTHS, NUMBER_WORDS, ORDINAL_PATTERN, ORDINAL_WORDS, WEEKDAY_PATTERN, WEEKDAYS

#: Days of a month that speech-to-text confuses ("thirteenth" / "thirtieth"); the other
#: "-teen" / "-ty" pairs (14 / 40, ...) are not both days of a month.
SOUND_ALIKE = {13: 30, 30: 13}
YEARS_AROUND = 6  # years before and after today searched for the meeting's year

_DATE = re.compile(
    rf"(?:(?P<wd1>{WEEKDAY_PATTERN}),?\s+)?(?:the\s+)?(?P<d1>{ORDINAL_PATTERN})\s+(?:of\s+)?(?P<m1>{MONTH_PATTERN})"
    rf"|(?:(?P<wd2>{WEEKDAY_PATTERN}),?\s+)?(?P<m2>{MONTH_PATTERN})\s+(?:the\s+)?(?P<d2>{ORDINAL_PATTERN})",
    re.I,
)


@dataclass(frozen=True)
class SaidDate:
    """A date as said: weekday (0 = Monday) when said, day of the month, month (1-12), and
    where the day's number stands in the text."""

    weekday: Optional[int]
    day: int
    month: int
    day_span: tuple[int, int]


def day_number(ordinal: str) -> Optional[int]:
    """13 for "13th", "13", "thirteenth"; 21 for "twenty-first"."""
    text = ordinal.lower().replace("-", " ").split()
    if len(text) == 1 and re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)?", text[0]):
        return int(re.sub(r"\D", "", text[0]))
    if len(text) == 2 and text[0] in ("twenty", "thirty") and text[1] in ORDINAL_WORDS[:9]:
        return NUMBER_WORDS[text[0]] + ORDINAL_WORDS.index(text[1]) + 1
    return NUMBER_WORDS.get(text[0]) if len(text) == 1 else None


def said_dates(text: str) -> list[SaidDate]:
    """Every day-and-month date in ``text``, with its weekday when one is said."""
    found = []
    for m in _DATE.finditer(str(text)):
        key = "1" if m.group("d1") else "2"
        day = day_number(m.group("d" + key))
        if day is None or not 1 <= day <= 31:
            continue
        weekday = m.group("wd" + key)
        found.append(
            SaidDate(
                weekday=WEEKDAYS.index(weekday.lower()) if weekday else None,
                day=day,
                month=MONTHS.index(m.group("m" + key).lower()) + 1,
                day_span=m.span("d" + key),
            )
        )
    return found


def meeting_year(meeting: SaidDate, today: dt.date) -> Optional[int]:
    """The year nearest ``today`` in which the meeting's day falls on its weekday."""
    years = sorted(range(today.year - YEARS_AROUND, today.year + YEARS_AROUND + 1), key=lambda y: abs(y - today.year))
    for year in years:
        if _weekday(year, meeting.month, meeting.day) == meeting.weekday:
            return year
    return None


def wrong_weekdays(
    meeting: SaidDate, year: int, said: list[SaidDate]
) -> dict[tuple[int, int], tuple[Optional[int], SaidDate]]:
    """``(day, month)`` of each date said with a weekday it does not fall on → the day it
    sounds like that does fall on it (None when there is none), and the date as said."""
    wrong: dict[tuple[int, int], tuple[Optional[int], SaidDate]] = {}
    for date in said:
        if date.weekday is None or fits(date, meeting, year):
            continue
        alike = SOUND_ALIKE.get(date.day)
        if alike is not None and not fits(SaidDate(date.weekday, alike, date.month, date.day_span), meeting, year):
            alike = None
        wrong.setdefault((date.day, date.month), (alike, date))
    return wrong


def fits(date: SaidDate, meeting: SaidDate, year: int) -> bool:
    """Whether ``date`` falls on the weekday said with it, in the meeting's year (the next
    year for a month before the meeting's)."""
    year_of = year + (1 if date.month < meeting.month else 0)
    return date.weekday is not None and _weekday(year_of, date.month, date.day) == date.weekday


def with_day(text: str, date: SaidDate, day: int) -> str:
    """``text`` with the day of ``date`` replaced, in the form it was said ("30th" → "13th")."""
    start, end = date.day_span
    said = text[start:end]
    if said[:1].isdigit():
        new = ordinal(day) if not said.isdigit() else str(day)
    else:
        new = ORDINAL_WORDS[day - 1] if day <= 20 else "thirtieth"
        new = new.capitalize() if said[:1].isupper() else new
    return text[:start] + new + text[end:]


def describe(date: SaidDate, year: int) -> str:
    """'30 March is a Monday' ('30 February is no day')."""
    weekday = _weekday(year, date.month, date.day)
    name = f"a {WEEKDAYS[weekday].capitalize()}" if weekday is not None else "no day"
    return f"{date.day} {MONTHS[date.month - 1].capitalize()} is {name}"


def ordinal(day: int) -> str:
    """'13th', '21st'."""
    return f"{day}{'th' if 10 <= day % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"


def _weekday(year: int, month: int, day: int) -> Optional[int]:
    try:
        return dt.date(year, month, day).weekday()
    except ValueError:  # the 30th of February
        return None
