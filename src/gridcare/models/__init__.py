"""All ORM tables; importing this package registers them on Base.metadata."""

from gridcare.models.audit import AuditEntry
from gridcare.models.catalog import CatalogItem, WorkflowTransition
from gridcare.models.customer import Customer
from gridcare.models.grid import BranchSwitch, Feeder, Substation, TransformerArea
from gridcare.models.org import Unit, Village
from gridcare.models.outage import (
    ArrearsCase,
    Outage,
    OutageCustomer,
    OutageScopeItem,
    OutageTimeChange,
    OutboxMessage,
)
from gridcare.models.sla import CalendarDay, CalendarYear, SlaPolicyVersion, SlaRule
from gridcare.models.user import LoginFailure, User, UserRole
from gridcare.models.workorder import Notification, OrderCounter, WorkOrder, WorkOrderEvent

__all__ = [
    "ArrearsCase",
    "AuditEntry",
    "BranchSwitch",
    "CalendarDay",
    "CalendarYear",
    "CatalogItem",
    "Customer",
    "Feeder",
    "LoginFailure",
    "Notification",
    "OrderCounter",
    "Outage",
    "OutageCustomer",
    "OutageScopeItem",
    "OutageTimeChange",
    "OutboxMessage",
    "SlaPolicyVersion",
    "SlaRule",
    "Substation",
    "TransformerArea",
    "Unit",
    "User",
    "UserRole",
    "Village",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkflowTransition",
]
