"""Outage input and output shapes (API, pages, CLI)."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from gridcare.params import Id, Instant, Version

KIND_NAMES = {
    "planned": "计划停电",
    "temporary": "临时检修",
    "fault": "故障停电",
    "arrears": "欠费停电",
    "limiting": "限电",
}
STATUS_NAMES = {
    "planned": "已计划",
    "announced": "已发布",
    "predicted": "研判中",
    "confirmed": "已确认",
    "in_progress": "停电中",
    "restored": "已复电",
    "closed": "已归档",
    "cancelled": "已取消",
}


class OutageScope(BaseModel):
    """Where the outage is, on the grid: feeders, branch switches and/or 台区 (ids)."""

    feeders: list[Id] = Field(default_factory=list, max_length=500, description="10 kV 线路 id")
    branch_switches: list[Id] = Field(default_factory=list, max_length=500, description="分支/开关 id")
    transformer_areas: list[Id] = Field(default_factory=list, max_length=5000, description="台区 id")

    @model_validator(mode="after")
    def _not_empty(self) -> OutageScope:
        if not (self.feeders or self.branch_switches or self.transformer_areas):
            raise ValueError("停电范围为空：请至少选择一条线路、一个开关或一个台区")
        return self


class OutageCreate(BaseModel):
    kind: str = Field(
        pattern="^(planned|temporary|fault|limiting)$", description="停电类型（欠费停电另行办理）"
    )
    title: str = Field(min_length=2, max_length=200)
    cause: str = Field(min_length=2, max_length=500, description="停电原因")
    area_text: str | None = Field(
        default=None, max_length=500, description="通知中的停电区域（缺省按台区生成）"
    )
    cause_class: str = Field(
        default="company",
        pattern="^(company|customer_side|disaster)$",
        description="原因归类：company 供电企业设备（计入频繁停电与可靠性）、customer_side 客户侧、disaster 已宣布的自然灾害",
    )
    scope: OutageScope
    planned_start: Instant
    planned_end: Instant

    @model_validator(mode="after")
    def _window(self) -> OutageCreate:
        if self.planned_start.tzinfo is None or self.planned_end.tzinfo is None:
            raise ValueError("停电时间须带时区（例如 2026-12-01T08:00:00+08:00）")
        if self.planned_end <= self.planned_start:
            raise ValueError("计划复电时间须晚于停电开始时间")
        return self


class VersionBody(BaseModel):
    version: Version


class ShortNoticeBody(BaseModel):
    """A request to announce with less than the notice period, to a named approver."""

    approver_id: Id = Field(
        description="批准人（用户 id）：本单位或上级单位的管理人员或系统管理员，不能是本人"
    )
    reason: str = Field(min_length=2, max_length=500, description="不足通知期限发布的原因")


class DecisionBody(BaseModel):
    note: str | None = Field(default=None, max_length=500, description="审批意见（不批准时必填）")


class RestoreTimeBody(BaseModel):
    version: Version
    expected_restore_at: Instant
    reason: str = Field(min_length=2, max_length=500)


class CancelBody(BaseModel):
    version: Version
    reason: str = Field(min_length=2, max_length=500, description="取消原因（已发布的停电会告知客户）")
    confirm: bool = Field(default=False, description="已发布的停电取消时须为 true：将通知全部受影响客户")


class ConfirmBody(BaseModel):
    """Confirming a predicted fault outage: what customers will read."""

    version: Version
    cause: str = Field(min_length=2, max_length=500, description="告知客户的停电原因")
    expected_restore_at: Instant = Field(description="预计复电时间（带时区）")
