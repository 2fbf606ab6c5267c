"""Outage input and output shapes (API, pages, CLI)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

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

    feeders: list[int] = Field(default_factory=list, description="10 kV 线路 id")
    branch_switches: list[int] = Field(default_factory=list, description="分支/开关 id")
    transformer_areas: list[int] = Field(default_factory=list, description="台区 id")

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
    planned_start: datetime
    planned_end: datetime
    short_notice_reason: str | None = Field(default=None, max_length=500, description="不足通知期限的原因")
    short_notice_approver_id: int | None = Field(default=None, description="批准人（用户 id）")

    @model_validator(mode="after")
    def _window(self) -> OutageCreate:
        if self.planned_start.tzinfo is None or self.planned_end.tzinfo is None:
            raise ValueError("停电时间须带时区（例如 2026-12-01T08:00:00+08:00）")
        if self.planned_end <= self.planned_start:
            raise ValueError("计划复电时间须晚于停电开始时间")
        return self


class AnnounceBody(BaseModel):
    version: int = Field(ge=1)
    short_notice_reason: str | None = Field(default=None, max_length=500)
    short_notice_approver_id: int | None = None


class VersionBody(BaseModel):
    version: int = Field(ge=1)


class RestoreTimeBody(BaseModel):
    version: int = Field(ge=1)
    expected_restore_at: datetime
    reason: str = Field(min_length=2, max_length=500)
