"""What every API route may answer besides its success, as documented in the OpenAPI: one error
shape for all of them (errors.py), with `Retry-After` on 429."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorInfo(BaseModel):
    code: str = Field(description="稳定的错误代码，如 not_found、conflict、invalid_input")
    message: str = Field(description="中文说明")
    details: list[dict[str, Any]] = Field(
        default_factory=list, description="逐项说明：field（字段）、row（行号）、reason（原因）等"
    )


class ErrorBody(BaseModel):
    error: ErrorInfo


_DESCRIPTIONS = {
    400: "请求格式有误（如请求体不是有效的 UTF-8 JSON）",
    401: "未登录、令牌无效或已退出登录",
    403: "角色或单位无权执行",
    404: "不存在或不在您的权限范围内",
    409: "冲突：已被他人修改、状态不允许或已提交过",
    413: "请求内容过大",
    422: "输入有误（逐项说明字段与原因）",
    429: "请求或登录尝试过于频繁（见 Retry-After）",
    500: "服务器内部错误",
    503: "服务繁忙（如 PDF 生成排队超时），稍后再试",
}
RETRY_AFTER = {"Retry-After": {"description": "多少秒后可以再试", "schema": {"type": "integer"}}}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": ErrorBody,
        "description": text,
        **({"headers": RETRY_AFTER} if status in (429, 503) else {}),
    }
    for status, text in _DESCRIPTIONS.items()
}
