from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gridcare.calendar import (
    BEIJING,
    CalendarYearMissing,
    CountingRule,
    WorkCalendar,
    YearDays,
    add_working_days,
    add_working_time,
    builtin_years,
    is_workday,
    working_time_between,
)
from gridcare.calendar.sources import CalendarFileError, parse_calendar_file

CAL = WorkCalendar(builtin_years())


def bj(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def test_make_up_weekend_is_a_workday_and_holiday_weekday_is_not() -> None:
    assert is_workday(CAL, date(2025, 10, 11))  # Saturday, 调休上班
    assert is_workday(CAL, date(2025, 9, 28))  # Sunday, 调休上班
    assert not is_workday(CAL, date(2025, 10, 8))  # Wednesday, National Day holiday
    assert not is_workday(CAL, date(2025, 10, 12))  # ordinary Sunday
    assert is_workday(CAL, date(2025, 10, 9))


def test_national_day_2025_example_from_the_issue() -> None:
    assert add_working_days(CAL, bj("2025-09-30T16:00"), 5) == bj("2025-10-14T16:00")


def test_spring_festival_2025() -> None:
    # 2025 Spring Festival: Jan 28 – Feb 4 off; Sun Jan 26 and Sat Feb 8 are working days.
    start = bj("2025-01-24T10:30")  # Friday
    assert add_working_days(CAL, start, 1) == bj("2025-01-26T10:30")  # Sunday make-up day
    assert add_working_days(CAL, start, 2) == bj("2025-01-27T10:30")
    assert add_working_days(CAL, start, 3) == bj("2025-02-05T10:30")
    assert add_working_days(CAL, start, 5) == bj("2025-02-07T10:30")
    assert add_working_days(CAL, start, 6) == bj("2025-02-08T10:30")  # Saturday make-up day


def test_accepted_on_a_holiday_starts_next_working_day_at_midnight() -> None:
    assert add_working_days(CAL, bj("2025-10-03T20:00"), 1) == bj("2025-10-10T00:00")
    assert add_working_days(CAL, bj("2025-10-12T09:00"), 1) == bj("2025-10-14T00:00")  # Sunday


def test_acceptance_day_as_day_one_rule() -> None:
    rule = CountingRule.acceptance_day_is_day_one
    assert add_working_days(CAL, bj("2025-09-30T16:00"), 1, rule) == bj("2025-10-01T00:00")  # end of Sep 30
    assert add_working_days(CAL, bj("2025-09-30T16:00"), 2, rule) == bj("2025-10-10T00:00")  # end of Oct 9


def test_fractions_of_a_working_day_for_warnings() -> None:
    # 80 % of 5 working days = 96 h of working time.
    assert add_working_time(CAL, bj("2025-09-30T16:00"), timedelta(days=4)) == bj("2025-10-13T16:00")


def test_working_time_between_skips_holidays() -> None:
    assert working_time_between(CAL, bj("2025-09-30T16:00"), bj("2025-10-14T16:00")) == timedelta(days=5)
    assert working_time_between(CAL, bj("2025-10-01T00:00"), bj("2025-10-08T23:00")) == timedelta(0)
    assert working_time_between(CAL, bj("2025-10-10T12:00"), bj("2025-10-11T12:00")) == timedelta(hours=24)


def test_days_are_counted_in_beijing_time_whatever_the_input_zone() -> None:
    # 2025-09-30 20:00 UTC is already Oct 1, 04:00 in Beijing: a holiday, so counting starts Oct 9.
    assert add_working_days(CAL, datetime(2025, 9, 30, 20, 0, tzinfo=UTC), 1) == bj("2025-10-10T00:00")
    assert add_working_days(CAL, datetime(2025, 9, 30, 8, 0, tzinfo=UTC), 5) == bj("2025-10-14T16:00")


def test_missing_year_is_a_clear_error() -> None:
    with pytest.raises(CalendarYearMissing, match="2031") as err:
        is_workday(CAL, date(2031, 3, 3))
    assert err.value.year == 2031
    with pytest.raises(CalendarYearMissing):
        add_working_days(CAL, bj("2026-12-28T10:00"), 5)  # runs into 2027


def test_loaded_year_and_corrections() -> None:
    years = dict(builtin_years())
    years[2027] = YearDays(holidays=frozenset({date(2027, 1, 1)}), workdays=frozenset({date(2027, 1, 2)}))
    cal = WorkCalendar(years, corrections={date(2027, 1, 4): False})
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 2))
    assert not cal.is_workday(date(2027, 1, 4))  # corrected
    assert add_working_days(cal, bj("2026-12-31T09:00"), 2) == bj("2027-01-05T09:00")


def test_calendar_file_parsing() -> None:
    text = "\ufeffdate,type,name\n# comment\n2027-01-01,holiday,元旦\n2027-02-07,班,春节调休\n"
    parsed = parse_calendar_file(text)
    assert parsed == {2027: [(date(2027, 1, 1), False, "元旦"), (date(2027, 2, 7), True, "春节调休")]}
    with pytest.raises(CalendarFileError, match="第 2 行"):
        parse_calendar_file("date,type,name\n2027-13-01,holiday,x\n")
    with pytest.raises(CalendarFileError, match="本来就是工作日"):
        parse_calendar_file("date,type\n2027-01-05,workday\n")
    with pytest.raises(CalendarFileError, match="重复"):
        parse_calendar_file("date,type\n2027-01-01,holiday\n2027-01-01,holiday\n")
