from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridcare.auth.principal import SYSTEM
from gridcare.customers.transfer import export_customers, import_customers
from gridcare.errors import InvalidInput
from gridcare.models import AuditEntry, Customer
from tests.factories import World, unique_digits

HEADERS_ZH = [
    "户号",
    "客户名称",
    "联系电话",
    "用电地址",
    "台区编号",
    "用电类别",
    "电压等级",
    "重要客户",
    "特殊群体",
]


def write_csv(path: Path, headers: list[str], rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def good_rows(world: World, n: int = 3) -> list[list[str]]:
    area = world.areas["station_a1"].code
    return [
        [
            unique_digits(12),
            f"赵{i}",
            f"1391234{i:04d}",
            f"江州市甲一镇和平村{i}组",
            area,
            "居民",
            "低压",
            "否",
            "是" if i == 0 else "否",
        ]
        for i in range(n)
    ]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0


def test_import_csv_with_chinese_headers_then_reimport_changes_nothing(
    session: Session, world: World, tmp_path: Path
) -> None:
    rows = good_rows(world)
    path = write_csv(tmp_path / "客户.csv", HEADERS_ZH, rows)
    first = import_customers(session, principal=SYSTEM, path=path)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    stored = session.scalar(select(Customer).where(Customer.account_no == rows[0][0]))
    assert stored is not None
    assert stored.station_id == world.units["station_a1"].id
    assert stored.village_id == world.areas["station_a1"].village_id
    assert stored.is_special_care is True
    assert stored.imported is True
    session.flush()
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    again = import_customers(session, principal=SYSTEM, path=path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    session.flush()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_import_gbk_csv_and_changed_rows_update(session: Session, world: World, tmp_path: Path) -> None:
    rows = good_rows(world, 2)
    import_customers(session, principal=SYSTEM, path=write_csv(tmp_path / "a.csv", HEADERS_ZH, rows))
    rows[1][3] = "江州市甲一镇和平村新址"
    result = import_customers(
        session, principal=SYSTEM, path=write_csv(tmp_path / "b.csv", HEADERS_ZH, rows, "gbk")
    )
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    stored = session.scalar(select(Customer).where(Customer.account_no == rows[1][0]))
    assert stored is not None
    assert stored.address == "江州市甲一镇和平村新址"


def test_import_xlsx_with_english_headers(session: Session, world: World, tmp_path: Path) -> None:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["account_no", "name", "phone", "address", "transformer_area_code", "usage_category"])
    account = int(unique_digits(12))
    sheet.append(
        [
            account,
            "钱商店",
            "13800001111",
            "江州市乙一镇1号",
            world.areas["station_b1"].code,
            "non_residential",
        ]
    )
    path = tmp_path / "customers.xlsx"
    wb.save(path)
    result = import_customers(session, principal=SYSTEM, path=path)
    assert result.inserted == 1
    stored = session.scalar(select(Customer).where(Customer.account_no == str(account)))
    assert stored is not None
    assert stored.usage_category == "non_residential"


def test_bad_rows_are_reported_and_nothing_is_stored(session: Session, world: World, tmp_path: Path) -> None:
    rows = good_rows(world, 4)
    rows[1][0] = "12AB"  # row 3: 户号 not digits
    rows[2][4] = "NO-SUCH-AREA"  # row 4: unknown 台区
    rows[3][5] = "工业"  # row 5: unknown 用电类别
    rows.append(list(rows[0]))  # row 6: duplicate of row 2
    before = count(session)
    with pytest.raises(InvalidInput) as err:
        import_customers(session, principal=SYSTEM, path=write_csv(tmp_path / "bad.csv", HEADERS_ZH, rows))
    found = {(d["row"], d["field"]) for d in err.value.details}
    assert found == {(3, "户号"), (4, "台区编号"), (5, "用电类别"), (6, "户号")}
    reasons = {d["row"]: d["reason"] for d in err.value.details}
    assert "NO-SUCH-AREA" in reasons[4]
    assert "第 2 行重复" in reasons[6]
    assert "4 处错误" in err.value.message
    assert count(session) == before


def test_missing_required_column_is_named(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", ["户号", "客户名称"], [["123456789012", "孙"]])
    with pytest.raises(InvalidInput, match="用电地址"):
        import_customers(session, principal=SYSTEM, path=path)


def test_unsupported_file_type(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{}")
    with pytest.raises(InvalidInput, match="不支持的文件类型"):
        import_customers(session, principal=SYSTEM, path=path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_round_trips(session: Session, world: World, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"export{suffix}"
    exported = export_customers(session, principal=SYSTEM, path=path)
    assert exported == count(session)
    result = import_customers(session, principal=SYSTEM, path=path)
    assert (result.inserted, result.updated) == (0, 0)
    assert result.unchanged == exported
