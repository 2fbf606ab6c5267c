"""Reports: who may read them, for which unit and period; the snapshot they are computed on."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from gridcare.analytics.monitoring import MonitoringReport, Period, Scope
from gridcare.analytics.snapshot import Snapshot, default_path
from gridcare.auth.principal import Principal
from gridcare.config import Settings
from gridcare.errors import InvalidInput, NotFound
from gridcare.models import Unit
from gridcare.models.enums import Role

REPORT_ROLES = (Role.manager, Role.auditor, Role.admin, Role.dispatcher)
MAX_DAYS = 3 * 366


def snapshot(settings: Settings, engine: Engine) -> Snapshot:
    return Snapshot(engine, settings.analytics_path or default_path(settings.database_url))


def period(start: date | None, end: date | None) -> Period:
    if start is None or end is None:
        raise InvalidInput("请给出统计期间的起止日期（from、to，格式 YYYY-MM-DD）")
    if end < start:
        raise InvalidInput(f"统计期间有误：截止日期 {end} 早于起始日期 {start}")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput("统计期间最长为三年")
    return Period(start, end)


def resolve_unit(session: Session, *, principal: Principal, unit: str | None) -> Scope:
    """The unit by id, code or name (default: the user's own unit, or the single root for the system)."""
    if unit:
        conditions = [Unit.code == unit, Unit.name == unit]
        if unit.isdigit():
            conditions.append(Unit.id == int(unit))
        found = session.scalars(select(Unit).where(or_(*conditions)).order_by(Unit.id)).first()
        if found is None:
            raise NotFound(f"单位 {unit} 不存在或不在您的权限范围内")
    elif principal.unit_id:
        found = session.get(Unit, principal.unit_id)
        if found is None:
            raise NotFound("您所在的单位不存在")
    else:
        roots = session.scalars(select(Unit).where(Unit.parent_id.is_(None)).limit(2)).all()
        if len(roots) != 1:
            count = session.scalar(select(func.count()).select_from(Unit).where(Unit.parent_id.is_(None)))
            raise InvalidInput(f"数据库中有 {count} 个市公司，请用 unit 指定单位（编码或编号）")
        found = roots[0]
    if not principal.covers_path(found.path):  # answered like a unit that does not exist
        raise NotFound(f"单位 {unit} 不存在或不在您的权限范围内")
    return Scope(unit_id=found.id, code=found.code, name=found.name, kind=found.kind)


def monitoring_report(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    start: date | None,
    end: date | None,
    unit: str | None,
) -> dict[str, Any]:
    """The monitoring report as its JSON document, on a snapshot refreshed just before it is read."""
    principal.require(*REPORT_ROLES, action="查看监测报表")
    chosen = period(start, end)
    scope = resolve_unit(session, principal=principal, unit=unit)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with snapshot(settings, engine).open() as (con, refreshed_at):
        return MonitoringReport(con, engine, period=chosen, scope=scope, refreshed_at=refreshed_at).build()
