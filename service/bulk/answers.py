"""What a bulk load answers: shared by the request that loads at once and by the job that
loads in the background (which stores the same answer), so neither imports the other."""

from dataclasses import dataclass
from typing import Any

from service.bulk.schemas import BulkReport, RowsRejected
from service.errors import ROWS_REJECTED


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def answer_for(report: BulkReport, instance: str) -> Answer:
    """200 with the report, unless a strict load was refused: then 422, the report inside."""
    if report.rejected and report.mode == "strict" and not report.dry_run:
        problem = RowsRejected(
            type=f"/problems/{ROWS_REJECTED.slug}", title=ROWS_REJECTED.title, status=ROWS_REJECTED.status,
            instance=instance,
            detail=f"{report.rejected} of {report.received} rows were rejected, so nothing was committed (mode=strict). "
                   "Fix them and load again, or load with mode=partial to commit the valid rows.",
            report=report,
        )
        return Answer(ROWS_REJECTED.status, problem.model_dump(mode="json", exclude_none=True))
    return Answer(200, report.model_dump(mode="json"))
