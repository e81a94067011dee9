"""``汇总表.xlsx``: the seed table (一级/二级/序号/三级指标/测评方法/填报材料/责任单位及责任人) with what
was collected beside each row, written with openpyxl so that WPS and Excel open it as people expect:
one sheet, a frozen bold header, autofilter, fixed column widths, wrapped text aligned to the top,
and the file cell linked (relative hyperlink) to the exported file or the item's folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from db.hygiene import clean_text

SHEET_TITLE = "材料汇总"

# (header, attribute, width in characters). The first seven mirror the bureau's table.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("一级指标", "level1", 16),
    ("二级指标", "level2", 18),
    ("序号", "number", 6),
    ("三级指标", "text", 48),
    ("测评方法", "methods", 12),
    ("填报材料", "materials", 36),
    ("责任单位及责任人", "owners", 16),
    ("报送状态", "status", 14),
    ("材料文件", "files", 36),
    ("收到日期", "received", 12),
    ("不涉及声明", "declarations", 18),
    ("问题", "problems", 36),
    ("材料时限", "period", 16),
)
HEADERS = tuple(h for h, _, _ in COLUMNS)


@dataclass(frozen=True)
class SummaryRow:
    level1: str
    level2: str
    number: str
    text: str
    methods: str
    materials: str
    owners: str
    status: str
    files: str  # exported names, one per line
    files_link: str | None  # relative path of the file (one) or the item's folder (several)
    received: str
    declarations: str
    problems: str
    period: str


_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_OUTSTANDING_FILL = PatternFill("solid", fgColor="FCE4D6")
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")


def write_summary(path: Path, rows: Sequence[SummaryRow], title: str) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_TITLE
    for col, (header, _, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=col, value=header)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = _BORDER
        ws.column_dimensions[get_column_letter(col)].width = width
    files_col = HEADERS.index("材料文件") + 1
    status_col = HEADERS.index("报送状态") + 1
    for r, row in enumerate(rows, start=2):
        for col, (_, attr, _) in enumerate(COLUMNS, start=1):
            # Control characters (a sender's file name, a catalogue typo) would make openpyxl refuse the
            # whole workbook; they never mean anything in a cell.
            value = clean_text(getattr(row, attr))
            cell = ws.cell(row=r, column=col, value=value if value != "" else None)
            cell.alignment = _WRAP
            cell.border = _BORDER
        if row.files_link:
            link = ws.cell(row=r, column=files_col)
            link.hyperlink = clean_text(row.files_link)
            link.font = Font(color="0563C1", underline="single")
        if row.status.startswith("待报送"):
            ws.cell(row=r, column=status_col).fill = _OUTSTANDING_FILL
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(rows) + 1)}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    wb.properties.title = clean_text(title)
    wb.save(path)
    return path
