"""`gridcare import orders` and `gridcare report` as a manager runs them: real processes, real files."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook

from tests.analytics.conftest import HandMonth, hand_month_rows, new_hand_month, write_export
from tests.test_cli import gridcare


def test_report_files_a_manager_can_open(database_url: str, hand_month: HandMonth, tmp_path: Path) -> None:
    env = {"GRIDCARE_ANALYTICS_PATH": str(tmp_path / "snapshot.duckdb")}
    period = ["--from", "2025-03-01", "--to", "2025-03-31", "--unit", hand_month.city]
    shown = gridcare(database_url, "report", *period, env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["totals"]["complaints"] == 5

    html = tmp_path / "report.html"
    r = gridcare(database_url, "report", *period, "--format", "html", "--out", str(html), env=env)
    assert r.returncode == 0, r.stderr
    assert "数据刷新于" in r.stdout
    page = html.read_text(encoding="utf-8")
    assert f"{hand_month.city} 投诉监测通报" in page
    assert "echarts" in page
    assert "<script src=" not in page
    assert "营业厅人员服务态度" in page

    xlsx = tmp_path / "report.xlsx"
    r = gridcare(database_url, "report", *period, "--format", "xlsx", "--out", str(xlsx), env=env)
    assert r.returncode == 0, r.stderr
    book = load_workbook(xlsx)
    assert book.sheetnames == [
        "总体情况",
        "业务类型",
        "投诉分类",
        "城乡分布",
        "单位",
        "时段",
        "台区热点",
        "重复来电",
        "环节时长",
        "满意度",
    ]
    overview = book["总体情况"]
    assert overview["A3"].value == "工单总量"
    assert overview["B3"].value == 7
    assert any(row[1] == hand_month.t1 for row in book["台区热点"].iter_rows(min_row=3, values_only=True))

    pdf = tmp_path / "report.pdf"
    r = gridcare(database_url, "report", *period, "--format", "pdf", "--out", str(pdf), env=env)
    assert r.returncode == 0, r.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 20_000

    bad = gridcare(
        database_url,
        "report",
        "--from",
        "2025-03-31",
        "--to",
        "2025-03-01",
        "--unit",
        hand_month.city,
        env=env,
    )
    assert bad.returncode == 1
    assert "早于" in bad.stderr


def test_import_orders_reports_bad_rows(database_url: str, tmp_path: Path) -> None:
    month = new_hand_month("命令行市")
    rows = hand_month_rows(month)
    good = write_export(tmp_path / "good.csv", rows)
    r = gridcare(database_url, "import", "orders", str(good))
    assert r.returncode == 0, r.stderr
    assert "新增工单 9" in r.stdout
    assert "供电所 2" in r.stdout
    again = gridcare(database_url, "import", "orders", str(good))
    assert "新增工单 0，已存在 9" in again.stdout
    rows[2]["回访满意度"] = "还行"
    rows[2]["工单编号"] += "N"
    bad = gridcare(database_url, "import", "orders", str(write_export(tmp_path / "bad.csv", rows)))
    assert bad.returncode == 1
    assert "第 4 行 回访满意度" in bad.stderr
    assert "未导入任何数据" in bad.stderr
