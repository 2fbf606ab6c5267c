"""All ORM tables; importing this package registers them on Base.metadata."""

from gridcare.models.audit import AuditEntry
from gridcare.models.customer import Customer
from gridcare.models.grid import BranchSwitch, Feeder, Substation, TransformerArea
from gridcare.models.org import Unit, Village
from gridcare.models.user import LoginFailure, User, UserRole

__all__ = [
    "AuditEntry",
    "BranchSwitch",
    "Customer",
    "Feeder",
    "LoginFailure",
    "Substation",
    "TransformerArea",
    "Unit",
    "User",
    "UserRole",
    "Village",
]
