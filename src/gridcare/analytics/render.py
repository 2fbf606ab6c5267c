"""The monitoring report as files: JSON, a standalone HTML page with its charts, an Excel bulletin
(月度通报: one sheet per section) and a PDF printed from the HTML by headless Chromium."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from gridcare.tabular import as_text
from gridcare.templating import STATIC_DIR, templates

FORMATS = ("json", "html", "xlsx", "pdf")
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class RenderError(Exception):
    pass


def html_document(document: dict[str, Any]) -> str:
    """One self-contained page: styles, ECharts and the chart script inlined, so it opens offline."""
    template = templates.env.get_template("report_file.html")
    return template.render(
        r=document,
        standalone=True,
        css=(STATIC_DIR / "app.css").read_text(encoding="utf-8"),
        echarts_js=(STATIC_DIR / "echarts.min.js").read_text(encoding="utf-8"),
        report_js=(STATIC_DIR / "report.js").read_text(encoding="utf-8"),
    )


def chromium() -> str:
    configured = os.environ.get("GRIDCARE_CHROMIUM")
    if configured:
        return configured
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise RenderError(
        "生成 PDF 需要 Chromium：请安装（Debian：apt-get install chromium）或设置 GRIDCARE_CHROMIUM"
    )


class PrinterBusy(RenderError):
    """Every Chromium slot stayed busy for the whole wait."""


_waiting = 0
_waiting_lock = threading.Lock()


@contextmanager
def printer_slot(slots: int, wait_seconds: float) -> Iterator[None]:
    """One of `slots` turns to run Chromium on this host, shared by every process through lock files
    (each Chromium takes hundreds of MB: requests queue instead of starting one each). At most twice
    `slots` requests of a process wait in the queue (each holds a worker thread); more are refused at
    once, so a burst of PDF requests cannot stall the server's other pages."""
    global _waiting
    with _waiting_lock:
        if _waiting >= 2 * slots:
            raise PrinterBusy("PDF 生成排队已满，请稍后再试")
        _waiting += 1
    try:
        handle = _take_slot(slots, wait_seconds)
    finally:
        with _waiting_lock:
            _waiting -= 1
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _take_slot(slots: int, wait_seconds: float) -> IO[str]:
    """The lock file of a free slot (held), waiting up to `wait_seconds` for one."""
    folder = Path(tempfile.gettempdir()) / f"gridcare-pdf-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        for index in range(slots):
            handle = (folder / f"slot-{index}.lock").open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return handle
        if time.monotonic() >= deadline:
            raise PrinterBusy(f"PDF 生成排队超过 {wait_seconds:.0f} 秒，请稍后再试")
        time.sleep(0.2)


def pdf_bytes(document: dict[str, Any], *, slots: int = 2, wait_seconds: float = 60) -> bytes:
    with printer_slot(slots, wait_seconds), tempfile.TemporaryDirectory(prefix="gridcare-report-") as work:
        page = Path(work) / "report.html"
        target = Path(work) / "report.pdf"
        page.write_text(html_document(document), encoding="utf-8")
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-pdf-header-footer",
            "--virtual-time-budget=10000",
            f"--user-data-dir={Path(work) / 'profile'}",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=180)  # noqa: S603 - fixed arguments
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise RenderError(f"Chromium 生成 PDF 失败：{exc}") from exc
        if not target.exists() or target.stat().st_size == 0:
            raise RenderError("Chromium 未生成 PDF 文件")
        return target.read_bytes()


