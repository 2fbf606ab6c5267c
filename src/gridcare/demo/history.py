"""Months of work-order history for the demo province, shaped after docs/domain.md §11.

Complaint shares by category (供电质量 45.14 %, of which 频繁停电 39.04 % of all complaints; 营业
23.29 %; 服务 23.05 %, of which irregular service 17.27 %; 停送电 4.74 %; 电网建设 3.78 %); customers
drawn uniformly so about 40 % urban / 60 % rural; complaints peaking at 19:00, 11:00 and 17:00;
steps late at realistic rates with "contact the customer" the most often late; repeat callers;
hotspot 台区 with complaints month after month. Each order passes its steps with timings computed by
the real policy and calendar; orders still running at the end of the period stay open.
"""

from __future__ import annotations

import bisect
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gridcare.calendar import BEIJING, CountingRule, WorkCalendar
from gridcare.demo.province import AreaPlan
from gridcare.demo.texts import text_for
from gridcare.sla.policy import Rule, match, timing

TYPE_WEIGHTS = {
    "fault_repair": 44,
    "consultation": 24,
    "service_request": 12,
    "complaint": 9,
    "urging": 3,
    "opinion": 3,
    "report": 2,
    "praise": 3,
}
COMPLAINT_WEIGHTS = {
    "TS040101": 39.04,
    "TS040201": 2.80,
    "TS040202": 3.22,
    "TS040301": 0.08,
    "TS020101": 5.5,
    "TS020102": 2.0,
    "TS020201": 2.5,
    "TS020202": 2.0,
    "TS020203": 2.5,
    "TS020301": 1.5,
    "TS020302": 4.0,
    "TS020401": 1.8,
    "TS020402": 0.99,
    "TS020501": 0.5,
    "TS010105": 5.0,
    "TS010106": 5.5,
    "TS010107": 4.0,
    "TS010108": 2.77,
    "TS010101": 1.5,
    "TS010102": 1.5,
    "TS010103": 1.0,
    "TS010104": 0.78,
    "TS010201": 0.6,
    "TS010202": 0.4,
    "TS030101": 1.2,
    "TS030102": 0.8,
    "TS030201": 1.0,
    "TS030301": 0.9,
    "TS030302": 0.4,
    "TS030303": 0.24,
    "TS030304": 0.2,
    "TS050101": 1.8,
    "TS050102": 0.9,
    "TS050103": 1.08,
}
GRID_COMPLAINTS = ("TS040101", "TS040201", "TS040202")  # these cluster in hotspot 台区
FAULT_WEIGHTS = {"lv": 55, "hv": 12, "metering": 10, "non_power": 12, "power_quality": 8, "charging": 3}
REQUEST_WEIGHTS = {
    "arrears_reconnect": 20,
    "appliance_damage": 10,
    "meter_abnormal": 15,
    "meter_data_abnormal": 15,
    "other_request": 40,
}
# Calls by hour of day (Beijing): peaks at 19:00, 11:00 and 17:00 (clear of their neighbours, so a
# small demo shows them too), the valley at night.
HOUR_WEIGHTS = [
    0.8,
    0.5,
    0.3,
    0.3,
    0.3,
    0.5,
    1.2,
    2.5,
    4.0,
    5.5,
    6.0,
    8.2,
    6.0,
    5.0,
    5.6,
    6.0,
    6.3,
    8.0,
    6.0,
    9.0,
    6.5,
    5.0,
    3.4,
    1.8,
]
# Probability that a step finishes after its deadline; contacting the customer is late most often.
LATE = {
    "pending_dispatch": 0.03,
    "pending_accept": 0.04,
    "pending_contact": 0.14,
    "in_progress": 0.06,
    "pending_callback": 0.03,
    "pending_archive": 0.02,
}
SATISFACTION = {
    "very_satisfied": 52,
    "satisfied": 36,
    "neutral": 6,
    "dissatisfied": 4,
    "very_dissatisfied": 1,
    "not_rated": 1,
}
SATISFACTION_COMPLAINT = {
    "very_satisfied": 30,
    "satisfied": 42,
    "neutral": 12,
    "dissatisfied": 11,
    "very_dissatisfied": 4,
    "not_rated": 1,
}
CHANNEL_WEIGHTS = {
    "phone_95598": 62,
    "app": 18,
    "wechat": 9,
    "hall": 4,
    "gov_12345": 3,
    "sms": 1,
    "web": 1,
    "gov_12398": 1,
    "village": 1,
}

