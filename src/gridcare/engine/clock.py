"""Step clocks: a deadline counted in natural time or in working days, paused while the customer owes
something (their documents, their own works, a later visit they asked for) and resumed with what was
left of it. Pure functions over the working-day calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

from gridcare.calendar import WorkCalendar, add_working_time, working_time_between


def remaining(calendar: WorkCalendar, *, deadline: datetime, at: datetime, working: bool) -> timedelta:
    """What is left of a clock at `at`: natural time, or working time for a working-day limit. Zero
    once the deadline has passed (the step stays late)."""
    if deadline <= at:
        return timedelta(0)
    return working_time_between(calendar, at, deadline) if working else deadline - at


def resumed(calendar: WorkCalendar, *, left: timedelta, at: datetime, working: bool) -> datetime:
    """The new deadline when a paused clock runs again at `at` with `left` to go."""
    return add_working_time(calendar, at, left) if working else at + left


def paused_for(started: datetime, ended: datetime) -> int:
    """Whole seconds a pause lasted (kept with the step: how long the customer held it)."""
    return max(int((ended - started).total_seconds()), 0)
