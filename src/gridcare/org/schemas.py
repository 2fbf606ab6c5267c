from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str


class VillageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    area_class: str
    station_id: int
    liaison_user_id: int | None
