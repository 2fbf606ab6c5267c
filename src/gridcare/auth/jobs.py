"""Sign-in housekeeping (gridcare/jobs.py): old attempts and ended sessions are forgotten hourly."""

from __future__ import annotations

from gridcare.auth.service import purge
from gridcare.db import transaction
from gridcare.jobs import Job, JobContext, register


def _purge(ctx: JobContext) -> str:
    with transaction(ctx.factory) as session:
        gone = purge(session, settings=ctx.settings)
    return f"清理登录记录与会话 {gone} 条"


PURGE = register(
    Job(
        "auth.purge",
        "登录记录清理",
        _purge,
        interval=lambda s: 3600.0,
        description="删除过期的登录尝试与已结束的会话",
    )
)
