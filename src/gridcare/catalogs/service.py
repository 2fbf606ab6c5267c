"""Catalogue editing by an admin: add items (the complaint tree up to three levels), rename, retire."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gridcare.audit.service import record
from gridcare.auth.principal import Principal
from gridcare.errors import Conflict, InvalidInput, NotFound
from gridcare.models import CatalogItem
from gridcare.models.enums import Role

KINDS = {
    "business_type": "业务类型",
    "channel": "受理渠道",
    "complaint_category": "投诉分类",
    "fault_kind": "故障类型",
    "urgency": "紧急程度",
    "complaint_level": "投诉等级",
    "return_reason": "退单原因",
    "satisfaction": "满意度",
    "service_request_kind": "业务申请类别",
    "step": "环节",
}
# Steps and business types are referred to by the workflow and time limits: they are renamed, not added.
FIXED_KINDS = ("step",)


class CatalogItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    parent_id: int | None
    level: int
    sort: int
    active: bool


class CatalogItemCreate(BaseModel):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_]+$")
    name: str = Field(min_length=1, max_length=100)
    parent_code: str | None = None
    sort: int = Field(default=0, ge=-100_000, le=100_000)


class CatalogItemUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    active: bool | None = None
    sort: int | None = Field(default=None, ge=-100_000, le=100_000)


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound(f"目录“{kind}”不存在，可选：{'、'.join(KINDS)}")
    return kind


def list_items(session: Session, *, kind: str, include_inactive: bool) -> Sequence[CatalogItem]:
    stmt = select(CatalogItem).where(CatalogItem.kind == _kind(kind))
    if not include_inactive:
        stmt = stmt.where(CatalogItem.active)
    return session.scalars(stmt.order_by(CatalogItem.level, CatalogItem.sort, CatalogItem.code)).all()


def add_item(session: Session, *, principal: Principal, kind: str, data: CatalogItemCreate) -> CatalogItem:
    principal.require(Role.admin)
    if _kind(kind) in FIXED_KINDS:
        raise InvalidInput(f"“{KINDS[kind]}”由工作流定义，只能改名，不能新增")
    if session.scalar(select(CatalogItem.id).where(CatalogItem.kind == kind, CatalogItem.code == data.code)):
        raise Conflict(f"{KINDS[kind]}代码 {data.code} 已存在", details=[{"field": "code"}])
    parent = None
    if data.parent_code:
        parent = session.scalar(
            select(CatalogItem).where(CatalogItem.kind == kind, CatalogItem.code == data.parent_code)
        )
        if parent is None:
            raise InvalidInput(f"上级代码 {data.parent_code} 不存在", details=[{"field": "parent_code"}])
        if kind != "complaint_category" or parent.level >= 3:
            raise InvalidInput("只有投诉分类分级，且最多三级", details=[{"field": "parent_code"}])
    item = CatalogItem(
        kind=kind,
        code=data.code,
        name=data.name,
        parent_id=parent.id if parent else None,
        level=parent.level + 1 if parent else 1,
        sort=data.sort,
    )
    session.add(item)
    session.flush()
    ACTIVE.forget()
    record(
        session,
        actor=principal,
        action="create",
        entity="catalog_item",
        entity_id=f"{kind}:{data.code}",
        detail={"name": data.name, "parent": data.parent_code},
    )
    return item


def update_item(
    session: Session, *, principal: Principal, kind: str, code: str, data: CatalogItemUpdate
) -> CatalogItem:
    principal.require(Role.admin)
    item = session.scalar(
        select(CatalogItem).where(CatalogItem.kind == _kind(kind), CatalogItem.code == code)
    )
    if item is None:
        raise NotFound(f"{KINDS[kind]}代码 {code} 不存在")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for key, value in changes.items():
        setattr(item, key, value)
    session.flush()
    ACTIVE.forget()
    record(
        session,
        actor=principal,
        action="update",
        entity="catalog_item",
        entity_id=f"{kind}:{code}",
        detail=changes,
    )
    return item


def items_of(session: Session, kinds: Sequence[str], *, active_only: bool = False) -> list[CatalogItem]:
    """The items of several catalogues, by level and order (the pages' category pickers)."""
    stmt = select(CatalogItem).where(CatalogItem.kind.in_(list(kinds)))
    if active_only:
        stmt = stmt.where(CatalogItem.active)
    return list(session.scalars(stmt.order_by(CatalogItem.level, CatalogItem.sort, CatalogItem.code)))


def names_by_kind(session: Session) -> dict[str, dict[str, str]]:
    """{kind: {code: name}} of every catalogue (the pages' labels)."""
    names: dict[str, dict[str, str]] = {}
    for kind, code, name in session.execute(select(CatalogItem.kind, CatalogItem.code, CatalogItem.name)):
        names.setdefault(kind, {})[code] = name
    return names


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    level: int


class ActiveCodes:
    """The active catalogue codes, kept by each process for intake's checks (every order checks four or
    five codes), per database. A change made in this process is seen at once; one made in another worker
    within `SECONDS`."""

    SECONDS = 30.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: weakref.WeakKeyDictionary[Engine, tuple[float, dict[tuple[str, str], Entry]]] = (
            weakref.WeakKeyDictionary()
        )

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()

    def get(self, session: Session) -> dict[tuple[str, str], Entry]:
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        with self._lock:
            kept = self._kept.get(engine)
        if kept is not None and time.monotonic() - kept[0] < self.SECONDS:
            return kept[1]
        rows = session.execute(
            select(CatalogItem.kind, CatalogItem.code, CatalogItem.name, CatalogItem.level).where(
                CatalogItem.active
            )
        ).all()
        entries = {(k, c): Entry(c, n, level) for k, c, n, level in rows}
        with self._lock:
            self._kept[engine] = (time.monotonic(), entries)
        return entries


ACTIVE = ActiveCodes()
