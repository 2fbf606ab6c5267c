"""The working-day calendar in force: built-in years, years the operator loaded, and corrections.

Loaded once per process and reloaded when the stored calendar changes (a cheap revision query), so
every worker sees an operator's correction on its next deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from threading import Lock
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from gridcare.audit.service import record
from gridcare.auth.principal import Principal
from gridcare.calendar import WorkCalendar, YearDays, builtin_years
from gridcare.calendar.sources import CalendarFileError, parse_calendar_file
from gridcare.errors import InvalidInput
from gridcare.models import CalendarDay, CalendarYear
from gridcare.models.enums import Role
from gridcare.models.types import utcnow
from gridcare.params import MAX_DAY, MIN_DAY

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


MAX_YEARS_PER_FILE = 20


def load_calendar_file(session: Session, *, principal: Principal, text: str, source: str) -> LoadResult:
    """Replace whole years with the file's holidays and make-up working days (see calendar.sources).

    The file is parsed and checked before anything is written; the write itself is a few set-based
    statements (one delete and one insert per year), so it holds the database's write lock briefly."""
    principal.require(Role.admin)
    try:
        parsed = parse_calendar_file(text)
    except CalendarFileError as exc:
        raise InvalidInput(
            f"日历文件 {source} {exc}", details=[{"row": exc.line, "reason": str(exc)}]
        ) from exc
    if len(parsed) > MAX_YEARS_PER_FILE:
        raise InvalidInput(f"日历文件 {source} 含 {len(parsed)} 个年份，一次最多载入 {MAX_YEARS_PER_FILE} 年")
    outside = [y for y in parsed if not MIN_DAY.year <= y <= MAX_DAY.year]
    if outside:
        raise InvalidInput(
            f"日历文件 {source} 的年份须在 {MIN_DAY.year}–{MAX_DAY.year} 之间：{'、'.join(map(str, outside[:5]))}"
        )
    pinned: set[date] = set()
    if parsed:
        pinned = set(
            session.scalars(
                select(CalendarDay.day).where(
                    CalendarDay.is_correction,
                    CalendarDay.day >= date(min(parsed), 1, 1),
                    CalendarDay.day <= date(max(parsed), 12, 31),
                )
            )
        )
    now = utcnow()
    for year, rows in parsed.items():
        session.execute(
            delete(CalendarDay).where(
                CalendarDay.day >= date(year, 1, 1),
                CalendarDay.day <= date(year, 12, 31),
                ~CalendarDay.is_correction,
            )
        )
        fresh = [  # a correction already pins its day; the correction stays
            {"day": day, "is_workday": is_work, "name": name[:100], "is_correction": False, "updated_at": now}
            for day, is_work, name in rows
            if day not in pinned
        ]
        if fresh:
            session.execute(insert(CalendarDay), fresh)
        year_row = session.get(CalendarYear, year)
        if year_row is None:
            session.add(CalendarYear(year=year, source=source[:100], loaded_by=principal.user_id or None))
        else:
            year_row.source = source[:100]
            year_row.loaded_by = principal.user_id or None
            year_row.loaded_at = now
        record(
            session,
            actor=principal,
            action="load",
            entity="calendar_year",
            entity_id=year,
            detail={"source": source[:100], "days": len(rows)},
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


def stored_days(session: Session, first: date, last: date) -> list[CalendarDay]:
    """The calendar's stored days (holidays, make-up working days, corrections) between two dates."""
    return list(session.scalars(select(CalendarDay).where(CalendarDay.day.between(first, last))))


def loaded_year(session: Session, year: int) -> CalendarYear | None:
    return session.get(CalendarYear, year)
