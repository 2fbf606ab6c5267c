from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gridcare.models.enums import UsageCategory, VoltageLevel

ACCOUNT_NO_PATTERN = r"^\d{6,20}$"
PHONE_PATTERN = r"^\+?\d{7,15}$"


def normalise_phone(value: str | None) -> str | None:
    """Strip the spaces and dashes people type; keep digits (and a leading +)."""
    if value is None:
        return None
    cleaned = "".join(ch for ch in str(value).strip() if ch not in " -()")
    return cleaned or None


class CustomerBase(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="客户名称")
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN, description="联系电话")
    phone_alt: str | None = Field(default=None, pattern=PHONE_PATTERN, description="备用电话")
    id_number: str | None = Field(default=None, max_length=32, description="证件号码")
    address: str = Field(min_length=1, max_length=255, description="用电地址")
    usage_category: UsageCategory = UsageCategory.residential
    voltage_level: VoltageLevel = VoltageLevel.low
    is_important: bool = False
    is_special_care: bool = False
    is_sensitive: bool = False

    @field_validator("phone", "phone_alt", mode="before")
    @classmethod
    def _clean_phone(cls, value: str | None) -> str | None:
        return normalise_phone(value)


class CustomerCreate(CustomerBase):
    account_no: str = Field(pattern=ACCOUNT_NO_PATTERN, description="户号（6–20 位数字）")
    transformer_area_code: str = Field(min_length=1, max_length=32, description="台区编号")
    village_code: str | None = Field(default=None, description="村/社区编号；缺省时取台区所在村")


class CustomerUpdate(BaseModel):
    """Fields to change; `version` must be the one the editor read (optimistic concurrency)."""

    version: int = Field(ge=1)
    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    phone_alt: str | None = Field(default=None, pattern=PHONE_PATTERN)
    id_number: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, min_length=1, max_length=255)
    usage_category: UsageCategory | None = None
    voltage_level: VoltageLevel | None = None
    is_important: bool | None = None
    is_special_care: bool | None = None
    is_sensitive: bool | None = None

    @field_validator("phone", "phone_alt", mode="before")
    @classmethod
    def _clean_phone(cls, value: str | None) -> str | None:
        return normalise_phone(value)

    @field_validator(
        "name",
        "address",
        "usage_category",
        "voltage_level",
        "is_important",
        "is_special_care",
        "is_sensitive",
    )
    @classmethod
    def _required_when_given(cls, value: object) -> object:
        """These fields always have a value: `null` would erase it (leave the field out to keep it)."""
        if value is None:
            raise ValueError("不能为空（不修改时请不要提供该字段）")
        return value


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    account_no: str
    name: str
    phone: str | None
    phone_alt: str | None
    id_number: str | None
    address: str
    village_id: int | None
    village_name: str | None = None
    area_class: str | None = None
    transformer_area_id: int
    transformer_area_code: str | None = None
    transformer_area_name: str | None = None
    station_id: int
    station_name: str | None = None
    usage_category: str
    voltage_level: str
    is_important: bool
    is_special_care: bool
    is_sensitive: bool
    version: int


class ImportResult(BaseModel):
    rows: int
    inserted: int
    updated: int
    unchanged: int
