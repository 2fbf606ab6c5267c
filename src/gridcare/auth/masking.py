"""Masking of personal data for roles that don't need it (phones 138****5678, ID numbers)."""

from __future__ import annotations


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
