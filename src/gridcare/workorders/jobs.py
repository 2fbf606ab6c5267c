"""The work-order domain's background job (gridcare/jobs.py): the overdue scan."""

from __future__ import annotations

from gridcare.jobs import Job, JobContext, register
from gridcare.workorders.tasks import scan_due


def _scan(ctx: JobContext) -> str:
    result = scan_due(ctx.factory, batch_size=ctx.settings.scan_batch_size)
    return f"预警 {result.warnings}，超时 {result.breaches}"


SCAN = register(
    Job(
        "workorders.scan_due",
        "超时扫描",
        _scan,
        interval=lambda s: s.scan_interval_seconds,
        description="环节时限到 80% 写预警、到 100% 写超时，通知环节处理人",
    )
)
