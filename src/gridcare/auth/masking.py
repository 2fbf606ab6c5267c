"""What each viewer may see of personal data: the one place that decides it, for the API, the pages
and the exports alike. Roles that don't need a customer's phone or ID number get it masked
(138****5678); read models (customers.service.to_read, workorders.views.order_view,
outages.repository.affected_customers) are built through these functions, never masked by hand.
"""

from __future__ import annotations

from typing import Protocol

from gridcare.models.enums import Role


class Viewer(Protocol):
    """Who is looking (a Principal)."""

    @property
    def sees_phones(self) -> bool: ...

    @property
    def sees_id_numbers(self) -> bool: ...

    def has_any(self, *roles: Role) -> bool: ...


def phone_for(viewer: Viewer, phone: str | None) -> str | None:
    """A customer's (or caller's) phone as this viewer may see it."""
    return phone if viewer.sees_phones else mask_phone(phone)


def id_number_for(viewer: Viewer, id_number: str | None) -> str | None:
    return id_number if viewer.sees_id_numbers else mask_id_number(id_number)


def staff_phone_for(viewer: Viewer, phone: str | None) -> str | None:
    """A colleague's phone: administrators, who keep the accounts, see it too."""
    return phone if viewer.sees_phones or viewer.has_any(Role.admin) else mask_phone(phone)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    if len(phone) >= 11:
        return phone[:3] + "****" + phone[-4:]
    if len(phone) >= 7:
        return phone[:2] + "*" * (len(phone) - 4) + phone[-2:]
    return "*" * len(phone)


def mask_id_number(id_number: str | None) -> str | None:
    if not id_number:
        return id_number
    if len(id_number) >= 15:
        return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
    return id_number[:1] + "*" * (len(id_number) - 1)
