from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gridcare.customers.schemas import PHONE_PATTERN, normalise_phone
from gridcare.params import Id, Version


class WorkOrderCreate(BaseModel):
    """Intake (受理). The customer is found by id, 户号 or phone; a caller without an account gives an
    address and a village or 台区 instead."""

    business_type: str = Field(max_length=32, description="业务类型代码，如 complaint、fault_repair")
    category: str | None = Field(
        default=None, max_length=32, description="投诉分类（叶子）、故障类型或业务申请类别代码"
    )
    complaint_level: str | None = Field(default=None, max_length=32)
    urgency: str = Field(default="normal", max_length=32)
    channel: str = Field(default="phone_95598", max_length=32)
    content: str = Field(min_length=2, max_length=4000, description="受理内容")
    contact_name: str | None = Field(default=None, max_length=100)
    contact_phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    anonymous: bool = False
    callback_declined: bool = Field(default=False, description="客户表示不需回访")
    customer_id: Id | None = None
    account_no: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, description="按来电号码查找客户")
    address: str | None = Field(default=None, max_length=255)
    village_code: str | None = Field(default=None, max_length=32)
    transformer_area_code: str | None = Field(default=None, max_length=32)
    fault_point: str | None = Field(default=None, max_length=100, description="故障点（合并抢修工单用）")
    idempotency_key: str | None = Field(
        default=None, max_length=64, description="幂等键：同一用户重试同一请求时保持不变（仅对本人有效）"
    )

    @field_validator("contact_phone", "phone", mode="before")
    @classmethod
    def _clean_phone(cls, value: str | None) -> str | None:
        return normalise_phone(value)


class Versioned(BaseModel):
    version: Version
    note: str | None = Field(default=None, max_length=4000)


class DispatchBody(Versioned):
    station_id: Id | None = Field(default=None, description="改派到该供电所（缺省：按电网拓扑路由的供电所）")
    handler_user_id: Id | None = None


class ReturnBody(Versioned):
    reason: str = Field(
        max_length=32,
        description="退单原因代码：wrong_unit / wrong_type / missing_contact / outage_not_checked",
    )
    correction: str = Field(
        min_length=2, max_length=1000, description="更正内容（应派单位、正确类型、联系方式等）"
    )


class ReplyBody(Versioned):
    reply: str = Field(min_length=2, max_length=4000, description="回单内容（处理结果）")


class ReviewBody(Versioned):
    passed: bool


class CallbackBody(Versioned):
    reached: bool = Field(description="是否联系上客户")
    satisfaction: str | None = Field(default=None, max_length=32, description="满意度代码（联系上时必填）")

    @model_validator(mode="after")
    def _needs_satisfaction(self) -> CallbackBody:
        if self.reached and not self.satisfaction:
            raise ValueError("联系上客户时必须填写满意度")
        return self


class MergeBody(Versioned):
    main_order_id: Id | None = Field(default=None, description="主工单 id（或给出 main_order 编号）")
    main_order: str | None = Field(default=None, max_length=24, description="主工单编号")

    @model_validator(mode="after")
    def _needs_main(self) -> MergeBody:
        if self.main_order_id is None and not (self.main_order or "").strip():
            raise ValueError("请填写主工单编号")
        return self


class SuspendBody(Versioned):
    reason: str = Field(
        min_length=2, max_length=200, description="挂起原因：客户要求改约时间、待客户提供资料等（计时暂停）"
    )


class UrgeBody(BaseModel):
    content: str = Field(min_length=2, max_length=4000)
    channel: str = Field(default="phone_95598", max_length=32)
    idempotency_key: str | None = Field(default=None, max_length=64)


class WorkOrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    business_type: str
    category: str | None
    complaint_level: str | None
    urgency: str
    channel: str
    content: str
    contact_name: str | None
    contact_phone: str | None
    anonymous: bool
    callback_declined: bool
    customer_id: int | None
    address: str | None
    village_id: int | None
    transformer_area_id: int | None
    station_id: int
    county_id: int
    area_class: str
    handler_user_id: int | None
    first_owner_user_id: int | None
    accepted_at: datetime
    step: str
    step_name: str = ""
    step_entered_at: datetime
    step_deadline: datetime | None
    step_warn_at: datetime | None
    step_breached: bool = Field(default=False, description="环节已超时（同 overdue）")
    overdue: bool = False
    due_soon: bool = False
    calendar_missing_year: int | None
    step_paused_at: datetime | None = None
    step_pause_reason: str | None = None
    priority: int
    is_repeat: bool
    repeat_of_id: int | None
    main_order_id: int | None
    urged_order_id: int | None
    fault_point: str | None
    reply: str | None
    satisfaction: str | None
    callback_attempts: int
    archived_at: datetime | None
    version: int
    created_at: datetime


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    action: str
    from_step: str | None
    to_step: str | None
    note: str | None
    data: dict[str, object] | None
    step_entered_at: datetime | None
    step_deadline: datetime | None
    step_late: bool | None
