"""The pages' housekeeping (gridcare/jobs.py): refused forms kept for post/redirect/get are forgotten."""

from __future__ import annotations

from gridcare.db import transaction
from gridcare.jobs import Job, JobContext, register
from gridcare.web.flash import purge


def _purge(ctx: JobContext) -> str:
    with transaction(ctx.factory) as session:
        gone = purge(session)
    return f"清理暂存表单 {gone} 条"


PURGE_FLASHES = register(
    Job(
        "web.purge_flashes",
        "暂存表单清理",
        _purge,
        interval=lambda s: 3600.0,
        description="删除过期的暂存表单",
    )
)
