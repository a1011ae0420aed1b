"""The CSV shape of a resource: one column per field, nested objects flattened.

A column is named by its path in the create schema (`region.code`, `outcomes.capacity`).
List cells hold their items separated by `;` (`photonics;aerospace`); lists of small objects
hold each object's parts separated by `:` (`US:1;CA`, `opticsvalley:coordinator`). A
backslash makes the next character literal (`\\;`, `\\:`, `\\\\`); the last part of an
object may hold colons unescaped, so URLs need no escaping. An empty cell means "no value":
the field takes its default (null, an empty list, the schema's default).

Spreadsheets run a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return as a
formula (CSV injection, OWASP), so such a cell is written with a backslash before it
(`\\=HYPERLINK(...)`), which reading removes. In list and object cells that is the ordinary
escape; in a plain value cell a leading backslash is dropped only before one of those
characters or another backslash, so a value that itself begins with a backslash is written
with one more (`\\\\server`), and every value reads back exactly as it was written.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["value", "list", "objects"]

ESCAPE = "\\"
FORMULA_STARTS = frozenset("=+-@\t\r")
# What a leading backslash of a plain value cell stands before when the writer put it there.
ESCAPED_VALUE_STARTS = FORMULA_STARTS | {ESCAPE}


@dataclass(frozen=True)
class CsvColumn:
    name: str
    kind: Kind = "value"
    parts: tuple[str, ...] = ()  # the object's fields, in cell order (kind "objects")

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))


def value(name: str) -> CsvColumn:
    return CsvColumn(name)


def listing(name: str) -> CsvColumn:
    return CsvColumn(name, "list")


def objects(name: str, *parts: str) -> CsvColumn:
    return CsvColumn(name, "objects", parts)


# Reading ---------------------------------------------------------------------------------


def _split(text: str, separator: str, limit: int = -1) -> list[str]:
    """Split on unescaped separators (at most limit times), keeping escapes for later."""
    if "\\" not in text:
        return text.split(separator, limit) if limit >= 0 else text.split(separator)
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if char == separator and (limit < 0 or len(parts) < limit):
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def decode_cell(column: CsvColumn, cell: str) -> Any:
    if column.kind == "value":
        return cell[1:] if cell[:1] == ESCAPE and cell[1:2] in ESCAPED_VALUE_STARTS else cell
    items = [item for item in _split(cell, ";")]
    if column.kind == "list":
        return [_unescape(item) for item in items]
    decoded = []
    for item in items:
        pieces = _split(item, ":", len(column.parts) - 1)
        decoded.append({part: _unescape(piece) for part, piece in zip(column.parts, pieces, strict=False) if piece != ""})
    return decoded


def decode_row(columns: list[CsvColumn], cells: list[str]) -> dict[str, Any]:
    """The record (nested like the create schema) a CSV row stands for."""
    record: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=True):
        if cell == "":
            continue
        *parents, leaf = column.path
        target = record
        for name in parents:
            target = target.setdefault(name, {})
        target[leaf] = decode_cell(column, cell)
    return record


# Writing ---------------------------------------------------------------------------------


def _escape(text: str, colons: bool) -> str:
    text = text.replace("\\", "\\\\").replace(";", "\\;")
    return text.replace(":", "\\:") if colons else text


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def encode_cell(column: CsvColumn, value: Any) -> str:
    if column.kind == "value":
        text = _scalar(value)
        return ESCAPE + text if text[:1] in ESCAPED_VALUE_STARTS else text
    if not value:
        return ""
    if column.kind == "list":
        return _neutralised(";".join(_escape(_scalar(item), colons=False) for item in value))
    encoded = []
    for item in value:
        pieces = [_scalar(item.get(part)) for part in column.parts]
        while len(pieces) > 1 and pieces[-1] == "":
            pieces.pop()
        # Only the object's last field may keep its colons: reading splits on the others.
        last = len(column.parts) - 1
        encoded.append(":".join(_escape(piece, colons=i < last) for i, piece in enumerate(pieces)))
    return _neutralised(";".join(encoded))


def _neutralised(cell: str) -> str:
    """A list or object cell a spreadsheet would run, escaped (a leading backslash there is
    already escaped by _escape, so this one reads back as the ordinary escape)."""
    return ESCAPE + cell if cell[:1] in FORMULA_STARTS else cell


def _get(record: dict[str, Any], path: Iterable[str]) -> Any:
    value: Any = record
    for name in path:
        if value is None:
            return None
        value = value.get(name)
    return value


def encode_row(columns: list[CsvColumn], record: dict[str, Any]) -> list[str]:
    return [encode_cell(column, _get(record, column.path)) for column in columns]
