"""Building bulk files and sending them."""

import gzip as gzip_module
import json

from tests import factories

NDJSON = "application/x-ndjson"
CSV = "text/csv"


def ndjson(*records: dict) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def csv_file(header: list[str], *rows: list[str]) -> bytes:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


async def load(client, resource: str, body: bytes, content_type: str = NDJSON, *, gzip: bool = False, headers=None, **params):
    headers = {"Content-Type": content_type, **(headers or {})}
    if gzip:
        body = gzip_module.compress(body)
        headers["Content-Encoding"] = "gzip"
    params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
    return await client.post(f"/v1/bulk/{resource}", content=body, headers=headers, params=params)


async def report(client, resource: str, body: bytes, content_type: str = NDJSON, **options) -> dict:
    response = await load(client, resource, body, content_type, **options)
    assert response.status_code == 200, response.text
    return response.json()


def counts(report: dict) -> tuple[int, int, int, int]:
    return report["created"], report["updated"], report["unchanged"], report["rejected"]


def clusters(n: int, **fields) -> list[dict]:
    return [factories.cluster(**fields) for _ in range(n)]


def csv_of(resource: str, records: list[dict]) -> bytes:
    """The CSV file of records, in the resource's columns (the codec the export uses)."""
    from service.bulk.csvcodec import encode_row
    from service.bulk.resources import RESOURCES

    columns = list(RESOURCES[resource].csv)
    return csv_file([c.name for c in columns], *(encode_row(columns, r) for r in records))


def file_of(resource: str, records: list[dict], format: str) -> tuple[bytes, str]:
    return (csv_of(resource, records), CSV) if format == "csv" else (ndjson(*records), NDJSON)


async def find(client, resource: str, key: str) -> dict:
    """A record as the API serves it, by natural key."""
    if resource in ("clusters", "partnerships", "target-markets"):
        response = await client.get(f"/v1/{resource}/{key}")
        assert response.status_code == 200, response.text
        return response.json()
    items = (await client.get(f"/v1/{resource}", params={"limit": 200})).json()["items"]
    (found,) = [item for item in items if item["external_id"] == key]
    return found


async def run_queued_jobs(app) -> int:
    """Run the `bulk:run` tasks queued in the test's transaction, as a worker would, and
    return how many ran (real worker processes run them in tests/ops/test_bulk_tasks.py)."""
    from procrastinate import JobContext
    from sqlalchemy import text

    from service.bulk.tasks import run
    from service.tasks.runtime import Resources

    sessionmaker = app.state.sessionmaker
    async with sessionmaker() as session:
        queued = (await session.execute(text(
            "DELETE FROM procrastinate_jobs WHERE task_name = 'bulk:run' AND status = 'todo' RETURNING id, args"
        ))).all()
        await session.commit()
    service = Resources(sessionmaker, app.state.settings, app.state.clock)
    context = JobContext(app=None, job=None, start_timestamp=0.0, additional_context=service.as_context(), abort_reason=lambda: None)
    for _, args in sorted(queued):
        await run(context, **args)
    return len(queued)
