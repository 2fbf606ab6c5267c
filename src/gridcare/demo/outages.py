"""Demo outages: a year of restored outages on the feeders (for the watch list and the reliability
figures), and a few current ones entered through the service (a fault on now, planned work announced
for next week, one still to announce), so the pages and intake show what a user would meet."""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session

from gridcare.auth.principal import SYSTEM
from gridcare.config import Settings
from gridcare.models import (
    BranchSwitch,
    Customer,
    Feeder,
    Outage,
    OutageScopeItem,
    Substation,
    TransformerArea,
)
from gridcare.outages import service
from gridcare.outages.schemas import OutageCreate, OutageScope

HISTORY_TITLE = "历史停电"
CAUSES = {
    "fault": ["线路故障", "树障放电", "雷击跳闸", "外力破坏", "设备老化故障"],
    "planned": ["计划检修", "线路改造", "配变增容"],
    "temporary": ["临时消缺", "设备缺陷处理"],
}


def outage_history(
    conn: Connection,
    *,
    seed: int,
    now: datetime,
    per_feeder: tuple[int, int],
    skip_feeders: Collection[int] = (),
) -> tuple[int, int]:
    """Restored outages on every feeder over the last 12 months, with the customers they reached
    (bulk inserts); (outages, customer interruptions)."""
    rng = random.Random(seed)
    feeders = conn.execute(select(Feeder.id, Substation.county_id).join(Substation).order_by(Feeder.id)).all()
    rows, scope = [], []
    next_id = int(conn.execute(select(func.coalesce(func.max(Outage.id), 0))).scalar() or 0) + 1

    for feeder_id, county_id in feeders:
        if feeder_id in skip_feeders:
            continue
        for _ in range(rng.randint(*per_feeder)):
            kind = rng.choice(("fault", "fault", "fault", "planned", "temporary"))
            start = now - timedelta(days=rng.uniform(1, 364))
            end = start + timedelta(hours=rng.uniform(0.5, 8) if kind == "fault" else rng.choice((4, 6, 8)))
            cause = rng.choice(CAUSES[kind])
            rows.append(
                {
                    "id": next_id,
                    "number": f"TD{start:%Y%m%d}{next_id:06d}",
                    "kind": kind,
                    "status": "closed",
                    "title": HISTORY_TITLE,
                    "cause": cause,
                    "cause_class": "disaster" if cause == "雷击跳闸" and rng.random() < 0.2 else "company",
                    "momentary": False,
                    "area_text": "线路供电范围",
                    "county_id": county_id,
                    "planned_start": start,
                    "planned_end": end,
                    "actual_start": start,
                    "actual_end": end,
                    "expected_restore_at": end,
                    "announced_at": start - timedelta(days=7) if kind == "planned" else start,
                    "affected_customers": 0,
                    "affected_areas": 0,
                    "created_at": start,
                    "updated_at": end,
                    "version": 1,
                }
            )
            scope.append({"outage_id": next_id, "element": "feeder", "element_id": feeder_id})
            next_id += 1
    if not rows:
        return 0, 0
    conn.execute(insert(Outage), rows)
    conn.execute(insert(OutageScopeItem), scope)
    first = rows[0]["id"]
    conn.execute(
        text(
            "INSERT INTO outage_customers (outage_id, customer_id, transformer_area_id, is_important) "
            "SELECT si.outage_id, c.id, c.transformer_area_id, c.is_important FROM outage_scope_items si "
            "JOIN transformer_areas t ON t.feeder_id = si.element_id "
            "JOIN customers c ON c.transformer_area_id = t.id "
            "WHERE si.element = 'feeder' AND si.outage_id >= :first"
        ),
        {"first": first},
    )
    conn.execute(
        text(
            "INSERT INTO outage_stations (outage_id, station_id) "
            "SELECT DISTINCT oc.outage_id, t.station_id FROM outage_customers oc "
            "JOIN transformer_areas t ON t.id = oc.transformer_area_id WHERE oc.outage_id >= :first"
        ),
        {"first": first},
    )
    conn.execute(
        text(
            "UPDATE outages SET affected_customers = (SELECT count(*) FROM outage_customers oc "
            "WHERE oc.outage_id = outages.id), affected_areas = (SELECT count(DISTINCT transformer_area_id) "
            "FROM outage_customers oc WHERE oc.outage_id = outages.id) WHERE id >= :first"
        ),
        {"first": first},
    )
    links = conn.execute(
        text("SELECT count(*) FROM outage_customers WHERE outage_id >= :first"), {"first": first}
    )
    return len(rows), int(links.scalar() or 0)


def current_outages(session: Session, settings: Settings, *, now: datetime) -> int:
    """A fault on now, planned work announced for next week, and one planned still to announce."""
    # Only grid elements with customers behind them (a small demo leaves some feeders empty).
    served = select(TransformerArea.id).where(
        TransformerArea.id.in_(select(Customer.transformer_area_id).distinct())
    )
    switches = session.scalars(
        select(BranchSwitch.id)
        .where(
            BranchSwitch.id.in_(
                select(TransformerArea.branch_switch_id).where(TransformerArea.id.in_(served))
            )
        )
        .order_by(BranchSwitch.id)
        .limit(2)
    ).all()
    feeders = session.scalars(
        select(Feeder.id)
        .where(Feeder.id.in_(select(TransformerArea.feeder_id).where(TransformerArea.id.in_(served))))
        .order_by(Feeder.id)
        .limit(3)
    ).all()
    if len(feeders) < 3:
        return 0
    made = 0
    fault = service.create(
        session,
        principal=SYSTEM,
        settings=settings,
        data=OutageCreate(
            kind="fault",
            title="10kV线路故障停电",
            cause="线路遭外力破坏",
            scope=OutageScope(feeders=[feeders[0]]),
            planned_start=now - timedelta(hours=1),
            planned_end=now + timedelta(hours=3),
        ),
        now=now - timedelta(minutes=50),
    )
    made += 1 if fault else 0
    week = (now + timedelta(days=9)).replace(hour=0, minute=30, second=0, microsecond=0)  # 08:30 Beijing
    planned = service.create(
        session,
        principal=SYSTEM,
        settings=settings,
        data=OutageCreate(
            kind="planned",
            title="配网线路检修",
            cause="更换老旧导线、消除线路缺陷",
            scope=OutageScope(
                branch_switches=list(switches[:1]) or [], feeders=[] if switches else [feeders[1]]
            ),
            planned_start=week,
            planned_end=week + timedelta(hours=8),
        ),
        now=now,
    )
    service.announce(
        session,
        principal=SYSTEM,
        settings=settings,
        outage_id=planned.id,
        version=planned.version,
        now=now,
    )
    made += 1
    later = week + timedelta(days=5)
    service.create(
        session,
        principal=SYSTEM,
        settings=settings,
        data=OutageCreate(
            kind="planned",
            title="10kV线路改造",
            cause="配网线路改造",
            scope=OutageScope(feeders=[feeders[2]]),
            planned_start=later,
            planned_end=later + timedelta(hours=6),
        ),
        now=now,
    )
    return made + 1