ORDER_COLUMNS: tuple[str, ...] = (
    "id",
    "number",
    "business_type",
    "category",
    "complaint_level",
    "urgency",
    "channel",
    "content",
    "anonymous",
    "callback_declined",
    "customer_id",
    "village_id",
    "transformer_area_id",
    "station_id",
    "county_id",
    "area_class",
    "handler_user_id",
    "first_owner_user_id",
    "created_by",
    "accepted_at",
    "step",
    "step_entered_at",
    "step_deadline",
    "step_warn_at",
    "priority",
    "is_repeat",
    "repeat_of_id",
    "urged_order_id",
    "reply",
    "satisfaction",
    "callback_attempts",
    "last_callback_at",
    "archived_at",
    "imported",
    "version",
    "created_at",
    "updated_at",
)
# Event rows are (event id, order id, *gridcare.engine.events.FIELDS): written by the engine's log.
REPLIES = [
    "已现场处理完毕，恢复正常供电",
    "已向客户解释并处理",
    "已安排人员上门核实处理",
    "已更换故障设备",
    "已按规定办理完毕",
]


@dataclass
class Staff:
    agents: list[int]
    dispatcher_of_county: dict[int, int]
    area_manager: dict[int, int]
    county_of_station: dict[int, int]


@dataclass
class HistoryResult:
    orders: int = 0
    events: int = 0
    open_orders: int = 0
    complaints_by_customer: dict[int, int] = field(default_factory=dict)


