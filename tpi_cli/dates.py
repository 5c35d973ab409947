"""Dates as a clinician types them: one strict parser for every date flag.

A date is ``YYYY-MM-DD``, ``today`` or ``yesterday``; a span is a count and a unit, ``10d``, ``6w``,
``3m`` (days, weeks, calendar months). A visit date or a period bound given as a span means that long
ago (``--since 3m``); a follow-up given as a span means that long after the visit (``--follow-up 6w``).
Anything else is refused with the formats: a date is never guessed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPAN = re.compile(r"^(?P<count>\d{1,4})\s*(?P<unit>[dwm])$")

DATE_FORMATS = "YYYY-MM-DD, today, yesterday, or a time ago like 10d, 6w, 3m"
FOLLOW_UP_FORMATS = "YYYY-MM-DD, or a time after the visit like 10d, 6w, 3m"


def now() -> dt.datetime:
    """The time a record is made: UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def iso_date(text: str) -> dt.date | None:
    """TEXT as a calendar date written YYYY-MM-DD, else None (no week dates, no 20260105)."""
    text = text.strip()
    if not _ISO.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def add_months(day: dt.date, months: int) -> dt.date:
    """DAY moved by MONTHS calendar months; the 31st becomes the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def shifted(day: dt.date, span: str, sign: int) -> dt.date | None:
    """DAY moved by SPAN (10d, 6w, 3m) forward (SIGN 1) or back (-1); None when SPAN is not a span."""
    match = _SPAN.match(span.strip().lower())
    if match is None:
        return None
    count, unit = int(match["count"]) * sign, match["unit"]
    try:
        if unit == "m":
            return add_months(day, count)
        return day + dt.timedelta(days=count * (7 if unit == "w" else 1))
    except (ValueError, OverflowError):
        return None


def parse_date(text: str, today: dt.date | None = None) -> dt.date:
    """A visit date or period bound: YYYY-MM-DD, today, yesterday, or a span ago. ValueError names the formats."""
    today = today or dt.date.today()
    word = text.strip().lower()
    found = {"today": today, "yesterday": today - dt.timedelta(days=1)}.get(word)
    found = found or iso_date(text) or shifted(today, word, -1)
    if found is None:
        raise ValueError(f"{text!r} is not a date; write {DATE_FORMATS}")
    return found


def parse_follow_up(text: str, visit_date: dt.date) -> dt.date:
    """A follow-up: YYYY-MM-DD, or a span after VISIT_DATE. ValueError names the formats."""
    found = iso_date(text) or shifted(visit_date, text, 1)
    if found is None:
        raise ValueError(f"{text!r} is not a follow-up date; write {FOLLOW_UP_FORMATS}")
    return found


def interval_days(text: str) -> int:
    """A protocol's follow-up interval, 10d or 6w; months are refused (their length depends on the date)."""
    match = _SPAN.match(text.strip().lower())
    if match is None or match["unit"] == "m":
        raise ValueError(f"{text!r} is not an interval; write days or weeks, e.g. 10d or 6w")
    return int(match["count"]) * (7 if match["unit"] == "w" else 1)
