"""The reports' background job (gridcare/jobs.py): keep the DuckDB snapshot fresh. The snapshot is a
local file, so each host keeps its own (`per_host`)."""

from __future__ import annotations

from gridcare.analytics.service import snapshot
from gridcare.analytics.snapshot import Snapshot
from gridcare.jobs import Job, JobContext, register


def _refresh(ctx: JobContext) -> str:
    kept = ctx.state.get("snapshot")
    if not isinstance(kept, Snapshot):
        kept = ctx.state["snapshot"] = snapshot(ctx.settings, ctx.engine)
    result = kept.refresh()
    return f"{'重建' if result.full else '刷新'}：工单 {result.orders}，事件 {result.events}"


REFRESH = register(
    Job(
        "analytics.refresh",
        "报表快照刷新",
        _refresh,
        interval=lambda s: s.snapshot_interval_seconds,
        per_host=True,
        description="把新的工单与事件写入投诉监测报表的 DuckDB 快照",
    )
)