class _Picker:
    def __init__(self, table: Mapping[str, float]) -> None:
        self.keys = list(table)
        self.cum: list[float] = []
        total = 0.0
        for weight in table.values():
            total += weight
            self.cum.append(total)

    def __call__(self, rng: random.Random) -> str:
        return self.keys[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


class History:
    """Generates order and event rows in time order. `fmt` turns a datetime into what the driver stores."""

    def __init__(
        self,
        *,
        areas: list[AreaPlan],
        staff: Staff,
        rules: list[Rule],
        calendar: WorkCalendar,
        seed: int,
        start: datetime,
        end: datetime,
        orders: int,
        fmt: Any,
    ) -> None:
        self.rng = random.Random(seed * 31 + 5)
        self.areas = areas
        self.first_customer: list[int] = []
        total = 0
        for area in areas:
            self.first_customer.append(total + 1)
            total += area.customers
        self.customers = total
        self.staff = staff
        self.rules = rules
        self.calendar = calendar
        self.start, self.end, self.n = start, end, orders
        self.fmt = fmt
        self.result = HistoryResult()
        self.events: list[tuple[Any, ...]] = []
        self.event_id = 0
        self.hotspots = self._pick_hotspots(max(5, len(areas) // 70))
        self.pick_type = _Picker(TYPE_WEIGHTS)
        self.pick_complaint = _Picker(COMPLAINT_WEIGHTS)
        self.pick_fault = _Picker(FAULT_WEIGHTS)
        self.pick_request = _Picker(REQUEST_WEIGHTS)
        self.pick_channel = _Picker(CHANNEL_WEIGHTS)
        self.pick_satisfaction = _Picker(SATISFACTION)
        self.pick_satisfaction_complaint = _Picker(SATISFACTION_COMPLAINT)
        self.pick_hour = _Picker({str(h): w for h, w in enumerate(HOUR_WEIGHTS)})
        self.recent: dict[tuple[int, str, str | None], tuple[int, datetime]] = {}
        self.recent_complainants: list[tuple[int, str]] = []
        self.last_number: dict[str, int] = {}

    # -- picking ---------------------------------------------------------------------------------
    def _pick_hotspots(self, count: int) -> list[int]:
        """Hotspot 台区, urban and rural in the proportion of their customers, so that complaints
        clustering there keep the urban/rural split of §11."""
        # Only 台区 with customers (a small demo leaves some empty).
        urban = [i for i, a in enumerate(self.areas) if a.area_class == "urban" and a.customers]
        other = [i for i, a in enumerate(self.areas) if a.area_class != "urban" and a.customers]
        urban_customers = sum(self.areas[i].customers for i in urban)
        wanted = round(count * urban_customers / max(1, self.customers))
        chosen = self.rng.sample(urban, min(wanted, len(urban)))
        return chosen + self.rng.sample(other, min(count - len(chosen), len(other)))

    def _area_of(self, customer_id: int) -> AreaPlan:
        return self.areas[bisect.bisect(self.first_customer, customer_id) - 1]

    def _customer(self, category: str | None) -> int:
        rng = self.rng
        if category in GRID_COMPLAINTS and rng.random() < 0.35:
            index = rng.choice(self.hotspots)
            return self.first_customer[index] + rng.randrange(self.areas[index].customers)
        return 1 + rng.randrange(self.customers)

    def _times(self) -> list[datetime]:
        rng = self.rng
        span_days = (self.end - self.start).days
        times = []
        for _ in range(self.n):
            day = self.start.astimezone(BEIJING).date() + timedelta(days=rng.randrange(span_days))
            hour = int(self.pick_hour(rng))
            local = datetime(
                day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=BEIJING
            )
            if local < self.end:
                times.append(local)
        times.sort()
        return times

    # -- steps -----------------------------------------------------------------------------------
    def _timing(
        self, o: dict[str, Any], step: str, entered: datetime
    ) -> tuple[datetime | None, datetime | None]:
        rule = match(
            self.rules,
            business_type=o["business_type"],
            category=o["category"],
            step=step,
            area_class=o["area_class"],
            urgency=o["urgency"],
        )
        t = timing(
            self.calendar,
            rule,
            entered_at=entered,
            accepted_at=o["accepted_at"],
            counting=CountingRule.from_next_day,
        )
        return t.deadline, t.warn_at

    def _leave_at(self, step: str, entered: datetime, deadline: datetime | None) -> datetime:
        rng = self.rng
        if deadline is None or deadline <= entered:  # no limit on this step (or already past it)
            quick = step in ("pending_dispatch", "pending_accept")
            return entered + timedelta(hours=rng.uniform(0.02, 0.5) if quick else rng.uniform(0.3, 20))
        span = deadline - entered
        if rng.random() < LATE.get(step, 0.02):
            return deadline + span * rng.uniform(0.05, 1.2)
        fraction: float = rng.random() ** 1.6
        return entered + span * (fraction * 0.97 + 0.01)

    def _event(
        self,
        o: dict[str, Any],
        at: datetime,
        action: str,
        from_step: str | None,
        to_step: str | None,
        entered: datetime | None,
        deadline: datetime | None,
        actor: int | None,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.event_id += 1
        f = self.fmt
        self.events.append(
            (
                self.event_id,
                o["id"],
                f(at),
                actor,
                action,
                from_step,
                to_step,
                note,
                json.dumps(data, ensure_ascii=False) if data else None,
                f(entered) if entered else None,
                f(deadline) if deadline else None,
                (at > deadline) if deadline and to_step else None,
                o["station_id"],
            )
        )

    def _path(self, o: dict[str, Any]) -> list[tuple[str, str, int | None]]:
        """(action, next step, actor) in order, for this order's type."""
        dispatcher = self.staff.dispatcher_of_county.get(o["county_id"])
        handler = o["handler_user_id"]
        agent = o["first_owner_user_id"]
        bt = o["business_type"]
        if bt == "urging":
            return [("dispatch", "pending_archive", dispatcher), ("archive", "archived", agent)]
        if bt == "consultation" and self.rng.random() < 0.7:
            return [("resolve", "pending_archive", agent), ("archive", "archived", agent)]
        path = [("dispatch", "pending_accept", dispatcher)]
        if self.rng.random() < 0.02:
            path += [("return", "pending_dispatch", handler), ("dispatch", "pending_accept", dispatcher)]
        path += [
            ("accept", "pending_contact", handler),
            ("contact", "in_progress", handler),
            ("reply", "pending_review", handler),
            ("review_pass", "pending_callback", dispatcher),
        ]
        if bt == "praise" or o["anonymous"]:
            path[-1] = ("review_pass", "pending_archive", dispatcher)
        else:
            path.append(("callback", "pending_archive", agent))
        path.append(("archive", "archived", agent))
        return path

    # -- orders ----------------------------------------------------------------------------------
    def _number(self, at: datetime) -> str:
        day = f"{at.astimezone(BEIJING):%Y%m%d}"
        seq = self.last_number.get(day, 0) + 1
        self.last_number[day] = seq
        return f"{day}{seq:06d}"

    def rows(self) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        f = self.fmt
        for order_id, accepted in enumerate(self._times(), start=1):
            bt = self.pick_type(rng)
            category = None
            if bt == "complaint":
                category = self.pick_complaint(rng)
            elif bt == "fault_repair":
                category = self.pick_fault(rng)
            elif bt == "service_request":
                category = self.pick_request(rng)
            if bt == "complaint" and self.recent_complainants and rng.random() < 0.12:
                customer_id, category = rng.choice(self.recent_complainants[-200:])  # calls again
            else:
                customer_id = self._customer(category)
            area = self._area_of(customer_id)
            text_key = category if bt in ("complaint", "service_request") else bt
            o: dict[str, Any] = {
                "id": order_id,
                "business_type": bt,
                "category": category,
                "area_class": area.area_class,
                "urgency": "urgent" if bt == "fault_repair" and rng.random() < 0.3 else "normal",
                "accepted_at": accepted,
                "station_id": area.station_id,
                "county_id": self.staff.county_of_station[area.station_id],
                "handler_user_id": self.staff.area_manager.get(area.id),
                "first_owner_user_id": rng.choice(self.staff.agents),
                "anonymous": bt in ("report",) and rng.random() < 0.5,
            }
            key = (customer_id, bt, category)
            previous = self.recent.get(key)
            repeat_of = previous[0] if previous and accepted - previous[1] <= timedelta(days=30) else None
            self.recent[key] = (order_id, accepted)
            if bt == "complaint":
                self.recent_complainants.append((customer_id, category or ""))
                counts = self.result.complaints_by_customer
                counts[customer_id] = counts.get(customer_id, 0) + 1
            urged = None
            if bt == "urging":
                urged = previous[0] if previous else None
            self._event(o, accepted, "create", None, "pending_dispatch", None, None, o["first_owner_user_id"])
            step, entered = "pending_dispatch", accepted
            deadline, warn = self._timing(o, step, entered)
            reply = satisfaction = last_callback = archived_at = None
            for action, next_step, actor in self._path(o):
                leave = self._leave_at(step, entered, deadline)
                if leave >= self.end:
                    break
                data = None
                if action == "return":
                    data = {"reason": "wrong_unit", "correction": "应由相邻供电所处理"}
                if action in ("reply", "resolve"):
                    reply = rng.choice(REPLIES)
                    data = {"reply": reply}
                if action == "callback":
                    satisfaction = (
                        self.pick_satisfaction_complaint if bt == "complaint" else self.pick_satisfaction
                    )(rng)
                    last_callback = leave
                    data = {"satisfaction": satisfaction}
                if action == "archive":
                    archived_at = leave
                self._event(o, leave, action, step, next_step, entered, deadline, actor, data=data)
                step, entered = next_step, leave
                deadline, warn = self._timing(o, step, entered) if step != "archived" else (None, None)
            is_open = step != "archived"
            breached = bool(is_open and deadline is not None and deadline < self.end)
            if breached and deadline is not None:
                self._event(o, deadline, "breach", step, None, entered, deadline, None)
            self.result.orders += 1
            self.result.open_orders += is_open
            updated = max(entered, accepted)
            yield (
                order_id,
                self._number(accepted),
                bt,
                category,
                rng.choice(["general", "general", "general", "important"]) if bt == "complaint" else None,
                o["urgency"],
                self.pick_channel(rng),
                text_for(rng, text_key or bt),
                o["anonymous"],
                False,
                None if o["anonymous"] else customer_id,
                area.village_id,
                area.id,
                area.station_id,
                o["county_id"],
                area.area_class,
                o["handler_user_id"],
                o["first_owner_user_id"],
                o["first_owner_user_id"],
                f(accepted),
                step,
                f(entered),
                f(deadline) if deadline else None,
                f(warn) if warn else None,
                1 if bt != "urging" and rng.random() < 0.03 else 0,
                repeat_of is not None,
                repeat_of,
                urged,
                reply,
                satisfaction,
                1 if last_callback else 0,
                f(last_callback) if last_callback else None,
                f(archived_at) if archived_at else None,
                False,
                1,
                f(accepted),
                f(updated),
            )

    def take_events(self) -> list[tuple[Any, ...]]:
        events, self.events = self.events, []
        self.result.events += len(events)
        return events
