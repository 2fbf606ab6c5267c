"""Calendar data: the `chinesecalendar` package's years, and the operator's file format.

File format (`gridcare calendar load FILE`): CSV, UTF-8, header `date,type,name`; one line per
exception to Monday–Friday; `type` is `holiday` (休) or `workday` (班, a make-up working weekend).
Every year that appears is replaced whole. Lines starting with # are comments.

    date,type,name
    2027-01-01,holiday,元旦
    2027-02-07,workday,春节调休
"""

from __future__ import annotations

import csv
import functools
import io
from datetime import date

from gridcare.calendar.core import YearDays

_TYPES = {"holiday": False, "休": False, "workday": True, "班": True}


def builtin_years() -> dict[int, YearDays]:
    """The years the `chinesecalendar` package holds (it raises for the others)."""
    from chinese_calendar import constants

    years: dict[int, tuple[set[date], set[date]]] = {}
    for day in constants.holidays:
        years.setdefault(day.year, (set(), set()))[0].add(day)
    for day in constants.workdays:
        if day.weekday() >= 5:  # the package also lists ordinary weekdays in some years
            years.setdefault(day.year, (set(), set()))[1].add(day)
    return {y: YearDays(frozenset(h), frozenset(w)) for y, (h, w) in years.items()}


@functools.cache
def builtin_day_names() -> dict[date, str]:
    """Chinese names of the built-in years' exceptions: 国庆节 for a holiday, 国庆节调休 for a make-up day."""
    from chinese_calendar import constants

    zh = {h.value: h.chinese for h in constants.Holiday}
    names = {day: zh.get(name, name) for day, name in constants.holidays.items() if name}
    for day, name in constants.workdays.items():
        if name and day.weekday() >= 5:
            names[day] = f"{zh.get(name, name)}调休"
    return names


class CalendarFileError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"第 {line} 行：{message}")
        self.line = line


def parse_calendar_file(text: str) -> dict[int, list[tuple[date, bool, str]]]:
    """Exceptions per year: (day, is_workday, name). Raises CalendarFileError naming the line."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    result: dict[int, list[tuple[date, bool, str]]] = {}
    seen: dict[date, int] = {}
    header_seen = False
    number = 0
    while True:
        number += 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CalendarFileError(number, "无法读取（字段过长或引号不配对）") from exc
        if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
            continue
        cells = [c.strip() for c in row]
        if not header_seen:
            header_seen = True
            if [c.lower() for c in cells[:2]] != ["date", "type"]:
                raise CalendarFileError(number, "表头应为 date,type,name")
            continue
        try:
            day = date.fromisoformat(cells[0])
        except ValueError as exc:
            raise CalendarFileError(number, f"日期“{cells[0]}”应为 YYYY-MM-DD") from exc
        kind = cells[1] if len(cells) > 1 else ""
        if kind not in _TYPES:
            raise CalendarFileError(number, f"类型“{kind}”应为 holiday（休）或 workday（班）")
        if day in seen:
            raise CalendarFileError(number, f"日期 {day} 与第 {seen[day]} 行重复")
        seen[day] = number
        is_work = _TYPES[kind]
        if is_work and day.weekday() < 5:
            raise CalendarFileError(number, f"{day} 是周一至周五，本来就是工作日，不需标为调休上班")
        result.setdefault(day.year, []).append((day, is_work, cells[2] if len(cells) > 2 else ""))
    if not header_seen:
        raise CalendarFileError(1, "文件为空")
    return result
