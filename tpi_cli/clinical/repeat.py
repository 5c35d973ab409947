"""When a payer profile allows the next injection at the same sites (for `tpi due`).

The rules are the ones `check_payer` (clinical/safety.py) applies to a visit being logged, read from
the same settings: the same muscle and side not sooner than ``same_site_days`` after it was last
injected, and at most ``sessions_per_year`` session days in any 365 days up to a visit. This module
answers the reverse question — from which date would a visit at these sites raise neither — and a
test holds the two to each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from tpi_cli.clinical.safety import YEAR, counted, payer_profile
from tpi_cli.models import Patient, Site, Visit, side_pairs
from tpi_cli.settings import Settings


class RepeatDate(NamedTuple):
    date: dt.date  # the first day the profile allows; may be in the past (allowed now)
    reason: str  # which rule sets the date, in chart language


def earliest_repeat(patient: Patient, sites: Sequence[Site], history: Sequence[Visit],
                    settings: Settings) -> RepeatDate | None:
    """The first day after HISTORY's last visit on which PATIENT's payer profile allows SITES again.

    None without a (counted) visit in HISTORY: nothing limits a first injection.
    """
    history = counted(history)
    profile = payer_profile(patient, settings)
    rules = settings.payer(profile)
    last_visit = max((v.date for v in history), default=None)
    if last_visit is None:
        return None
    # a second session the same day counts as one billing session: the next day is the first new session
    found = RepeatDate(last_visit + dt.timedelta(days=1), "the day after the last visit")

    here = side_pairs(list(sites))
    if rules["same_site_days"]:
        for visit in history:
            for muscle, side in sorted(side_pairs(visit.sites) & here):
                allowed = visit.date + dt.timedelta(days=rules["same_site_days"])
                if allowed > found.date:
                    found = RepeatDate(allowed, f"{side} {muscle} injected {visit.date.isoformat()}; {profile} "
                                                f"allows the same site after {rules['same_site_days']} days")

    limit = rules["sessions_per_year"]
    sessions = sorted({v.date for v in history}, reverse=True)
    if limit and len(sessions) >= limit:
        # the window (day - 365 days, day] may hold limit - 1 earlier sessions beside the new one
        allowed = sessions[limit - 1] + YEAR
        if allowed > found.date:
            found = RepeatDate(allowed, f"{limit} sessions in 365 days ({profile}); the session of "
                                        f"{sessions[limit - 1].isoformat()} must fall out of the year")
    return found
