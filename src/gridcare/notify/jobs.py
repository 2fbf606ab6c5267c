"""The outbox's background job (gridcare/jobs.py): deliver what is due."""

from __future__ import annotations

from gridcare.jobs import Job, JobContext, register
from gridcare.notify.outbox import deliver_all


def _deliver(ctx: JobContext) -> str:
    result = deliver_all(ctx.factory, ctx.settings, budget_seconds=30.0)
    if not result.claimed:
        return "没有到期的通知"
    text = f"成功 {result.sent}，待重试 {result.retrying}，失败 {result.failed}"
    common = sorted(result.errors.items(), key=lambda kv: -kv[1])[:3]
    return text + "".join(f"；{count} 条：{error}" for error, count in common)


DELIVER = register(
    Job(
        "notify.deliver",
        "通知发送",
        _deliver,
        interval=lambda s: s.deliver_interval_seconds,
        description="发送通知发件箱中到期的通知（短信、微信、邮件、村联络员汇总），失败的按退避重试",
    )
)
