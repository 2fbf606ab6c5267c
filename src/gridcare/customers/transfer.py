"""Import and export of customer files (CSV/XLSX, Chinese or English headers).

Import is all-or-nothing: every row is checked first; if any row is wrong, the errors (row, column,
reason) are returned and nothing is written. Rows are keyed by 户号: an existing customer with the
same data is left alone, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gridcare.audit.service import record
from gridcare.auth.masking import id_number_for, phone_for
from gridcare.auth.principal import Principal
from gridcare.customers import repository
from gridcare.customers.schemas import CustomerCreate, ImportResult
from gridcare.customers.service import EDITOR_ROLES
from gridcare.errors import InvalidInput
from gridcare.models import Customer, TransformerArea, Unit, Village
from gridcare.models.enums import LABELS_ZH, UsageCategory, VoltageLevel, parse_zh
from gridcare.tabular import iter_chunks, read_table, resolve_columns, write_table

# field -> accepted headers; the first is the Chinese header used on export.
COLUMNS: dict[str, tuple[str, ...]] = {
    "account_no": ("户号", "CUST_NO", "客户编号"),
    "name": ("客户名称", "户名", "CUST_NAME"),
    "phone": ("联系电话", "手机号码", "电话", "PHONE"),
    "phone_alt": ("备用电话", "固定电话"),
    "id_number": ("证件号码", "身份证号"),
    "address": ("用电地址", "地址", "ELEC_ADDR"),
    "transformer_area_code": ("台区编号", "台区", "TG_NO"),
    "village_code": ("村/社区编号", "村社区编号"),
    "usage_category": ("用电类别", "ELEC_TYPE"),
    "voltage_level": ("电压等级",),
    "is_important": ("重要客户",),
    "is_special_care": ("特殊群体",),
    "is_sensitive": ("敏感客户",),
}
REQUIRED = ("account_no", "name", "address", "transformer_area_code")
_ENUMS = {"usage_category": UsageCategory, "voltage_level": VoltageLevel}
_FLAGS = ("is_important", "is_special_care", "is_sensitive")
_TRUE = {"是", "y", "yes", "true", "1", "√"}
_FALSE = {"否", "n", "no", "false", "0", ""}
_PYDANTIC_ZH = {
    "missing": "必填项为空",
    "string_pattern_mismatch": "格式不正确",
    "string_too_short": "不能为空",
    "string_too_long": "内容过长",
}
MAX_REPORTED_ERRORS = 1000


def _parse_flag(value: str) -> bool:
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError(f"应为“是”或“否”，而不是“{value}”")


def _row_to_create(
    number: int, raw: dict[str, str], columns: dict[str, str], errors: list[dict[str, Any]]
) -> CustomerCreate | None:
    values: dict[str, Any] = {}
    before = len(errors)
    for field, header in columns.items():
        value = raw.get(header, "").strip()
        try:
            if field in _ENUMS:
                if value:
                    values[field] = parse_zh(_ENUMS[field], value).value
            elif field in _FLAGS:
                values[field] = _parse_flag(value)
            elif value:
                values[field] = value
        except ValueError as exc:
            errors.append({"row": number, "field": header, "reason": str(exc)})
    if len(errors) > before:
        return None
    try:
        return CustomerCreate(**values)
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            reason = _PYDANTIC_ZH.get(err["type"], err["msg"])
            errors.append({"row": number, "field": columns.get(field, COLUMNS[field][0]), "reason": reason})
        return None


def lookup_codes(session: Session, model: Any, codes: set[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for chunk in iter_chunks(sorted(codes), 500):
        for obj in session.scalars(select(model).where(model.code.in_(chunk))):
            found[obj.code] = obj
    return found


def import_customers(session: Session, *, principal: Principal, path: Path) -> ImportResult:
    principal.require(*EDITOR_ROLES)
    table = read_table(path)
    columns = resolve_columns(table.headers, COLUMNS, REQUIRED)
    errors: list[dict[str, Any]] = []
    parsed: list[tuple[int, CustomerCreate]] = []
    first_row_of: dict[str, int] = {}
    for number, raw in table.rows:
        item = _row_to_create(number, raw, columns, errors)
        if item is None:
            continue
        if item.account_no in first_row_of:
            errors.append(
                {
                    "row": number,
                    "field": columns["account_no"],
                    "reason": f"户号 {item.account_no} 与第 {first_row_of[item.account_no]} 行重复",
                }
            )
            continue
        first_row_of[item.account_no] = number
        parsed.append((number, item))

    areas = lookup_codes(session, TransformerArea, {c.transformer_area_code for _, c in parsed})
    villages = lookup_codes(session, Village, {c.village_code for _, c in parsed if c.village_code})
    station_paths: dict[int, str] = dict(session.execute(select(Unit.id, Unit.path)).all())
    for number, item in parsed:
        area = areas.get(item.transformer_area_code)
        if area is None:
            reason = f"台区编号 {item.transformer_area_code} 不存在"
            errors.append({"row": number, "field": columns["transformer_area_code"], "reason": reason})
        elif not principal.covers_path(station_paths.get(area.station_id, "")):
            reason = f"台区 {item.transformer_area_code} 不在您的权限范围内"
            errors.append({"row": number, "field": columns["transformer_area_code"], "reason": reason})
        if item.village_code and item.village_code not in villages:
            reason = f"村/社区编号 {item.village_code} 不存在"
            errors.append({"row": number, "field": columns["village_code"], "reason": reason})
    if errors:
        errors.sort(key=lambda e: e["row"])
        shown = errors[:MAX_REPORTED_ERRORS]
        raise InvalidInput(
            f"文件 {path.name} 有 {len(errors)} 处错误，未导入任何数据（首个错误：第 {shown[0]['row']} 行"
            f"“{shown[0]['field']}”：{shown[0]['reason']}）",
            details=shown,
        )

    existing = repository.by_account_numbers(session, [c.account_no for _, c in parsed])
    new_rows: list[dict[str, Any]] = []
    updated = unchanged = 0
    for _, item in parsed:
        area = areas[item.transformer_area_code]
        fields = item.model_dump(exclude={"transformer_area_code", "village_code"}, exclude_unset=True)
        fields["transformer_area_id"] = area.id
        fields["station_id"] = area.station_id
        fields["village_id"] = villages[item.village_code].id if item.village_code else area.village_id
        current = existing.get(item.account_no)
        if current is None:
            new_rows.append(
                {
                    **item.model_dump(exclude={"transformer_area_code", "village_code"}),
                    **fields,
                    "imported": True,
                }
            )
            continue
        changes = {k: v for k, v in fields.items() if getattr(current, k) != v}
        if not changes:
            unchanged += 1
            continue
        for key, value in changes.items():
            setattr(current, key, value)
        updated += 1
    if new_rows:
        session.execute(insert(Customer), new_rows)
    session.flush()
    result = ImportResult(rows=len(parsed), inserted=len(new_rows), updated=updated, unchanged=unchanged)
    if new_rows or updated:
        record(
            session,
            actor=principal,
            action="import",
            entity="customer",
            detail={"file": path.name, **result.model_dump()},
        )
    return result


def _export_rows(session: Session, principal: Principal) -> Iterator[Sequence[object]]:
    stmt = (
        select(Customer, TransformerArea.code, Village.code)
        .join(TransformerArea, TransformerArea.id == Customer.transformer_area_id)
        .outerjoin(Village, Village.id == Customer.village_id)
        .where(principal.in_scope(Customer.station_id))
        .order_by(Customer.id)
        .execution_options(yield_per=5000)
    )
    for customer, area_code, village_code in session.execute(stmt):
        yield (
            customer.account_no,
            customer.name,
            phone_for(principal, customer.phone) or "",
            phone_for(principal, customer.phone_alt) or "",
            id_number_for(principal, customer.id_number) or "",
            customer.address,
            area_code,
            village_code or "",
            LABELS_ZH[customer.usage_category],
            LABELS_ZH[customer.voltage_level],
            "是" if customer.is_important else "否",
            "是" if customer.is_special_care else "否",
            "是" if customer.is_sensitive else "否",
        )


def export_customers(session: Session, *, principal: Principal, path: Path) -> int:
    """Write every customer in scope to CSV or XLSX with the Chinese headers import reads back."""
    headers = [names[0] for names in COLUMNS.values()]
    count = write_table(path, headers, _export_rows(session, principal))
    record(
        session,
        actor=principal,
        action="export",
        entity="customer",
        detail={"file": path.name, "rows": count},
    )
    return count
