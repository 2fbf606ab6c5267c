"""All ORM tables; importing this package registers them on Base.metadata."""

from gridcare.models.audit import AuditEntry
from gridcare.models.catalog import CatalogItem
from gridcare.models.customer import Customer
from gridcare.models.engine import ItemEvent, ItemStep
from gridcare.models.flash import FormFlash
from gridcare.models.grid import BranchSwitch, Feeder, Substation, TransformerArea
from gridcare.models.jobs import JobRun
from gridcare.models.org import Unit, Village
from gridcare.models.outage import (
    ArrearsCase,
    Outage,
    OutageApproval,
    OutageCustomer,
    OutageScopeItem,
    OutageStation,
    OutageTimeChange,
    OutboxMessage,
)
from gridcare.models.sla import CalendarDay, CalendarYear, SlaPolicyVersion, SlaRule
from gridcare.models.user import LoginAttempt, User, UserRole, UserSession
from gridcare.models.workorder import Notification, OrderCounter, StepAlarm, WorkOrder, WorkOrderEvent

__all__ = [
    "ArrearsCase",
    "AuditEntry",
    "BranchSwitch",
    "CalendarDay",
    "CalendarYear",
    "CatalogItem",
    "Customer",
    "Feeder",
    "FormFlash",
    "ItemEvent",
    "ItemStep",
    "JobRun",
    "LoginAttempt",
    "Notification",
    "OrderCounter",
    "Outage",
    "OutageApproval",
    "OutageCustomer",
    "OutageScopeItem",
    "OutageStation",
    "OutageTimeChange",
    "OutboxMessage",
    "SlaPolicyVersion",
    "SlaRule",
    "StepAlarm",
    "Substation",
    "TransformerArea",
    "Unit",
    "User",
    "UserRole",
    "UserSession",
    "Village",
    "WorkOrder",
    "WorkOrderEvent",
]
