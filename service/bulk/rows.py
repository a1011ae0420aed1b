"""Rows of a file, validated with the resource's create schema into staging tuples.

Every rule the API enforces on a create holds here too, because the same pydantic model
validates each row; on top, the sector codes must be in the vocabulary and the natural key
must be given. A row that fails is reported (line, field, message) and staged by its key
only, so that a later row with the same key is still found to be a duplicate.
"""

import csv
import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from service.bulk import csvcodec
from service.bulk.reading import TOO_LONG
from service.bulk.schemas import RowError
from service.bulk.spec import Resource
from service.errors import FieldError, InvalidInput
from service.kit.language_detection import detected_together

log = logging.getLogger(__name__)

Record = tuple[int, bytes | None]  # (line, bytes of the record or TOO_LONG)
StagedRow = tuple[Any, ...]  # line, ok, then the staging columns
# A row's outcome, taken once the batch is validated: the languages of a batch's rows are
# detected together at its end (kit/language_detection), and the outcomes are then taken in
# line order, so the errors a report keeps are the same as if each row were taken at once.
Staging = Callable[[], StagedRow]


class Rows:
    """Validates the records of one file, batch by batch, and keeps the report's errors."""

    def __init__(self, resource: Resource, known_sectors: set[str], max_errors: int, max_record_bytes: int) -> None:
        self.resource = resource
        self.known_sectors = known_sectors
        self.max_errors = max_errors
        self.max_record_bytes = max_record_bytes
        self.received = 0
        self.rejected = 0
        self.error_count = 0
        self.errors: list[RowError] = []
        self._values = resource.staged_values
        self._width = 2 + len(resource.staging_columns)
        self._key_at = 2 + resource.key_index
        self._sector_getters = [(name, _getter(name)) for name in resource.sector_fields]

    # Outcomes of one row -------------------------------------------------------------

    def _error(self, line: int, field: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(RowError(line=line, field=field, message=message))

    def _reject(self, line: int, key: Any, problems: Sequence[tuple[str | None, str]]) -> StagedRow:
        self.rejected += 1
        for field, message in problems:
            self._error(line, field, message)
        blank: list[Any] = [None] * self._width
        blank[0], blank[1], blank[self._key_at] = line, False, _stageable_key(key, self.resource.normalise_key)
        return tuple(blank)

    def _accept(self, line: int, row: BaseModel) -> StagedRow:
        problems: list[tuple[str | None, str]] = []
        key = getattr(row, self.resource.key)
        if key is None and self.resource.key_required:
            problems.append((self.resource.key, f"{self.resource.key} is required in bulk loads: it is the key a re-load updates by"))
        for name, get in self._sector_getters:
            codes = get(row)
            if codes and not self.known_sectors.issuperset(codes):
                unknown = ", ".join(sorted(set(codes) - self.known_sectors))
                problems.append((name, f"unknown sector code(s): {unknown}; see /v1/sectors"))
        if problems:
            return self._reject(line, key, problems)
        return (line, True, *self._values(row))

    def _too_long(self, line: int) -> StagedRow:
        return self._reject(line, None, [(None, f"the row is longer than {self.max_record_bytes} bytes")])

    def _invalid(self, line: int, key: Any, exc: Exception) -> StagedRow:
        if isinstance(exc, ValidationError):
            return self._reject(line, key, _problems(exc))
        # A validator that fails in an unforeseen way must not cost the whole file a 500.
        log.exception("bulk row %d of %s could not be validated", line, self.resource.name)
        return self._reject(line, key, [(None, "the row could not be validated")])

    # NDJSON -------------------------------------------------------------------------------

    def ndjson(self, records: list[Record]) -> list[StagedRow]:
        validate = self.resource.model.model_validate_json
        accept = self._accept
        out: list[Staging] = []
        self.received += len(records)
        with detected_together():
            for line, raw in records:
                if raw is TOO_LONG:
                    out.append(partial(self._too_long, line))
                    continue
                try:
                    row = validate(raw)
                except Exception as exc:  # noqa: BLE001 - see _invalid
                    out.append(partial(self._invalid, line, _json_key(raw, self.resource.key), exc))
                    continue
                out.append(partial(accept, line, row))
        return [stage() for stage in out]


class CsvRows(Rows):
    """The same for CSV: the first record is the header, naming the columns."""

    def __init__(self, resource: Resource, known_sectors: set[str], max_errors: int, max_record_bytes: int) -> None:
        super().__init__(resource, known_sectors, max_errors, max_record_bytes)
        self.columns: list[csvcodec.CsvColumn] | None = None
        self._key_cell: int | None = 0

    def header(self, raw: bytes | None) -> list[csvcodec.CsvColumn]:
        """Read the header; returns the columns it names (kept as self.columns)."""
        if raw is TOO_LONG:
            raise InvalidInput.field("body.header", "the CSV header is longer than the longest record allowed")
        try:
            names = next(csv.reader([raw.decode("utf-8")]))
        except (UnicodeDecodeError, csv.Error, StopIteration):
            raise InvalidInput.field("body.header", "the first line must be a CSV header of column names, in UTF-8") from None
        names = [name.strip() for name in names]
        known = self.resource.csv_by_name
        errors = [FieldError(location="body.header", message=f"unknown column '{n}'") for n in names if n not in known]
        errors += [FieldError(location="body.header", message=f"column '{n}' appears twice")
                   for n in sorted({n for n in names if names.count(n) > 1})]
        given = {n.split(".")[0] for n in names}
        # A field named by its alias (`from`) is a column of that name.
        fields = ((f.alias or n, f) for n, f in self.resource.model.model_fields.items())
        required = [n for n, f in fields if f.is_required() and n not in given]
        if self.resource.key_required and self.resource.key not in given:
            required.append(self.resource.key)
        errors += [FieldError(location="body.header", message=f"column '{n}' is required") for n in required]
        if errors:
            columns = ", ".join(known)
            raise InvalidInput(f"The CSV header does not fit {self.resource.name}; its columns are: {columns}.", errors=errors)
        self.columns = [known[n] for n in names]
        self._key_cell = names.index(self.resource.key) if self.resource.key in names else None
        return self.columns

    def csv(self, records: list[Record]) -> list[StagedRow]:
        columns = self.columns
        if columns is None:
            if not records:
                return []
            columns = self.header(records[0][1])
            records = records[1:]
        validate = self.resource.model.model_validate
        accept, reject = self._accept, self._reject
        width = len(columns)
        out: list[Staging] = []
        self.received += len(records)
        with detected_together():
            for line, raw in records:
                if raw is TOO_LONG:
                    out.append(partial(self._too_long, line))
                    continue
                try:
                    cells = next(csv.reader([raw.decode("utf-8")]))
                except UnicodeDecodeError:
                    out.append(partial(reject, line, None, [(None, "the row is not valid UTF-8")]))
                    continue
                except csv.Error as exc:
                    out.append(partial(reject, line, None, [(None, f"the row is not valid CSV: {exc}")]))
                    continue
                key = cells[self._key_cell] if self._key_cell is not None and self._key_cell < len(cells) else None
                if len(cells) != width:
                    out.append(partial(reject, line, key, [(None, f"the row has {len(cells)} values; the header has {width} columns")]))
                    continue
                try:
                    row = validate(csvcodec.decode_row(columns, cells))
                except Exception as exc:  # noqa: BLE001 - see _invalid
                    out.append(partial(self._invalid, line, key, exc))
                    continue
                out.append(partial(accept, line, row))
        return [stage() for stage in out]


def _getter(path: str) -> Callable[[BaseModel], Any]:
    names = path.split(".")

    def get(row: BaseModel) -> Any:
        value: Any = row
        for name in names:
            value = getattr(value, name)
        return value

    return get


def _problems(exc: ValidationError) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in error["loc"]) or None
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "json_invalid":
            message = message.replace(" at line 1 column ", " at column ")
        problems.append((field, message))
    return problems


def _json_key(raw: bytes, key: str) -> Any:
    try:
        # pydantic's parser, not json.loads: a row nested a million levels deep is a
        # ValueError there (it bounds recursion), where json.loads raises RecursionError.
        data = from_json(raw)
    except ValueError:
        return None
    return data.get(key) if isinstance(data, dict) else None


def _stageable_key(key: Any, normalise: Callable[[str], str] | None) -> str | None:
    """The key of a rejected row as PostgreSQL can store it, or None."""
    if not isinstance(key, str):
        return None
    text = key.strip()
    if not text or len(text) > 1000 or "\x00" in text:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    if normalise:
        try:
            text = normalise(text)
        except ValueError:
            pass
    return text
