from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gridcare.models.enums import Role


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=128)
    unit_code: str = Field(max_length=32, description="所属单位编号")
    roles: list[Role] = Field(min_length=1)
    phone: str | None = Field(default=None, max_length=20)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    unit_id: int
    roles: list[str]
    phone: str | None
    is_active: bool


class UserDetail(UserRead):
    managed_area_codes: list[str] = []
    liaison_village_codes: list[str] = []


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: str
    user_id: int | None
    action: str
    entity: str
    entity_id: str | None
    detail: dict[str, object] | None
