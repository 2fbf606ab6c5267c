"""Bounded types for what clients send: ids that fit the database's integer columns, days and
instants inside the years the system can count. A value outside them is a 422 naming the field, never
an overflow deep in the database driver."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, Field

from gridcare.errors import InvalidInput

# Ids are INTEGER columns (32-bit on PostgreSQL): nothing larger can exist.
MAX_ID = 2_147_483_647
# Days and instants the calendar, the reports and the clocks can work with.
MIN_DAY = date(1970, 1, 1)
MAX_DAY = date(2199, 12, 31)
MIN_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(2199, 12, 31, tzinfo=UTC)
RANGE_TEXT = f"{MIN_DAY.isoformat()} 至 {MAX_DAY.isoformat()}"


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    """Only a written date (2026-10-01) or a date: not a number (Pydantic would read 0 as 1970-01-01)."""
    if isinstance(value, str):
        if not _ISO_DAY.fullmatch(value.strip()):
            raise ValueError("日期应为 YYYY-MM-DD")
        return value.strip()
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("日期应为 YYYY-MM-DD")


def _iso_instant(value: object) -> object:
    """Only a written time (ISO 8601) or a datetime: not a number of seconds."""
    if isinstance(value, (str, datetime)):
        return value
    raise ValueError("时间应为 ISO 8601 格式，如 2026-12-01T08:00:00+08:00")


def _instant_in_range(value: datetime) -> datetime:
    """An instant: with its time zone (a wall-clock time alone is ambiguous), within the years counted."""
    if value.tzinfo is None:
        raise ValueError("时间须带时区，如 2026-12-01T08:00:00+08:00")
    if not MIN_INSTANT <= value <= MAX_INSTANT:
        raise ValueError(f"时间须在 {RANGE_TEXT} 之间")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Day = Annotated[date, BeforeValidator(_iso_day), Field(ge=MIN_DAY, le=MAX_DAY)]
Instant = Annotated[datetime, BeforeValidator(_iso_instant), AfterValidator(_instant_in_range)]
Version = Annotated[int, Field(ge=1, le=MAX_ID, description="读取时的版本号（乐观锁）")]

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="编号")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
DayQuery = Annotated[Day | None, Query()]
# Pages of a list: as far as an offset the database can take.
MAX_PAGE = 1_000_000


def day_in_range(value: date, label: str) -> date:
    """For values parsed by hand (page forms): the same bounds, with the field named."""
    if not MIN_DAY <= value <= MAX_DAY:
        raise InvalidInput(f"{label}须在 {RANGE_TEXT} 之间：{value.isoformat()}", details=[{"field": label}])
    return value


def id_in_range(value: int, label: str) -> int:
    if not 1 <= value <= MAX_ID:
        raise InvalidInput(f"{label}超出允许范围：{value}", details=[{"field": label}])
    return value
