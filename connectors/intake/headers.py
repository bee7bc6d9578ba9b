"""What every reader of a data file shares: its one error (FMT-003, or FMT-007 for a limit) and the
header checks (empty, merged or duplicate header cells are FMT-003)."""

from __future__ import annotations


class ReadError(Exception):
    """A file cannot be read (FMT-003) or breaks a limit (FMT-007)."""

    def __init__(self, message_zh: str, message_en: str, *, rule_id: str = "FMT-003", row: int | None = None,
                 column: str | None = None) -> None:
        super().__init__(message_en)
        self.message_zh, self.message_en = message_zh, message_en
        self.rule_id, self.row, self.column = rule_id, row, column



def check_header(names: list[str]) -> list[str]:
    if not names or all(not n for n in names):
        raise ReadError("缺少表头行", "no header row")
    for i, name in enumerate(names):
        if not name:
            raise ReadError(
                f"第 {i + 1} 列表头为空（合并单元格？）", f"header cell {i + 1} is empty (merged cells?)",
                column=f"#{i + 1}",
            )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ReadError(f"表头重复：{name}", f"duplicate header name {name!r}", column=name)
        seen.add(name)
    return names
