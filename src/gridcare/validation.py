"""Validation messages in Chinese, for every error a user or an API client can see.

Pydantic explains a rejected value in English ("Input should be a valid string"); `reason_zh` says
the same in Chinese for each kind of error, and never falls back to English."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SIMPLE = {
    "missing": "必须填写",
    "string_type": "必须填写文字",
    "string_pattern_mismatch": "格式不正确",
    "string_unicode": "含有无法识别的字符",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "int_from_float": "须为整数",
    "int_parsing_size": "数值超出允许范围",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "finite_number": "须为有限的数字",
    "decimal_parsing": "须为数字",
    "bool_parsing": "须为是或否",
    "bool_type": "须为是或否",
    "enum": "不在可选范围内",
    "literal_error": "不在可选范围内",
    "date_parsing": "不是有效日期（应为 年-月-日）",
    "date_from_datetime_parsing": "不是有效日期（应为 年-月-日）",
    "date_from_datetime_inexact": "应为日期，不含时刻",
    "date_type": "不是有效日期",
    "datetime_parsing": "不是有效时间（应为 ISO 8601，如 2026-12-01T08:00:00+08:00）",
    "datetime_from_date_parsing": "不是有效时间（应为 ISO 8601，如 2026-12-01T08:00:00+08:00）",
    "datetime_type": "不是有效时间",
    "timezone_aware": "须带时区（如 +08:00）",
    "timezone_naive": "不应带时区",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "none_required": "应为空",
    "extra_forbidden": "不是可接受的字段",
    "url_parsing": "不是有效网址",
    "uuid_parsing": "不是有效的编号",
    "bytes_type": "格式不正确",
    "is_instance_of": "格式不正确",
    "union_tag_invalid": "不在可选范围内",
    "assertion_error": "不符合要求",
}


def reason_zh(error: Mapping[str, Any]) -> str:
    """What is wrong with one value, in Chinese."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "string_type" and error.get("input") is None:
        return "必须填写"
    if kind in ("string_too_short", "too_short"):
        minimum = ctx.get("min_length", 1)
        if kind == "too_short":
            return "至少选择一项" if minimum == 1 else f"至少 {minimum} 项"
        return "必须填写" if minimum == 1 else f"至少 {minimum} 个字"
    if kind in ("string_too_long", "too_long", "bytes_too_long"):
        return (
            f"最多 {ctx.get('max_length')} 个字" if kind != "too_long" else f"最多 {ctx.get('max_length')} 项"
        )
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next((ctx[k] for k in ("ge", "gt", "le", "lt") if k in ctx), "")
        word = {
            "greater_than_equal": "不小于",
            "greater_than": "大于",
            "less_than_equal": "不大于",
            "less_than": "小于",
        }
        return f"须{word[kind]} {bound}"
    if kind == "multiple_of":
        return f"须为 {ctx.get('multiple_of')} 的倍数"
    if kind == "value_error":
        message = str(error.get("msg", ""))
        return message.removeprefix("Value error, ") or "不符合要求"
    return _SIMPLE.get(kind, "格式不正确")


def field_path(
    error: Mapping[str, Any], *, skip: tuple[str, ...] = ("body", "query", "path", "header")
) -> str:
    """The field an error is about, dotted (list positions left out)."""
    return ".".join(str(p) for p in error.get("loc", ()) if not isinstance(p, int) and p not in skip)
