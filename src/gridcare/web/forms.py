"""Posted forms into the services' models, with errors people can read: which field, what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gridcare.errors import InvalidInput
from gridcare.params import MAX_ID, day_in_range
from gridcare.validation import reason_zh

M = TypeVar("M", bound=BaseModel)

FIELD_LABELS = {
    "business_type": "业务类型",
    "category": "分类",
    "content": "受理内容",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "channel": "受理渠道",
    "urgency": "紧急程度",
    "address": "地址",
    "version": "版本",
    "note": "备注",
    "reason": "退单原因",
    "correction": "更正内容",
    "reply": "回单内容",
    "passed": "审核结论",
    "reached": "是否联系上",
    "satisfaction": "满意度",
    "main_order_id": "主工单",
    "station_id": "供电所",
    "handler_user_id": "处理人",
    "username": "用户名",
    "display_name": "姓名",
    "password": "密码",
    "unit_code": "所属单位",
    "roles": "角色",
    "phone": "电话",
    "short_notice_reason": "原因",
    "approver_id": "批准人",
    "expected_restore_at": "预计复电时间",
    "cause": "停电原因",
    "title": "标题",
    "kind": "停电类型",
    "scope": "停电范围",
    "planned_start": "停电开始时间",
    "planned_end": "计划复电时间",
    "area_text": "停电区域",
    "cause_class": "原因归类",
    "confirm": "确认",
}


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate; on failure an InvalidInput naming each field in Chinese."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
            name = loc[0] if loc else ""
            details.append({"field": name, "reason": reason_zh(err)})
        text = "；".join(
            f"{FIELD_LABELS.get(d['field'], d['field'])}{'：' if d['field'] else ''}{d['reason']}"
            for d in details
        )
        raise InvalidInput(f"输入有误：{text}", details=details) from exc


def clean(data: Mapping[str, str], *names: str) -> dict[str, str | None]:
    """The named fields, with empty strings as None (an empty select means 'not chosen')."""
    return {n: (data.get(n) or None) for n in names}


def optional_int(value: str | None, label: str) -> int | None:
    """An integer typed in a form or a link, within what the database can hold."""
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{label}须为整数：{value[:20]}", details=[{"field": label}]) from None
    if abs(number) > MAX_ID:
        raise InvalidInput(f"{label}超出允许范围：{value[:20]}", details=[{"field": label}])
    return number


def optional_date(value: str | None, label: str) -> date | None:
    """A Beijing calendar day typed in a form (年-月-日), within the years the system counts."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{label}不是有效日期（应为 年-月-日）：{value[:20]}", details=[{"field": label}]
        ) from None
    return day_in_range(day, label)
