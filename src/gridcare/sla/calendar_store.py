"""The working-day calendar in force: built-in years, years the operator loaded, and corrections.

Loaded once per process and reloaded when the stored calendar changes (a cheap revision query), so
every worker sees an operator's correction on its next deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from threading import Lock
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from gridcare.audit.service import record
from gridcare.auth.principal import Principal
from gridcare.calendar import WorkCalendar, YearDays, builtin_years
from gridcare.calendar.sources import CalendarFileError, parse_calendar_file
from gridcare.errors import InvalidInput
from gridcare.models import CalendarDay, CalendarYear
from gridcare.models.enums import Role
from gridcare.models.types import utcnow

_cache: dict[str, Any] = {}
_lock = Lock()


def _revision(session: Session) -> tuple[Any, ...]:
    years = select(func.count(), func.max(CalendarYear.loaded_at)).select_from(CalendarYear)
    days = select(func.count(), func.max(CalendarDay.updated_at)).select_from(CalendarDay)
    y = session.execute(years).one()
    d = session.execute(days).one()
    return (y[0], y[1], d[0], d[1])


def current_calendar(session: Session) -> WorkCalendar:
    revision = _revision(session)
    with _lock:
        if _cache.get("revision") == revision:
            calendar: WorkCalendar = _cache["calendar"]
            return calendar
    years: dict[int, YearDays] = dict(builtin_years())
    loaded = set(session.scalars(select(CalendarYear.year)).all())
    exceptions: dict[int, tuple[set[date], set[date]]] = {y: (set(), set()) for y in loaded}
    corrections: dict[date, bool] = {}
    for day in session.scalars(select(CalendarDay)):
        if day.is_correction:
            corrections[day.day] = day.is_workday
        elif day.day.year in exceptions:
            exceptions[day.day.year][1 if day.is_workday else 0].add(day.day)
    for year, (holidays, workdays) in exceptions.items():
        years[year] = YearDays(frozenset(holidays), frozenset(workdays))
    calendar = WorkCalendar(years, corrections)
    with _lock:
        _cache.update(revision=revision, calendar=calendar)
    return calendar


@dataclass
class LoadResult:
    years: list[int]
    days: int


def load_calendar_file(session: Session, *, principal: Principal, text: str, source: str) -> LoadResult:
    """Replace whole years with the file's holidays and make-up working days (see calendar.sources)."""
    principal.require(Role.admin)
    try:
        parsed = parse_calendar_file(text)
    except CalendarFileError as exc:
        raise InvalidInput(
            f"日历文件 {source} {exc}", details=[{"row": exc.line, "reason": str(exc)}]
        ) from exc
    for year, rows in parsed.items():
        session.execute(
            delete(CalendarDay).where(
                CalendarDay.day >= date(year, 1, 1),
                CalendarDay.day <= date(year, 12, 31),
                ~CalendarDay.is_correction,
            )
        )
        session.flush()
        for day, is_work, name in rows:
            existing = session.get(CalendarDay, day)
            if existing is not None:  # a correction already pins this day; the correction stays
                continue
            session.add(CalendarDay(day=day, is_workday=is_work, name=name))
        year_row = session.get(CalendarYear, year)
        if year_row is None:
            session.add(CalendarYear(year=year, source=source, loaded_by=principal.user_id or None))
        else:
            year_row.source = source
            year_row.loaded_by = principal.user_id or None
            year_row.loaded_at = utcnow()
        record(
            session,
            actor=principal,
            action="load",
            entity="calendar_year",
            entity_id=year,
            detail={"source": source, "days": len(rows)},
        )
    session.flush()
    return LoadResult(years=sorted(parsed), days=sum(len(r) for r in parsed.values()))


def set_correction(session: Session, *, principal: Principal, day: date, is_workday: bool, name: str) -> None:
    """Pin one day as working or not, whatever the year's data says (e.g. a late State Council notice)."""
    principal.require(Role.admin)
    existing = session.get(CalendarDay, day)
    if existing is None:
        session.add(CalendarDay(day=day, is_workday=is_workday, name=name, is_correction=True))
    else:
        existing.is_workday = is_workday
        existing.name = name
        existing.is_correction = True
    record(
        session,
        actor=principal,
        action="correct",
        entity="calendar_day",
        entity_id=day.isoformat(),
        detail={"is_workday": is_workday, "name": name},
    )
    session.flush()
