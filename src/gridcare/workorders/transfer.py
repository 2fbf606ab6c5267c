"""Import of work orders exported from a 95598 system (CSV or XLSX; Chinese headers or English names).

All or nothing: every row is checked first; if any is wrong, the errors (row, column, reason) are
returned and nothing is written. Rows are keyed by 工单编号: an order already stored is left as it is,
so importing the same file again changes nothing.

What the file names but the database lacks is created from the file and marked `imported`: the city,
county and station (供电单位), one village per station and area class (城乡类别), 台区 and customers;
complaint categories below a known first level. Step timestamps (派单时间 … 归档时间) become the
order's events, each step with the deadline the time-limit policy gives it, so imported history feeds
the step and overdue statistics like orders taken here.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from gridcare.audit.service import record
from gridcare.auth.principal import Principal
from gridcare.bulk import insert_rows, stored_value
from gridcare.calendar import BEIJING, CountingRule
from gridcare.config import Settings
from gridcare.customers.schemas import ACCOUNT_NO_PATTERN, PHONE_PATTERN, normalise_phone
from gridcare.customers.transfer import lookup_codes
from gridcare.errors import InvalidInput
from gridcare.models import CatalogItem, Customer, TransformerArea, Unit, Village, WorkOrder
from gridcare.models.enums import LABELS_ZH, AreaClass, Role, UsageCategory, parse_zh
from gridcare.models.types import utcnow
from gridcare.sla.calendar_store import current_calendar
from gridcare.sla.policy import Rule, all_versions, match, rules, timing
from gridcare.tabular import iter_chunks, read_table, resolve_columns
from gridcare.workorders.defaults import BUSINESS_TYPES
from gridcare.workorders.process import LOG
from gridcare.workorders.steps import arm_open_orders

IMPORT_ROLES = (Role.admin,)
MAX_REPORTED_ERRORS = 1000

# field -> accepted headers; the first is the Chinese header of docs/domain.md §12.
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("工单编号", "ID", "ORDER_NO"),
    "business_type": ("业务类型", "BUSI_TYPE_CODE", "BUSI_TYPE"),
    "accepted_at": ("受理时间", "HANDLE_TIME", "ACCEPT_TIME"),
    "account_no": ("户号", "CUST_NO"),
    "customer_name": ("客户名称", "CUST_NAME"),
    "phone": ("联系电话", "PHONE"),
    "address": ("用电地址", "ELEC_ADDR"),
    "content": ("受理内容", "ACCEPT_CONTENT"),
    "station": ("供电单位", "ORG_NO"),
    "county": ("县公司", "COUNTY_ORG_NO"),
    "city": ("市公司", "CITY_ORG_NO"),
    "area_class": ("城乡类别", "URBAN_RURAL_FLAG"),
    "transformer_area": ("台区编号", "TG_NO"),
    "transformer_area_name": ("台区名称", "TG_NAME"),
    "usage_category": ("用电类别", "ELEC_TYPE"),
    "l1": ("一级分类", "CATEGORY_L1"),
    "l2": ("二级分类", "CATEGORY_L2"),
    "l3": ("三级分类", "CATEGORY_L3"),
    "dispatched_at": ("派单时间", "DISPATCH_TIME"),
    "station_accepted_at": ("接单时间", "RECEIVE_TIME"),
    "contacted_at": ("联系客户时间", "CONTACT_TIME"),
    "replied_at": ("回单时间", "REPLY_TIME"),
    "callback_at": ("回访时间", "CALLBACK_TIME"),
    "reply": ("处理结果", "HANDLE_RESULT"),
    "satisfaction": ("回访满意度", "SATISFACTION"),
    "archived_at": ("归档时间", "ARCHIVE_TIME"),
}
REQUIRED = ("number", "business_type", "accepted_at", "station")
# Order values that refer to rows the import may create (filled in at write time).
REFERENCES = ("customer_id", "transformer_area_id", "village_id", "station_id", "county_id")
EVENT_KEYS = ("at", "action", "from_step", "to_step", "data", "step_entered_at", "step_deadline", "step_late")


def event_row(order_id: int, station_id: int, e: list[Any]) -> list[Any]:
    """An imported event (EVENT_KEYS values) as the engine's log takes it: (order, *events.FIELDS);
    imported events have no actor and no note, and belong to the order's station."""
    at, action, from_step, to_step, data, entered, deadline, late = e
    return [order_id, at, None, action, from_step, to_step, None, data, entered, deadline, late, station_id]


