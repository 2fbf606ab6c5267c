from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SubstationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    county_id: int
    voltage_kv: int


class FeederRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    substation_id: int


class BranchSwitchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    feeder_id: int


class TransformerAreaRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    capacity_kva: int | None
    feeder_id: int | None
    branch_switch_id: int | None
    station_id: int
    village_id: int | None
    manager_user_id: int | None
