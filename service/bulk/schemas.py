import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.errors import Problem
from service.kit.schemas import InputModel, OutputModel

Mode = Literal["strict", "partial"]
Format = Literal["ndjson", "csv"]


class BulkQuery(InputModel):
    mode: Mode = Field("strict", description="`strict`: any rejected row means nothing is committed. "
                                             "`partial`: valid rows are committed, invalid ones reported.")
    dry_run: bool = Field(False, description="Validate and report what would happen; commit nothing.")
    run_async: bool = Field(False, alias="async", description="Answer 202 at once and load in the background: "
                                                             "follow `/v1/bulk-jobs/{id}` for progress and the report.")


class RowError(BaseModel):
    line: int = Field(description="Line of the file the row starts on (1 is the first line; in CSV, the header).")
    field: str | None = Field(description="The field at fault (`region.code`, `members.0.cluster`); null for the whole row.")
    message: str


class BulkReport(BaseModel):
    resource: str
    mode: Mode
    dry_run: bool
    committed: bool = Field(description="Whether the created and updated rows were written.")
    received: int = Field(description="Rows in the file (blank lines and the CSV header aside).")
    created: int = Field(description="New records (would be, unless committed).")
    updated: int = Field(description="Records that changed; their version (SEQUENCE) grew.")
    unchanged: int = Field(description="Records already exactly as in the file; not written at all.")
    rejected: int = Field(description="Invalid rows: received = created + updated + unchanged + rejected.")
    errors: list[RowError] = Field(description="Why rows were rejected, by line; several errors of one row share its line.")
    errors_truncated: bool = Field(description="More errors than BULK__MAX_REPORTED_ERRORS: only the first are listed.")


class RowsRejected(Problem):
    """A strict load with rejected rows: nothing was committed; the report says why."""

    report: BulkReport


JobState = Literal["queued", "running", "succeeded", "failed"]


class BulkJob(OutputModel):
    id: uuid.UUID
    resource: str
    format: Format
    mode: Mode
    dry_run: bool
    state: JobState
    bytes_total: int = Field(description="Size of the upload as sent.")
    bytes_read: int = Field(description="How much of it has been processed.")
    rows_read: int
    report: BulkReport | None = Field(description="The final report, once the job has run (also when rows were rejected).")
    problem: Problem | None = Field(description="Why the job failed, when the file could not be used at all.")
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
