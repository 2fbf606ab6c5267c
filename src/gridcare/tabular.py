"""Reading and writing the spreadsheets staff exchange: CSV (UTF-8 with or without BOM, or GBK) and XLSX.

Row numbers are those a person sees in Excel: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from gridcare.errors import InvalidInput

T = TypeVar("T")

_ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 户号 typed as numbers as floats
    return str(value).strip()


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM) or GBK; otherwise a clear error naming the file."""
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"文件 {name} 的编码无法识别：请使用 UTF-8 或 GBK 编码的 CSV")


def _build(raw_rows: Iterable[Sequence[object]], name: str) -> Table:
    iterator = iter(raw_rows)
    header_row = next(iterator, None)
    if header_row is None:
        raise InvalidInput(f"文件 {name} 是空的：第 1 行应为表头")
    headers = [_cell(h) for h in header_row]
    rows: list[tuple[int, dict[str, str]]] = []
    for number, raw in enumerate(iterator, start=2):
        values = [_cell(v) for v in raw]
        if not any(values):
            continue  # blank lines carry nothing
        rows.append((number, {h: (values[i] if i < len(values) else "") for i, h in enumerate(headers) if h}))
    return Table(headers=[h for h in headers if h], rows=rows)


def read_table(path: Path) -> Table:
    if not path.exists():
        raise InvalidInput(f"文件不存在：{path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise InvalidInput(f"无法读取 Excel 文件 {path.name}：{exc}") from exc
        sheet = workbook.worksheets[0]
        try:
            return _build(sheet.iter_rows(values_only=True), path.name)
        finally:
            workbook.close()
    if suffix in (".csv", ".txt"):
        text = decode_text(path.read_bytes(), path.name)
        return _build(csv.reader(io.StringIO(text)), path.name)
    raise InvalidInput(f"不支持的文件类型 {suffix or '(无扩展名)'}：请使用 .csv 或 .xlsx")


def resolve_columns(
    headers: Sequence[str], aliases: Mapping[str, Sequence[str]], required: Iterable[str]
) -> dict[str, str]:
    """Map each field to the header the file uses for it; every required field must be present."""
    folded = {h.strip().lower(): h for h in headers}
    found: dict[str, str] = {}
    for field, names in aliases.items():
        for name in (field, *names):
            if name.lower() in folded:
                found[field] = folded[name.lower()]
                break
    missing = [f for f in required if f not in found]
    if missing:
        wanted = "、".join(f"{aliases[f][0]}({f})" for f in missing)
        raise InvalidInput(f"表头缺少必需的列：{wanted}", details=[{"row": 1, "field": f} for f in missing])
    return found


def write_table(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write CSV (UTF-8 with BOM, so Excel opens it in Chinese) or XLSX by the file's suffix."""
    count = 0
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(list(headers))
        for row in rows:
            sheet.append(list(row))
            count += 1
        workbook.save(path)
        return count
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def iter_chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
