"""Time-limit policy: the version in force, its rules, and the rule that applies to a step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from gridcare.calendar import (
    CalendarYearMissing,
    CountingRule,
    WorkCalendar,
    add_working_days,
    add_working_time,
)
from gridcare.models import SlaPolicyVersion, SlaRule


@dataclass(frozen=True)
class Rule:
    business_type: str
    category: str | None
    step: str
    area_class: str | None
    urgency: str | None
    limit_value: float
    unit: str
    anchor: str
    warn_ratio: float

    def specificity(self) -> tuple[int, int, int, int]:
        return (
            self.business_type != "*",
            len(self.category or ""),
            self.area_class is not None,
            self.urgency is not None,
        )

    def label(self) -> str:
        unit = {"minutes": "分钟", "hours": "小时", "working_days": "个工作日"}[self.unit]
        value = int(self.limit_value) if float(self.limit_value).is_integer() else self.limit_value
        return f"{value}{unit}"


@dataclass(frozen=True)
class StepTiming:
    deadline: datetime | None
    warn_at: datetime | None
    missing_year: int | None = None
    rule: Rule | None = None


# Published versions are never edited (a change is a new version), so their rules can be cached.
_rules_by_version: dict[int, list[Rule]] = {}
_lock = Lock()


@dataclass(frozen=True)
class Versions:
    """Every published version's start, for many lookups in a row (an import): no query per order."""

    starts: list[tuple[datetime, int]]

    def at(self, when: datetime) -> int | None:
        found = None
        for start, version_id in self.starts:  # ordered by start, then id: the last one begun wins
            if start <= when:
                found = version_id
        return found


def all_versions(session: Session) -> Versions:
    rows = session.execute(
        select(SlaPolicyVersion.effective_from, SlaPolicyVersion.id).order_by(
            SlaPolicyVersion.effective_from, SlaPolicyVersion.id
        )
    ).all()
    return Versions([(start, version_id) for start, version_id in rows])


_IN_FORCE = (
    select(SlaPolicyVersion.id)
    .where(SlaPolicyVersion.effective_from <= bindparam("at"))
    .order_by(SlaPolicyVersion.effective_from.desc(), SlaPolicyVersion.id.desc())
    .limit(1)
)


def version_in_force(session: Session, at: datetime) -> int | None:
    return session.scalar(_IN_FORCE, {"at": at})


def rules(session: Session, version_id: int) -> list[Rule]:
    with _lock:
        cached = _rules_by_version.get(version_id)
    if cached is not None:
        return cached
    loaded = [
        Rule(
            r.business_type,
            r.category,
            r.step,
            r.area_class,
            r.urgency,
            float(r.limit_value),
            r.unit,
            r.anchor,
            float(r.warn_ratio),
        )
        for r in session.scalars(select(SlaRule).where(SlaRule.version_id == version_id))
    ]
    with _lock:
        _rules_by_version[version_id] = loaded
    return loaded


def match(
    candidates: list[Rule],
    *,
    business_type: str,
    category: str | None,
    step: str,
    area_class: str,
    urgency: str,
) -> Rule | None:
    best: Rule | None = None
    for rule in candidates:
        if rule.step != step or rule.business_type not in (business_type, "*"):
            continue
        if rule.category and not (category or "").startswith(rule.category):
            continue
        if rule.area_class not in (None, area_class) or rule.urgency not in (None, urgency):
            continue
        if best is None or rule.specificity() > best.specificity():
            best = rule
    return best


def timing(
    calendar: WorkCalendar,
    rule: Rule | None,
    *,
    entered_at: datetime,
    accepted_at: datetime,
    counting: CountingRule,
) -> StepTiming:
    if rule is None:
        return StepTiming(None, None)
    start = accepted_at if rule.anchor == "order" else entered_at
    value = float(rule.limit_value)
    if rule.unit in ("minutes", "hours"):
        limit = timedelta(minutes=value) if rule.unit == "minutes" else timedelta(hours=value)
        return StepTiming(start + limit, start + limit * rule.warn_ratio, rule=rule)
    try:
        deadline = add_working_days(calendar, start, value, counting)
        begin = (
            start
            if counting is CountingRule.from_next_day
            else add_working_days(calendar, start, 0, counting)
        )
        warn_at = add_working_time(calendar, begin, timedelta(days=value * rule.warn_ratio))
    except CalendarYearMissing as missing:
        return StepTiming(None, None, missing_year=missing.year, rule=rule)
    return StepTiming(deadline, warn_at, rule=rule)


def version_rows(session: Session) -> list[SlaPolicyVersion]:
    """Every published version, newest first (管理 · 时限版本)."""
    return list(session.scalars(select(SlaPolicyVersion).order_by(SlaPolicyVersion.effective_from.desc())))


def rule_rows(session: Session, version_id: int) -> list[SlaRule]:
    """A version's rules as stored, in reading order."""
    return list(
        session.scalars(
            select(SlaRule)
            .where(SlaRule.version_id == version_id)
            .order_by(SlaRule.business_type, SlaRule.step, SlaRule.category, SlaRule.area_class)
        )
    )
