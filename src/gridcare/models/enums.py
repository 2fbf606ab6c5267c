"""Closed vocabularies of the grid and organisation model, with the Chinese labels users read."""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    city = "city"
    county = "county"
    station = "station"


class AreaClass(StrEnum):
    urban = "urban"
    rural = "rural"
    remote = "remote"


class UsageCategory(StrEnum):
    residential = "residential"
    non_residential = "non_residential"


class VoltageLevel(StrEnum):
    low = "low"
    high = "high"


class Role(StrEnum):
    agent = "agent"
    dispatcher = "dispatcher"
    station_staff = "station_staff"
    manager = "manager"
    auditor = "auditor"
    admin = "admin"


LABELS_ZH: dict[str, str] = {
    UnitKind.city: "市公司",
    UnitKind.county: "县公司",
    UnitKind.station: "供电所",
    AreaClass.urban: "城区",
    AreaClass.rural: "农村",
    AreaClass.remote: "特殊边远",
    UsageCategory.residential: "居民",
    UsageCategory.non_residential: "非居民",
    VoltageLevel.low: "低压",
    VoltageLevel.high: "高压",
    Role.agent: "客户代表",
    Role.dispatcher: "调度员",
    Role.station_staff: "供电所员工",
    Role.manager: "管理人员",
    Role.auditor: "质检",
    Role.admin: "系统管理员",
}


def parse_zh(enum_type: type[StrEnum], text: str) -> StrEnum:
    """Accept either the English value or its Chinese label; raise ValueError naming the choices."""
    raw = text.strip()
    for member in enum_type:
        if raw in (member.value, LABELS_ZH.get(member.value)):
            return member
    choices = "、".join(f"{LABELS_ZH.get(m.value, m.value)}({m.value})" for m in enum_type)
    raise ValueError(f"无法识别的取值“{raw}”，可选：{choices}")