# The same limits as the API and the database columns: a longer value is a row error, never stored.
FIELD_LIMITS = {
    "content": 4000,
    "reply": 4000,
    "customer_name": 100,
    "address": 255,
    "phone": 20,
    "station": 100,
    "county": 100,
    "city": 100,
    "transformer_area": 32,
    "transformer_area_name": 100,
    "l1": 100,
    "l2": 100,
    "l3": 100,
}

# (timestamp field, action, step left, step entered); a missing timestamp skips its action.
STEP_TIMES: tuple[tuple[str, str, str], ...] = (
    ("dispatched_at", "dispatch", "pending_accept"),
    ("station_accepted_at", "accept", "pending_contact"),
    ("contacted_at", "contact", "in_progress"),
    ("replied_at", "reply", "pending_review"),
    ("replied_at", "review_pass", "pending_callback"),
    ("callback_at", "callback", "pending_archive"),
    ("archived_at", "archive", "archived"),
)
TYPE_ALIASES = {"服务申请": "service_request", "意见": "opinion", "建议": "opinion", "咨询": "consultation"}
AREA_ALIASES = {"城市": "urban", "城镇": "urban", "乡村": "rural", "边远": "remote", "特殊边远地区": "remote"}
SATISFACTION_NAMES = {
    "非常满意": "very_satisfied",
    "满意": "satisfied",
    "一般": "neutral",
    "不满意": "dissatisfied",
    "非常不满意": "very_dissatisfied",
    "不评价": "not_rated",
    "未评价": "not_rated",
}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S")


@dataclass
class OrderImportResult:
    rows: int = 0
    inserted: int = 0
    existing: int = 0
    created: dict[str, int] = field(default_factory=dict)


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    business_type: str = ""
    accepted_at: datetime = datetime.min
    times: dict[str, datetime] = field(default_factory=dict)
    area_class: str | None = None
    satisfaction: str | None = None


def parse_time(text: str) -> datetime:
    """A Beijing wall-clock time as exports write it; returned as an aware datetime."""
    raw = text.strip().replace("T", " ")
    if "." in raw:
        raw = raw.split(".", 1)[0]
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=BEIJING)
        except ValueError:
            continue
    raise ValueError(f"时间“{text}”无法识别，应为 YYYY-MM-DD HH:MM[:SS]")


def _business_type(text: str) -> str:
    raw = text.strip()
    for code, name in BUSINESS_TYPES:
        if raw in (code, name):
            return code
    if raw in TYPE_ALIASES:
        return TYPE_ALIASES[raw]
    names = "、".join(name for _, name in BUSINESS_TYPES)
    raise ValueError(f"业务类型“{raw}”无法识别，可选：{names}")


def _area_class(text: str) -> str:
    raw = text.strip()
    if raw in AREA_ALIASES:
        return AREA_ALIASES[raw]
    return parse_zh(AreaClass, raw).value