def _sheet(
    workbook: Any, title: str, heading: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet = workbook.create_sheet(title)
    sheet.append([heading])
    as_text(sheet[1])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(list(headers))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E3F4EC")
        cell.alignment = Alignment(horizontal="center")
    for row in rows:
        sheet.append(["" if v is None else v for v in row])
        as_text(sheet[sheet.max_row])
    for index, header in enumerate(headers, start=1):
        width = max(
            [len(str(header)) * 2 + 2] + [len(str(r[index - 1])) + 2 for r in rows[:200] if len(r) >= index]
        )
        sheet.column_dimensions[sheet.cell(row=2, column=index).column_letter].width = min(max(width, 8), 48)
    sheet.freeze_panes = "A3"


def _labelled(groups: Sequence[tuple[str, Sequence[dict[str, Any]]]], keys: Sequence[str]) -> list[list[Any]]:
    """Rows of several lists under one header: each row starts with its group's label."""
    return [[label, *(item[k] for k in keys)] for label, items in groups for item in items]


def xlsx_bytes(document: dict[str, Any]) -> bytes:
    from openpyxl import Workbook

    r = document
    t = r["totals"]
    period = f"{r['period']['from']} 至 {r['period']['to']}"
    head = f"{r['unit']['name']} 投诉监测通报（{period}；数据刷新于 {r['refreshed_at']}）"
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    _sheet(
        wb,
        "总体情况",
        head,
        ["指标", "本期", "上期", "去年同期", "环比%", "同比%"],
        [
            [
                "工单总量",
                t["orders"],
                t["previous"]["orders"],
                t["last_year"]["orders"],
                t["change"]["orders_vs_previous"],
                t["change"]["orders_vs_last_year"],
            ],
            [
                "投诉工单",
                t["complaints"],
                t["previous"]["complaints"],
                t["last_year"]["complaints"],
                t["change"]["complaints_vs_previous"],
                t["change"]["complaints_vs_last_year"],
            ],
            ["重复来电", t["repeat_calls"], t["previous"]["repeat_calls"], t["last_year"]["repeat_calls"]],
            [
                "重复来电率%",
                r["repeat_call_rate"],
                t["previous"]["repeat_call_rate"],
                t["last_year"]["repeat_call_rate"],
            ],
            [
                "回访满意率%",
                r["satisfaction_rate"],
                t["previous"]["satisfaction_rate"],
                t["last_year"]["satisfaction_rate"],
            ],
            ["优质服务评价指数", r["service_index"]["value"]],
            ["万户投诉量", r["complaints_per_10k"]],
            ["客户数", t["customers"]],
        ],
    )
    _sheet(
        wb,
        "业务类型",
        f"业务类型构成（{period}）",
        ["业务类型", "工单数", "占比%", "上期", "去年同期"],
        [[x["name"], x["count"], x["share"], x["previous"], x["last_year"]] for x in r["by_type"]],
    )
    categories = []
    for level, label in (("l1", "一级"), ("l2", "二级"), ("l3", "三级")):
        categories += [
            [label, x["name"], x["code"], x["count"], x["share"], x["previous"], x["last_year"]]
            for x in r["complaints_by_category"][level]
        ]
    _sheet(
        wb,
        "投诉分类",
        f"投诉分类（{period}）",
        ["级别", "分类", "编码", "投诉数", "占比%", "上期", "去年同期"],
        categories,
    )
    _sheet(
        wb,
        "城乡分布",
        f"城乡分布（{period}）",
        ["城乡类别", "工单数", "投诉数", "投诉占比%"],
        [[x["name"], x["orders"], x["complaints"], x["complaint_share"]] for x in r["by_area_class"]],
    )
    units = _labelled(
        [("县公司", r["by_unit"]["counties"]), ("供电所", r["by_unit"]["stations"])],
        ("name", "code", "orders", "complaints", "customers", "complaints_per_10k"),
    )
    _sheet(
        wb,
        "单位",
        f"各单位（{period}）",
        ["层级", "单位", "编码", "工单数", "投诉数", "客户数", "万户投诉量"],
        units,
    )
    hours = [[f"{x['hour']}时", x["orders"], x["complaints"]] for x in r["by_hour"]]
    hours += [[x["name"], x["orders"], x["complaints"]] for x in r["by_weekday"]]
    _sheet(wb, "时段", f"受理时段与星期（{period}）", ["时段/星期", "工单数", "投诉数"], hours)
    hot = [
        ["多户投诉", h["code"], h["name"], h["station"], h["complaints"], f"{h['customers']} 户"]
        for h in r["hotspots"]["multi_customer"]
    ]
    hot += [
        ["连续月份", h["code"], h["name"], h["station"], h["complaints"], "、".join(h["months"])]
        for h in r["hotspots"]["consecutive_months"]
    ]
    hot += [
        [
            "去年同期",
            h["code"],
            h["name"],
            h["station"],
            h["complaints"],
            f"去年 {h['last_year_complaints']} 件",
        ]
        for h in r["hotspots"]["same_month_last_year"]
    ]
    _sheet(
        wb,
        "台区热点",
        f"台区热点（{period}）",
        ["类型", "台区编号", "台区", "供电所", "本期投诉", "说明"],
        hot,
    )
    callers = _labelled(
        [("多次来电", r["repeat_callers"]["top"]), ("敏感客户", r["sensitive_customers"]["top"])],
        ("account_no", "name", "orders", "complaints", "repeat_calls"),
    )
    _sheet(
        wb,
        "重复来电",
        f"重复来电与敏感客户（{period}）",
        ["类别", "户号", "客户", "工单", "投诉", "重复来电"],
        callers,
    )
    figures = (
        "name",
        "count",
        "median_minutes",
        "p90_minutes",
        "max_minutes",
        "late",
        "open_overdue",
        "overdue_rate",
    )
    steps = _labelled([("全部", r["steps"]["by_step"])], figures)
    steps += [[s["unit"], *(s[k] for k in figures)] for s in r["steps"]["by_unit"]]
    _sheet(
        wb,
        "环节时长",
        f"环节时长与超时（分钟；{period}）",
        ["单位", "环节", "完成数", "中位", "90%分位", "最长", "超时", "在途超时", "超时率%"],
        steps,
    )
    index = r["service_index"]
    _sheet(
        wb,
        "满意度",
        f"回访满意度与优质服务评价指数（{period}）",
        ["项目", "数值"],
        [[s["name"], s["count"]] for s in r["satisfaction"]]
        + [
            ["回访满意率%", r["satisfaction_rate"]],
            ["优质服务评价指数", index["value"]],
            ["受理工单（不含故障报修、表扬、一次办结咨询）", index["orders_handled"]],
            ["同一事件来电3次及以上", index["events_with_3_calls"]],
            ["满意率扣减", index["satisfaction_deduction"]],
        ],
    )
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        wb.save(tmp.name)
        return Path(tmp.name).read_bytes()


def render_bytes(
    document: dict[str, Any], fmt: str, *, pdf_slots: int = 2, pdf_wait_seconds: float = 60
) -> bytes:
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    if fmt == "html":
        return html_document(document).encode("utf-8")
    if fmt == "xlsx":
        return xlsx_bytes(document)
    if fmt == "pdf":
        return pdf_bytes(document, slots=pdf_slots, wait_seconds=pdf_wait_seconds)
    raise RenderError(f"不支持的格式 {fmt}：可选 {'、'.join(FORMATS)}")


def write(
    document: dict[str, Any], fmt: str, path: Path, *, pdf_slots: int = 2, pdf_wait_seconds: float = 60
) -> None:
    path.write_bytes(render_bytes(document, fmt, pdf_slots=pdf_slots, pdf_wait_seconds=pdf_wait_seconds))
