"""Reading and writing the spreadsheets staff exchange: CSV (UTF-8 with or without BOM, or GBK) and XLSX.

Row numbers are those a person sees in Excel: the header is row 1, the first data row is row 2.

Files are checked for size and shape before they are read, and refused at once with a clear error when
they are too large or shaped like a bomb (an XLSX that unpacks a hundredfold, a row of millions of
cells, a million blank rows, a CSV field longer than any spreadsheet cell).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from defusedxml.ElementTree import iterparse

from gridcare.errors import InvalidInput

T = TypeVar("T")

_ENCODINGS = ("utf-8-sig", "gb18030")  # gb18030 is a superset of GBK
# A cell starting with one of these is a formula to a spreadsheet program (CSV) or to openpyxl (=).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")

# What an import accepts. Fields have their own, smaller limits in each importer (as in the API).
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_PACK_RATIO = 100  # an XLSX part over 16 MB that unpacks more than a hundredfold is a bomb
MAX_ROWS = 1_000_000
MAX_COLUMNS = 256
MAX_BLANK_RUN = 10_000
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell


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
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in FORMULA_LEADS and text[1:2]:  # written by csv_safe
        return text[1:]
    return text


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
    blank = 0
    for number, raw in enumerate(iterator, start=2):
        values = [_cell(v) for v in raw]
        if not any(values):
            blank += 1
            if blank > MAX_BLANK_RUN:
                raise _refuse(
                    name, f"连续超过 {MAX_BLANK_RUN} 个空行（至第 {number} 行），请删除空行后再导入", number
                )
            continue  # blank lines carry nothing
        blank = 0
        if number > MAX_ROWS + 1:
            raise _refuse(name, f"超过 {MAX_ROWS} 行", number)
        too_long = next(
            (h for i, h in enumerate(headers) if i < len(values) and len(values[i]) > MAX_CELL_CHARS), None
        )
        if too_long is not None:
            raise _refuse(name, f"第 {number} 行“{too_long}”超过 {MAX_CELL_CHARS} 个字符", number)
        rows.append((number, {h: (values[i] if i < len(values) else "") for i, h in enumerate(headers) if h}))
    return Table(headers=[h for h in headers if h], rows=rows)


def _refuse(name: str, why: str, row: int | None = None) -> InvalidInput:
    details: list[dict[str, Any]] = [{"reason": why}] if row is None else [{"row": row, "reason": why}]
    return InvalidInput(f"文件 {name} 未导入：{why}", details=details)


def _check_archive(path: Path) -> None:
    """Before anything is unpacked (openpyxl reads the shared strings whole): refuse an archive that
    unpacks too far, or a part that unpacks a hundredfold."""
    name = path.name
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
            raise _refuse(name, f"解压后超过 {MAX_UNPACKED_BYTES // 1024 // 1024} MB")
        for info in infos:
            if info.file_size > 16 * 1024 * 1024 and info.file_size > MAX_PACK_RATIO * max(
                info.compress_size, 1
            ):
                raise _refuse(name, f"文件结构异常（{info.filename} 解压后膨胀超过 {MAX_PACK_RATIO} 倍）")


def _check_xlsx(path: Path, member: str) -> None:
    """Refuse a sheet with too many rows, too wide a row, or a long run of blank rows: it is scanned (a
    streaming parse, stopping at the first problem) before openpyxl reads its rows."""
    name = path.name
    with zipfile.ZipFile(path) as archive:
        try:
            source = archive.open(member)
        except KeyError:
            return
        with source:
            rows = cells = blank = 0
            number = 0
            for event, element in iterparse(source, events=("start", "end")):
                tag = element.tag.rpartition("}")[2]
                if event == "start" and tag == "row":
                    rows += 1
                    cells = 0
                    given = element.get("r")
                    number = int(given) if given and given.isdigit() else number + 1
                    if rows > MAX_ROWS or number > MAX_ROWS + 1:
                        raise _refuse(name, f"超过 {MAX_ROWS} 行", number)
                elif event == "start" and tag == "c":
                    cells += 1
                    if cells > MAX_COLUMNS:
                        raise _refuse(name, f"第 {number} 行超过 {MAX_COLUMNS} 列", number)
                elif event == "end" and tag == "row":
                    blank = blank + 1 if cells == 0 else 0
                    if blank > MAX_BLANK_RUN:
                        raise _refuse(
                            name,
                            f"连续超过 {MAX_BLANK_RUN} 个空行（至第 {number} 行），请删除空行后再导入",
                            number,
                        )
                    element.clear()
                elif event == "end" and tag == "sheetData":
                    break


def _read_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    _check_archive(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InvalidInput(f"无法读取 Excel 文件 {path.name}：{type(exc).__name__}") from exc
    try:
        sheet = workbook.worksheets[0]
        _check_xlsx(path, str(getattr(sheet, "_worksheet_path", "")).lstrip("/"))
        return _build(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), path.name)
    finally:
        workbook.close()


def _csv_rows(text: str, name: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _refuse(
                name,
                f"第 {reader.line_num} 行无法读取（字段超过 {MAX_CELL_CHARS} 个字符或引号不配对）",
                reader.line_num,
            ) from exc
        if reader.line_num > MAX_ROWS + 1:
            raise _refuse(name, f"超过 {MAX_ROWS} 行", reader.line_num)
        if len(row) > MAX_COLUMNS:
            raise _refuse(name, f"第 {reader.line_num} 行超过 {MAX_COLUMNS} 列", reader.line_num)
        yield row


def read_table(path: Path) -> Table:
    if not path.exists():
        raise InvalidInput(f"文件不存在：{path}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _refuse(
            path.name, f"文件大小 {size // 1024 // 1024} MB，超过 {MAX_FILE_BYTES // 1024 // 1024} MB"
        )
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        if not zipfile.is_zipfile(path):
            raise InvalidInput(f"无法读取 Excel 文件 {path.name}：不是有效的 XLSX 文件")
        return _read_xlsx(path)
    if suffix in (".csv", ".txt"):
        text = decode_text(path.read_bytes(), path.name)
        csv.field_size_limit(MAX_CELL_CHARS)
        return _build(_csv_rows(text, path.name), path.name)
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


def as_text(cells: Iterable[Any]) -> None:
    """Mark every string cell as text: a value like "=HYPERLINK(…)" typed by a caller stays words."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _text_cells(sheet: Any, row: Sequence[object]) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in row:
        cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells


def csv_safe(value: object) -> object:
    """A text cell that a spreadsheet program would run as a formula gets a leading apostrophe, which
    Excel shows as text (and `read_table` removes again)."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def write_table(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write CSV (UTF-8 with BOM, so Excel opens it in Chinese) or XLSX by the file's suffix. Text is
    written as text: nothing anyone typed becomes a formula."""
    count = 0
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(_text_cells(sheet, list(headers)))
        for row in rows:
            sheet.append(_text_cells(sheet, row))
            count += 1
        workbook.save(path)
        return count
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([csv_safe(v) for v in row])
            count += 1
    return count


def chunks_of(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of up to `size` items from any iterable (a streamed query, say)."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def iter_chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
