"""Read models of work orders: what the API returns and the pages show, built for the viewer (their
phone masking decided by auth/masking.py), with what is computed from the order (its step's name,
overdue, due soon)."""

from __future__ import annotations

from datetime import datetime

from gridcare.auth.masking import Viewer, phone_for
from gridcare.models import WorkOrder
from gridcare.models.types import utcnow
from gridcare.workorders.process import KEEPER, is_open
from gridcare.workorders.schemas import WorkOrderRead


def order_view(order: WorkOrder, viewer: Viewer, now: datetime | None = None) -> WorkOrderRead:
    now = now or utcnow()
    read = WorkOrderRead.model_validate(order)
    read.step_name = KEEPER.step_name(order)
    deadline, warn_at = order.step_deadline, order.step_warn_at
    read.overdue = bool(is_open(order) and deadline is not None and deadline < now)
    read.due_soon = bool(is_open(order) and not read.overdue and warn_at is not None and warn_at <= now)
    read.step_breached = read.overdue
    read.contact_phone = phone_for(viewer, order.contact_phone)
    return read
