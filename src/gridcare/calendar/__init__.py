"""China's working-day calendar (工作日, with 调休补班): pure functions, no database.

All instants are timezone-aware; days are counted in Beijing time.
"""

from gridcare.calendar.core import (
    BEIJING,
    CalendarYearMissing,
    CountingRule,
    WorkCalendar,
    YearDays,
    add_months,
    add_working_days,
    add_working_time,
    beijing_midnight,
    is_workday,
    working_time_between,
)
from gridcare.calendar.sources import builtin_years

__all__ = [
    "BEIJING",
    "CalendarYearMissing",
    "CountingRule",
    "WorkCalendar",
    "YearDays",
    "add_months",
    "add_working_days",
    "add_working_time",
    "beijing_midnight",
    "builtin_years",
    "is_workday",
    "working_time_between",
]
