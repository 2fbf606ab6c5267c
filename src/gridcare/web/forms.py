"""Posted forms into the services' models, with errors people can read: which field, what is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gridcare.errors import InvalidInput

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
}


def _reason(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "必须填写"
    if kind == "string_too_short":
        return f"至少 {ctx.get('min_length')} 个字"
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字"
    if kind == "string_pattern_mismatch":
        return "格式不正确"
    if kind in ("int_parsing", "int_type"):
        return "须为整数"
    if kind in ("bool_parsing", "bool_type"):
        return "须为是或否"
    if kind == "enum":
        return "不在可选范围内"
    if kind == "too_short":
        return "至少选择一项"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate; on failure an InvalidInput naming each field in Chinese."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
            name = loc[0] if loc else ""
            details.append({"field": name, "reason": _reason(err)})
        text = "；".join(
            f"{FIELD_LABELS.get(d['field'], d['field'])}{'：' if d['field'] else ''}{d['reason']}"
            for d in details
        )
        raise InvalidInput(f"输入有误：{text}", details=details) from exc


def clean(data: Mapping[str, str], *names: str) -> dict[str, str | None]:
    """The named fields, with empty strings as None (an empty select means 'not chosen')."""
    return {n: (data.get(n) or None) for n in names}


def optional_int(value: str | None, label: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(f"{label}须为整数：{value}", details=[{"field": label}]) from None


def optional_date(value: str | None, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{label}不是有效日期（应为 年-月-日）：{value}", details=[{"field": label}]
        ) from None
