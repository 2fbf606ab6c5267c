"""Imports apply the API's limits and refuse files that are too large or shaped like a bomb quickly,
with a clear error; an import keeps the database writable for others while it checks its rows; PDF
printing waits its turn; files holding personal data are the owner's alone."""

from __future__ import annotations

import os
import stat
import threading
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from gridcare.analytics import render
from gridcare.auth.principal import SYSTEM
from gridcare.config import Settings
from gridcare.db import make_engine
from gridcare.errors import InvalidInput
from gridcare.models import WorkOrder
from gridcare.notify.channels import FileChannel, Outgoing
from gridcare.tabular import MAX_BLANK_RUN, MAX_CELL_CHARS, MAX_COLUMNS, read_table
from gridcare.workorders import transfer
from gridcare.workorders.transfer import import_orders
from tests.analytics.conftest import write_export
from tests.factories import unique
from tests.workorders.test_transfer import rows_for


def test_a_csv_field_longer_than_a_cell_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("工单编号,受理内容\nA1," + "长" * (MAX_CELL_CHARS + 200_000) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="第 2 行") as caught:
        read_table(path)
    assert "32767" in caught.value.message


def test_imports_apply_the_apis_field_limits(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    """A 12 KB XLSX carried a 3.5-million-character order content: shared strings compress well."""
    tag = unique("")
    rows = rows_for(tag, 2)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    headers = list(rows[0])
    sheet.append(headers)
    rows[1]["受理内容"] = "停" * 3_500
    rows[1]["客户名称"] = "名" * 101
    for row in rows:
        sheet.append([row[h] for h in headers])
    path = tmp_path / "long.xlsx"
    book.save(path)
    with session_factory() as s, pytest.raises(InvalidInput) as caught:
        import_orders(s, principal=SYSTEM, settings=settings, path=path)
    found = {(d["row"], d["field"]): d["reason"] for d in caught.value.details}
    assert "最多 100 字" in found[(3, "客户名称")]
    with session_factory() as s:
        assert s.scalar(select(func.count()).where(WorkOrder.number.startswith(f"IM{tag}"))) == 0
    rows[1]["受理内容"] = "停" * 4001
    rows[1]["客户名称"] = "名"
    csv_path = write_export(tmp_path / "long.csv", rows)
    with session_factory() as s, pytest.raises(InvalidInput) as caught:
        import_orders(s, principal=SYSTEM, settings=settings, path=csv_path)
    assert [(d["row"], d["field"]) for d in caught.value.details] == [(3, "受理内容")]
    assert "最多 4000 字" in caught.value.details[0]["reason"]


def _xlsx_with_sheet(path: Path, sheet_xml: str) -> Path:
    """A minimal XLSX whose first sheet is `sheet_xml` (written by hand: a bomb is cheap to make)."""
    book = Workbook()
    book.save(path)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData>{sheet_xml}</sheetData></worksheet>'
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def test_a_row_of_too_many_cells_is_refused_at_once(tmp_path: Path) -> None:
    cells = "".join(f'<c t="inlineStr"><is><t>{i}</t></is></c>' for i in range(200_000))
    path = _xlsx_with_sheet(tmp_path / "wide.xlsx", f'<row r="1">{cells}</row>')
    started = time.perf_counter()
    with pytest.raises(InvalidInput, match=f"超过 {MAX_COLUMNS} 列"):
        read_table(path)
    assert time.perf_counter() - started < 10  # refused while scanning, not after reading 200,000 cells


def test_a_long_run_of_blank_rows_is_refused(tmp_path: Path) -> None:
    blank = "".join(f'<row r="{i}"/>' for i in range(2, MAX_BLANK_RUN + 10))
    header = '<row r="1"><c t="inlineStr"><is><t>工单编号</t></is></c></row>'
    path = _xlsx_with_sheet(tmp_path / "blank.xlsx", header + blank)
    with pytest.raises(InvalidInput, match="空行"):
        read_table(path)


def test_an_archive_that_unpacks_a_hundredfold_is_refused(tmp_path: Path) -> None:
    path = _xlsx_with_sheet(tmp_path / "bomb.xlsx", '<row r="1"/>')
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.xml", b" " * (40 * 1024 * 1024))
    with pytest.raises(InvalidInput, match="膨胀"):
        read_table(path)


def test_an_import_does_not_hold_the_database_while_it_checks_its_rows(
    session_factory: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Creates failed ("database is locked") during a long import: it wrote as it went, holding the
    writer. Now nothing is written until every row has passed: during the checks another connection
    that will not wait at all (busy timeout 0) still writes."""
    tag = unique("")
    path = write_export(tmp_path / "orders.csv", rows_for(tag, 3))
    checking = threading.Event()
    proceed = threading.Event()
    plan = transfer._Importer._plan

    def slow_plan(self: transfer._Importer, planned: list[tuple[object, dict[str, object]]]) -> object:
        checking.set()
        proceed.wait(30)
        return plan(self, planned)  # type: ignore[arg-type]

    monkeypatch.setattr(transfer._Importer, "_plan", slow_plan)
    outcome: dict[str, object] = {}

    def run() -> None:
        with session_factory() as s:
            outcome["result"] = import_orders(s, principal=SYSTEM, settings=settings, path=path)
            s.commit()

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert checking.wait(30)
        impatient = make_engine(settings.model_copy(update={"sqlite_busy_timeout_ms": 0}))
        try:
            with impatient.begin() as conn:  # must not meet a held write lock
                conn.execute(
                    text("INSERT INTO order_counters (day, value) VALUES ('1999-01-01', 1) "
                         "ON CONFLICT (day) DO UPDATE SET value = order_counters.value + 1")
                )  # fmt: skip
        finally:
            impatient.dispose()
    finally:
        proceed.set()
        worker.join(60)
    assert outcome["result"].inserted == 3  # type: ignore[attr-defined]


def test_pdf_printing_waits_for_a_free_slot(tmp_path: Path) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with render.printer_slot(1, 5):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.perf_counter()
        with pytest.raises(render.PrinterBusy, match="排队"), render.printer_slot(1, 0.5):
            pass
        assert time.perf_counter() - started >= 0.5
    finally:
        release.set()
        holder.join()
    with render.printer_slot(1, 1):  # free again
        pass


def test_files_with_personal_data_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        url = f"sqlite:///{tmp_path / 'private.db'}"
        engine = make_engine(Settings(database_url=url, secret_key="k" * 40))
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        engine.dispose()
        notices = tmp_path / "notices.jsonl"
        FileChannel(notices).send([Outgoing(1, "k1", "13800000000", "停电通知", "正文")])
        secret = tmp_path / "secret"
        Settings(database_url=url, secret_key_file=secret).resolved_secret_key()
    finally:
        os.umask(old)
    for path in (tmp_path / "private.db", notices, secret):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert create_engine(url)  # still an ordinary database file


def test_the_report_workbook_writes_names_as_text() -> None:
    from openpyxl import Workbook as Book

    book = Book()
    render._sheet(
        book,
        "重复来电",
        "标题",
        ["户号", "客户"],
        [["330100000001", '=HYPERLINK("x","y")'], ["2", "@SUM(1)"]],
    )
    sheet = book["重复来电"]
    values = [c for row in sheet.iter_rows(min_row=3) for c in row]
    assert [c.data_type for c in values] == ["s", "s", "s", "s"]
    assert values[1].value.startswith("=")


def test_a_customer_created_by_the_file_keeps_its_area_on_later_orders(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    tag = unique("")
    rows = rows_for(tag, 2)
    rows[1]["户号"] = rows[0]["户号"]  # the second order is the same new customer's ...
    rows[1]["台区编号"] = ""  # ... and names no 台区 nor area class: both come from the customer
    rows[1]["城乡类别"] = ""
    path = write_export(tmp_path / "orders.csv", rows)
    with session_factory() as s:
        import_orders(s, principal=SYSTEM, settings=settings, path=path)
        s.commit()
        orders = s.scalars(
            select(WorkOrder).where(WorkOrder.number.startswith(f"IM{tag}")).order_by(WorkOrder.number)
        ).all()
    assert len(orders) == 2
    assert orders[1].transformer_area_id == orders[0].transformer_area_id is not None
    assert orders[1].village_id == orders[0].village_id is not None