class _Importer:
    def __init__(self, session: Session, principal: Principal, settings: Settings, path: Path) -> None:
        self.session = session
        self.principal = principal
        self.settings = settings
        self.path = path
        self.errors: list[dict[str, Any]] = []
        self.created: dict[str, int] = {}
        self.columns: dict[str, str] = {}
        # What the file names but the database lacks, unsaved until every row has passed (see _save_new).
        self.pending: list[Any] = []
        self.persisted: set[Unit] = set()
        self.new_units: dict[tuple[str, str, int], Unit] = {}
        self.parent_of: dict[int, Unit | None] = {}
        self.station_of: dict[int, Unit] = {}
        self.area_links: dict[int, tuple[Unit, Village]] = {}
        self.customer_area: dict[int, TransformerArea] = {}
        self.item_parent: dict[int, CatalogItem] = {}
        self.siblings: dict[int, int] = {}

    def error(self, row: _Row, field_name: str, reason: str) -> None:
        header = self.columns.get(field_name, COLUMNS[field_name][0])
        self.errors.append({"row": row.line, "field": header, "reason": reason})

    # -- check ------------------------------------------------------------------------------------
    def parse(self) -> list[_Row]:
        table = read_table(self.path)
        self.columns = resolve_columns(table.headers, COLUMNS, REQUIRED)
        rows: list[_Row] = []
        first_row_of: dict[str, int] = {}
        for line, raw in table.rows:
            values = {f: raw.get(h, "").strip() for f, h in self.columns.items()}
            row = _Row(line, values)
            before = len(self.errors)
            for name in REQUIRED:
                if not values.get(name):
                    self.error(row, name, "必填项为空")
            self._parse_values(row)
            account = values.get("account_no", "")
            if account and not re.fullmatch(ACCOUNT_NO_PATTERN, account):
                self.error(row, "account_no", f"户号“{account}”格式不正确（应为 6–20 位数字）")
            for name, limit in FIELD_LIMITS.items():
                if len(values.get(name, "")) > limit:
                    self.error(row, name, f"内容过长（{len(values[name])} 字，最多 {limit} 字）")
            phone = normalise_phone(values.get("phone")) or ""
            if phone and not re.fullmatch(PHONE_PATTERN, phone):
                self.error(row, "phone", f"联系电话“{values['phone'][:20]}”格式不正确")
            elif phone:
                values["phone"] = phone
            number = values.get("number", "")
            if number and len(number) > 24:
                self.error(row, "number", "工单编号过长（最多 24 个字符）")
            elif number in first_row_of:
                self.error(row, "number", f"工单编号 {number} 与第 {first_row_of[number]} 行重复")
            elif number:
                first_row_of[number] = line
            if len(self.errors) == before:
                rows.append(row)
        return rows

    def _parse_values(self, row: _Row) -> None:
        values = row.values
        checks: list[tuple[str, Callable[[], None]]] = [
            ("business_type", lambda: setattr(row, "business_type", _business_type(values["business_type"]))),
            ("accepted_at", lambda: setattr(row, "accepted_at", parse_time(values["accepted_at"]))),
        ]
        if values.get("area_class"):
            checks.append(
                ("area_class", lambda: setattr(row, "area_class", _area_class(values["area_class"])))
            )
        if values.get("usage_category"):

            def usage() -> None:
                parse_zh(UsageCategory, values["usage_category"])

            checks.append(("usage_category", usage))
        for name, check in checks:
            if values.get(name):
                try:
                    check()
                except ValueError as exc:
                    self.error(row, name, str(exc))
        previous_name, previous = "accepted_at", row.accepted_at
        for name, _, _ in STEP_TIMES:
            if not values.get(name) or name in row.times:
                continue
            try:
                at = parse_time(values[name])
            except ValueError as exc:
                self.error(row, name, str(exc))
                continue
            if previous != datetime.min and at < previous:
                other = self.columns.get(previous_name, COLUMNS[previous_name][0])
                self.error(row, name, f"早于{other}（{values[previous_name]}）")
            row.times[name] = at
            previous_name, previous = name, at
        if values.get("satisfaction"):
            level = SATISFACTION_NAMES.get(values["satisfaction"])
            if level is None:
                self.error(
                    row,
                    "satisfaction",
                    f"回访满意度“{values['satisfaction']}”无法识别，可选：{'、'.join(SATISFACTION_NAMES)}",
                )
            row.satisfaction = level

    # -- places -----------------------------------------------------------------------------------
    # Nothing is written while the file is checked and planned: what must be created (units,
    # villages, 台区, customers, categories) waits as unsaved objects, and the orders refer to them.
    # `_save_new` writes them in dependency order once every row has passed, just before the orders:
    # the database's write lock (SQLite) is held for the writing only, not for the checking.
    def _count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    def _new(self, obj: Any, kind: str) -> Any:
        self.pending.append(obj)
        self._count(kind)
        return obj

    def _unit(self, text: str, kind: str, parent: Unit | None) -> Unit:
        """The unit with this code or name (under `parent` if given), created if missing."""
        made = self.new_units.get((kind, text, id(parent)))
        if made is not None:
            return made
        if parent is None or parent in self.persisted:
            stmt = select(Unit).where((Unit.code == text) | (Unit.name == text), Unit.kind == kind)
            if parent is not None:
                stmt = stmt.where(Unit.path.startswith(parent.path, autoescape=True))
            found = self.session.scalars(stmt.order_by(Unit.id)).first()
            if found is not None:
                self.persisted.add(found)
                return found
        code = (
            text
            if len(text) <= 32 and text.isascii()
            else f"IMP-{kind[:2].upper()}-{zlib.crc32(text.encode()):08x}"
        )
        unit = Unit(code=code, name=text, kind=kind, path="", imported=True)
        self.parent_of[id(unit)] = parent
        self.new_units[(kind, text, id(parent))] = unit
        self._new(unit, kind)
        return unit

    def _root(self, row: _Row) -> Unit:
        if row.values.get("city"):
            return self._unit(row.values["city"], "city", None)
        roots = self.session.scalars(select(Unit).where(Unit.parent_id.is_(None)).limit(2)).all()
        if len(roots) == 1:
            self.persisted.add(roots[0])
            return roots[0]
        return self._unit("导入数据市公司", "city", None)

    def _station(self, row: _Row, cache: dict[tuple[str, str, str], Unit]) -> Unit:
        key = (row.values.get("city", ""), row.values.get("county", ""), row.values["station"])
        if key in cache:
            return cache[key]
        existing = self.session.scalars(
            select(Unit)
            .where((Unit.code == key[2]) | (Unit.name == key[2]), Unit.kind == "station")
            .order_by(Unit.id)
        ).first()
        if existing is not None and not key[0] and not key[1]:
            self.persisted.add(existing)
            cache[key] = existing
            return existing
        city = self._root(row)
        county = self._unit(key[1] or f"{city.name}（未指明县公司）", "county", city)
        station = self._unit(key[2], "station", county)
        cache[key] = station
        return station

    def _covers(self, station: Unit) -> bool:
        """Whether the importing user may import into this station (new units: under their own)."""
        unit: Unit | None = station
        while unit is not None and unit not in self.persisted:
            unit = self.parent_of.get(id(unit))
        if unit is None:  # a new city: only a user who covers everything
            return self.principal.covers_all
        return self.principal.covers_path(unit.path)

    def _village(self, station: Unit, area_class: str, cache: dict[tuple[int, str], Village]) -> Village:
        key = (id(station), area_class)
        if key not in cache:
            village = None
            if station in self.persisted:
                village = self.session.scalars(
                    select(Village).where(Village.code == f"IMP-{station.id}-{area_class}")
                ).first()
            if village is None:
                village = Village(
                    code="",  # IMP-<station id>-<class>, once the station has its id
                    name=f"{station.name}{LABELS_ZH[area_class]}（导入）",
                    area_class=area_class,
                    imported=True,
                )
                self.station_of[id(village)] = station
                self._new(village, "village")
            cache[key] = village
        return cache[key]

    def _item_key(self, parent: CatalogItem | None) -> object:
        if parent is None:
            return None
        return parent.id if parent.id is not None else ("new", id(parent))

    def _category(self, row: _Row, items: dict[tuple[object, str], CatalogItem]) -> CatalogItem | None:
        names = [row.values.get(level, "") for level in ("l1", "l2", "l3")]
        names = [n for n in names if n]
        if not names:
            return None
        kind = {
            "complaint": "complaint_category",
            "fault_repair": "fault_kind",
            "service_request": "request_kind",
        }
        catalog = kind.get(row.business_type)
        if catalog is None:
            return None
        if catalog != "complaint_category":
            for name in reversed(names):
                for known in items.values():
                    if known.kind == catalog and name in (known.name, known.code):
                        return known
            return None
        parent: CatalogItem | None = None
        for level, name in enumerate(names, start=1):
            key = (self._item_key(parent), name)
            item: CatalogItem | None = items.get(key)
            if item is None:
                if parent is None:
                    tops = "、".join(i.name for (p, _), i in items.items() if p is None and i.kind == catalog)
                    self.error(row, "l1", f"一级分类“{name}”不存在，可选：{tops}")
                    return None
                siblings = self.siblings.get(id(parent))
                if siblings is None:
                    siblings = (
                        self.session.scalar(
                            select(func.count())
                            .select_from(CatalogItem)
                            .where(CatalogItem.parent_id == parent.id)
                        )
                        or 0
                        if parent.id is not None
                        else 0
                    )
                self.siblings[id(parent)] = siblings + 1
                item = CatalogItem(
                    kind=catalog, code=f"{parent.code}{siblings + 51:02d}", name=name, level=level, sort=999
                )
                self.item_parent[id(item)] = parent
                items[key] = item
                self._new(item, "complaint_category")
            parent = item
        return parent

    def _save_new(self) -> None:
        """Write what the file named but the database lacked, parents first, and give each its ids:
        units one by one (a unit's path holds its id), then villages, 台区, customers and categories
        each in one batch."""
        for unit in (o for o in self.pending if isinstance(o, Unit)):
            parent = self.parent_of.get(id(unit))
            unit.parent_id = parent.id if parent is not None else None
            self.session.add(unit)
            self.session.flush()
            unit.path = f"{parent.path if parent is not None else '/'}{unit.id}/"
        for village in (o for o in self.pending if isinstance(o, Village)):
            station = self.station_of[id(village)]
            village.station_id = station.id
            village.code = f"IMP-{station.id}-{village.area_class}"
            self.session.add(village)
        self.session.flush()
        for area in (o for o in self.pending if isinstance(o, TransformerArea)):
            station, village = self.area_links[id(area)]
            area.station_id, area.village_id = station.id, village.id
            self.session.add(area)
        self.session.flush()
        for customer in (o for o in self.pending if isinstance(o, Customer)):
            area = self.customer_area[id(customer)]
            customer.transformer_area_id, customer.station_id = area.id, area.station_id
            customer.village_id = area.village_id
            self.session.add(customer)
        self.session.flush()
        for level in (2, 3):  # a new category's parent is a known one or a new one a level up
            for item in (o for o in self.pending if isinstance(o, CatalogItem) and o.level == level):
                item.parent_id = self.item_parent[id(item)].id
                self.session.add(item)
            self.session.flush()

    # -- write ------------------------------------------------------------------------------------
    def run(self) -> OrderImportResult:
        rows = self.parse()
        result = OrderImportResult(rows=len(rows) + len({e["row"] for e in self.errors}))
        numbers = [r.values["number"] for r in rows]
        existing: set[str] = set()
        for chunk in iter_chunks(numbers, 500):
            existing.update(self.session.scalars(select(WorkOrder.number).where(WorkOrder.number.in_(chunk))))
        fresh = [r for r in rows if r.values["number"] not in existing]
        result.existing = len(rows) - len(fresh)
        areas: dict[str, TransformerArea] = lookup_codes(
            self.session,
            TransformerArea,
            {r.values["transformer_area"] for r in fresh if r.values.get("transformer_area")},
        )
        customers: dict[str, Customer] = {
            c.account_no: c
            for chunk in iter_chunks(
                sorted({r.values["account_no"] for r in fresh if r.values.get("account_no")}), 500
            )
            for c in self.session.scalars(select(Customer).where(Customer.account_no.in_(chunk)))
        }
        items: dict[tuple[object, str], CatalogItem] = {
            (i.parent_id, i.name): i
            for i in self.session.scalars(
                select(CatalogItem).where(
                    CatalogItem.kind.in_(("complaint_category", "fault_kind", "request_kind"))
                )
            )
        }
        villages: dict[int, Village] = {}
        station_cache: dict[tuple[str, str, str], Unit] = {}
        village_cache: dict[tuple[int, str], Village] = {}
        planned: list[tuple[_Row, dict[str, Any]]] = []
        for row in fresh:
            before = len(self.errors)
            station = self._station(row, station_cache)
            if not self._covers(station):
                self.error(row, "station", f"供电单位“{station.name}”不在您的权限范围内")
                continue
            customer = customers.get(row.values.get("account_no", ""))
            area = areas.get(row.values.get("transformer_area", ""))
            if customer is not None and area is None:
                if id(customer) in self.customer_area:  # created by an earlier row of this file
                    area = self.customer_area[id(customer)]
                elif customer.transformer_area_id is not None:
                    area = self.session.get(TransformerArea, customer.transformer_area_id)
            village = None
            if area is not None and area.village_id:
                village = villages.get(area.village_id) or self.session.get(Village, area.village_id)
                if village is not None:
                    villages[village.id] = village
            elif area is not None and id(area) in self.area_links:
                village = self.area_links[id(area)][1]
            area_class = row.area_class or (village.area_class if village else None)
            if area_class is None:
                self.error(row, "area_class", "城乡类别为空，且无法由台区得知")
                continue
            if area is None and row.values.get("transformer_area"):
                village = self._village(station, area_class, village_cache)
                area = TransformerArea(
                    code=row.values["transformer_area"],
                    name=row.values.get("transformer_area_name") or row.values["transformer_area"],
                    imported=True,
                )
                self.area_links[id(area)] = (station, village)
                areas[area.code] = self._new(area, "transformer_area")
            if customer is None and row.values.get("account_no"):
                if area is None:
                    self.error(row, "transformer_area", "新客户需要台区编号")
                    continue
                customer = Customer(
                    account_no=row.values["account_no"],
                    name=row.values.get("customer_name") or "（导入）",
                    phone=row.values.get("phone") or None,
                    address=row.values.get("address") or "（未知）",
                    usage_category=parse_zh(UsageCategory, row.values["usage_category"]).value
                    if row.values.get("usage_category")
                    else "residential",
                    imported=True,
                )
                self.customer_area[id(customer)] = area
                customers[customer.account_no] = self._new(customer, "customer")
            category = self._category(row, items)
            if len(self.errors) > before:
                continue
            order_station: Unit | None = station
            if area is not None and id(area) in self.area_links:
                order_station = self.area_links[id(area)][0]
            elif area is not None:
                order_station = self.session.get(Unit, area.station_id)
            assert order_station is not None
            if order_station is not station and not self._covers(order_station):
                # The order goes to the station of its customer's 台区, which must be the user's too.
                self.error(row, "account_no", f"客户所在供电单位“{order_station.name}”不在您的权限范围内")
                continue
            planned.append(
                (
                    row,
                    {
                        "number": row.values["number"],
                        "business_type": row.business_type,
                        "category": category.code if category else None,
                        "urgency": "normal",
                        "channel": "phone_95598",
                        "content": row.values.get("content") or "（导入工单，无受理内容）",
                        "contact_name": row.values.get("customer_name") or None,
                        "contact_phone": row.values.get("phone") or None,
                        "customer_id": customer,
                        "address": row.values.get("address") or None,
                        "village_id": area,  # the area's village, once written
                        "transformer_area_id": area,
                        "station_id": order_station,
                        "county_id": order_station,  # its county, once written
                        "area_class": area_class,
                        "reply": row.values.get("reply") or None,
                        "satisfaction": row.satisfaction,
                        "imported": True,
                    },
                )
            )
        if self.errors:
            return result
        order_rows = self._plan(planned)  # deadlines and repeats: computed before anything is written
        self._convert(order_rows)
        self._save_new()
        self._write(order_rows)
        result.inserted = len(planned)
        result.created = self.created
        return result

    def _plan(self, planned: list[tuple[_Row, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Each order's steps with their deadlines (the time-limit policy on the working-day calendar)
        and its repeat link: all computed in memory, before the write."""
        session = self.session
        calendar = current_calendar(session)
        counting = CountingRule(self.settings.workday_counting)
        repeat_window = timedelta(days=self.settings.repeat_window_days)
        last_of: dict[tuple[int, str, str | None], tuple[str, datetime]] = {}
        order_rows: list[dict[str, Any]] = []
        now = utcnow()
        versions = all_versions(session)
        for row, values in sorted(planned, key=lambda p: p[0].accepted_at):
            accepted = row.accepted_at
            version = versions.at(accepted)
            candidates = rules(session, version) if version else []

            def limit(
                step: str,
                entered: datetime,
                values: dict[str, Any] = values,
                accepted: datetime = accepted,
                candidates: list[Rule] = candidates,
            ) -> tuple[datetime | None, datetime | None, int | None]:
                rule = match(
                    candidates,
                    business_type=values["business_type"],
                    category=values["category"],
                    step=step,
                    area_class=values["area_class"],
                    urgency="normal",
                )
                t = timing(calendar, rule, entered_at=entered, accepted_at=accepted, counting=counting)
                return t.deadline, t.warn_at, t.missing_year

            step, entered = "pending_dispatch", accepted
            deadline, warn, missing = limit(step, entered)
            # Every event row has the same keys: one executemany for all of them, not one per key set.
            events: list[dict[str, Any]] = [
                {
                    "at": accepted,
                    "action": "create",
                    "from_step": None,
                    "to_step": step,
                    "data": None,
                    "step_entered_at": None,
                    "step_deadline": None,
                    "step_late": None,
                }
            ]
            for name, action, target in STEP_TIMES:
                at = row.times.get(name)
                if at is None:
                    continue
                data: dict[str, Any] | None = None
                if action == "callback" and row.satisfaction:
                    data = {"satisfaction": row.satisfaction}
                elif action == "reply" and values.get("reply"):
                    data = {"reply": values["reply"]}
                events.append(
                    {
                        "at": at,
                        "action": action,
                        "from_step": step,
                        "to_step": target,
                        "data": data,
                        "step_entered_at": entered,
                        "step_deadline": deadline,
                        "step_late": (at > deadline) if deadline else None,
                    }
                )
                step, entered = target, at
                deadline, warn, missing = limit(step, entered) if step != "archived" else (None, None, None)
            customer = values["customer_id"]
            key = (id(customer) if customer is not None else 0, values["business_type"], values["category"])
            earlier = last_of.get(key) if customer is not None else None
            if customer is not None:
                last_of[key] = (values["number"], accepted)
            repeat = earlier is not None and accepted - earlier[1] <= repeat_window
            order_rows.append(
                {
                    **values,
                    "accepted_at": accepted,
                    "created_at": accepted,
                    "updated_at": now,
                    "step": step,
                    "step_entered_at": entered,
                    "step_deadline": deadline,
                    "step_warn_at": warn,
                    "calendar_missing_year": missing,
                    "policy_version_id": version,
                    "is_repeat": repeat,
                    "_repeat_of": earlier[0] if repeat and earlier else None,
                    "_events": events,
                    "anonymous": False,
                    "callback_declined": False,
                    "priority": 0,
                    "version": 1,
                    "callback_attempts": 1 if "callback_at" in row.times else 0,
                    "last_callback_at": row.times.get("callback_at"),
                    "archived_at": row.times.get("archived_at"),
                }
            )
        return order_rows

    def _convert(self, order_rows: list[dict[str, Any]]) -> None:
        """Values as the driver takes them (what the column types would do), before the write."""
        value = stored_value(self.session.get_bind().dialect.name)
        for r in order_rows:
            for c, v in r.items():
                if c not in REFERENCES and not c.startswith("_"):
                    r[c] = value(v)
            r["_events"] = [[value(e[k]) for k in EVENT_KEYS] for e in r["_events"]]

    def _write(self, order_rows: list[dict[str, Any]]) -> None:
        """The orders and their events, straight to the driver (executemany on SQLite, COPY on
        PostgreSQL). Values were converted for the driver while planning; here only the ids of what
        was just created are filled in: the write holds SQLite's lock for as short a time as it can."""
        if not order_rows:
            return
        session = self.session
        connection = session.connection()
        columns = [c for c in order_rows[0] if not c.startswith("_")]

        def resolved(r: dict[str, Any]) -> list[Any]:
            customer, area, station = r["customer_id"], r["transformer_area_id"], r["station_id"]
            ids = {
                "customer_id": customer.id if customer is not None else None,
                "transformer_area_id": area.id if area is not None else None,
                "village_id": area.village_id if area is not None else None,
                "station_id": station.id,
                "county_id": station.parent_id or station.id,
            }
            return [ids[c] if c in ids else r[c] for c in columns]

        insert_rows(connection, "work_orders", columns, (resolved(r) for r in order_rows))
        ids: dict[str, int] = {}
        for chunk in iter_chunks([r["number"] for r in order_rows], 500):
            ids.update(
                dict(
                    session.execute(
                        select(WorkOrder.number, WorkOrder.id).where(WorkOrder.number.in_(chunk))
                    ).all()
                )
            )
        links = [
            {"order": ids[r["number"]], "earlier": ids[r["_repeat_of"]]}
            for r in order_rows
            if r["_repeat_of"]
        ]
        if links:
            table = cast(Table, WorkOrder.__table__)
            session.execute(
                update(table)
                .where(table.c.id == bindparam("order"))
                .values(repeat_of_id=bindparam("earlier")),
                links,
            )
        # The imported orders still open wait for their alarms still to come (the past ones are history).
        for chunk in iter_chunks(list(ids.values()), 1000):
            arm_open_orders(session, where=WorkOrder.id.in_(chunk), after=utcnow())
        LOG.append_rows(
            connection,
            (event_row(ids[r["number"]], r["station_id"].id, e) for r in order_rows for e in r["_events"]),
        )
        session.flush()


def import_orders(
    session: Session, *, principal: Principal, settings: Settings, path: Path
) -> OrderImportResult:
    principal.require(*IMPORT_ROLES, action="导入工单")
    importer = _Importer(session, principal, settings, path)
    result = importer.run()
    errors = importer.errors
    if errors:  # the caller's transaction rolls back what the checks created
        errors.sort(key=lambda e: e["row"])
        shown = errors[:MAX_REPORTED_ERRORS]
        raise InvalidInput(
            f"文件 {path.name} 有 {len(errors)} 处错误，未导入任何数据（首个错误：第 {shown[0]['row']} 行"
            f"“{shown[0]['field']}”：{shown[0]['reason']}）",
            details=shown,
        )
    if result.inserted:
        record(
            session,
            actor=principal,
            action="import",
            entity="work_order",
            detail={
                "file": path.name,
                "rows": result.rows,
                "inserted": result.inserted,
                "created": result.created,
            },
        )
    return result
