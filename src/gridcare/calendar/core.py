"""Working days and working time.

Rule (docs/domain.md §6, the default `from_next_day`): "N working days from acceptance" is the same clock
time on the N-th working day after the day of acceptance; time on non-working days does not count; a
request accepted on a non-working day starts at 00:00 of the next working day. Equivalently: N × 24 h
of *working time* (time that falls on working days) added to the acceptance instant, a deadline at
24:00 of a working day being read as 00:00 of the next working day (so it always lands on one).

The other practice (`acceptance_day_is_day_one`) counts the acceptance day as day 1: the deadline is
the end of the N-th working day counting from the acceptance day itself.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
_DAY = timedelta(days=1)
# A deadline search never walks further than this: more means a calendar without working days.
_MAX_DAYS_WALKED = 3660


class CountingRule(StrEnum):
    from_next_day = "from_next_day"
    acceptance_day_is_day_one = "acceptance_day_is_day_one"


class CalendarYearMissing(LookupError):
    """A date falls in a year for which no official calendar is loaded."""

    def __init__(self, year: int) -> None:
        super().__init__(f"{year} 年的工作日历尚未载入（国务院办公厅节假日安排），无法计算工作日")
        self.year = year


@dataclass(frozen=True)
class YearDays:
    """One year's exceptions to Monday–Friday: holidays on weekdays and make-up working weekends."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@dataclass(frozen=True)
class WorkCalendar:
    """The years we know, each with its exceptions; plus single-day corrections on top."""

    years: Mapping[int, YearDays]
    corrections: Mapping[date, bool] = field(default_factory=dict)

    def knows(self, year: int) -> bool:
        return year in self.years

    def is_workday(self, day: date) -> bool:
        if day in self.corrections:
            return self.corrections[day]
        year = self.years.get(day.year)
        if year is None:
            raise CalendarYearMissing(day.year)
        if day in year.workdays:
            return True
        if day in year.holidays:
            return False
        return day.weekday() < 5


def is_workday(calendar: WorkCalendar, day: date) -> bool:
    return calendar.is_workday(day)


def _local(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a timezone-aware datetime is needed")
    return instant.astimezone(BEIJING)


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (or earlier), held to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, _calendar.monthrange(year, month + 1)[1]))


def beijing_midnight(day: date) -> datetime:
    """The instant a Beijing calendar day begins."""
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def add_working_time(calendar: WorkCalendar, start: datetime, amount: timedelta) -> datetime:
    """The instant at which `amount` of working time has passed since `start`."""
    if amount < timedelta(0):
        raise ValueError("amount must not be negative")
    local = _local(start)
    day = local.date()
    remaining = amount
    # Time left on the start day, if it is a working day.
    if calendar.is_workday(day):
        left_today = beijing_midnight(day + _DAY) - local
        if remaining <= left_today:
            return local + remaining
        remaining -= left_today
    for _ in range(_MAX_DAYS_WALKED):
        day += _DAY
        if not calendar.is_workday(day):
            continue
        if remaining <= _DAY:
            return beijing_midnight(day) + remaining
        remaining -= _DAY
    raise ValueError("no working days found within ten years")


def add_working_days(
    calendar: WorkCalendar,
    start: datetime,
    days: float,
    rule: CountingRule = CountingRule.from_next_day,
) -> datetime:
    """The deadline N working days after `start`, under `rule`.

    `from_next_day`: the same clock time on the N-th working day. A request accepted on a non-working
    day starts at 00:00 of the next working day, so its deadline is 00:00 of a working day: working
    time alone would end at 24:00 of the last working day counted, which is 00:00 of the following
    calendar day and may be a holiday — that instant is moved to 00:00 of the next working day (no
    working time lies between the two, so the limit is the same; the deadline people read lands on a
    working day)."""
    if rule is CountingRule.acceptance_day_is_day_one:
        start = beijing_midnight(_local(start).date())
        return add_working_time(calendar, start, timedelta(days=days))
    deadline = add_working_time(calendar, start, timedelta(days=days))
    local = _local(deadline)
    if days > 0 and local.time() == time(0):
        day = local.date()
        for _ in range(_MAX_DAYS_WALKED):
            if calendar.is_workday(day):
                return beijing_midnight(day)
            day += _DAY
        raise ValueError("no working days found within ten years")
    return deadline


def working_time_between(calendar: WorkCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time in [start, end): the part of the interval that falls on working days."""
    if end <= start:
        return timedelta(0)
    a, b = _local(start), _local(end)
    total = timedelta(0)
    day = a.date()
    for _ in range((b.date() - day).days + 1):
        if calendar.is_workday(day):
            lo = max(a, beijing_midnight(day))
            hi = min(b, beijing_midnight(day + _DAY))
            if hi > lo:
                total += hi - lo
        day += _DAY
    return total
