"""Async jobs as tasks: the upload kept in the database and the task queued with the job,
limits per key, a job that ends exactly once, and uploads left behind purged."""

import uuid

from sqlalchemy import text

from service.bulk import jobs
from service.bulk.loader import Upload
from service.bulk.resources import RESOURCES
from tests.bulk.helpers import clusters, load, ndjson, run_queued_jobs
from tests.problems import assert_problem

ASYNC = {"async": True}


async def _queued(session) -> list[tuple]:
    return (await session.execute(text(
        "SELECT task_name, queue_name, lock, args->>'job_id' FROM procrastinate_jobs WHERE task_name = 'bulk:run'"
    ))).all()


async def test_the_upload_is_stored_in_pieces_and_the_task_queued_with_the_job(app, client, session, monkeypatch):
    monkeypatch.setattr("service.bulk.uploads.CHUNK_BYTES", 1000)
    body = ndjson(*clusters(40))
    job = (await load(client, "clusters", body, **ASYNC)).json()
    pieces = (await session.execute(text("SELECT seq, data FROM bulk_uploads ORDER BY seq"))).all()
    assert [seq for seq, _ in pieces] == list(range(-(-len(body) // 1000)))
    assert b"".join(data for _, data in pieces) == body
    assert await _queued(session) == [("bulk:run", "bulk", f"bulk:{job['id']}", job["id"])]


async def test_a_key_has_at_most_so_many_jobs_waiting(app, client, session):
    app.state.settings.bulk.max_jobs_per_key = 2
    for _ in range(2):
        assert (await load(client, "clusters", ndjson(*clusters(1)), **ASYNC)).status_code == 202
    refused = await load(client, "clusters", ndjson(*clusters(1)), **ASYNC)
    problem = assert_problem(refused, 429)
    assert refused.headers["Retry-After"] == "30" and "2 bulk jobs" in problem["detail"]
    assert len(await _queued(session)) == 2 and await session.scalar(text("SELECT count(*) FROM bulk_jobs")) == 2
    # Loads at once are not jobs: no limit of jobs applies.
    assert (await load(client, "clusters", ndjson(*clusters(1)))).status_code == 200
    await run_queued_jobs(app)
    assert (await load(client, "clusters", ndjson(*clusters(1)), **ASYNC)).status_code == 202


async def test_a_key_has_at_most_so_many_bytes_waiting(app, client):
    first, second = ndjson(*clusters(3)), ndjson(*clusters(3))
    app.state.settings.bulk.max_queued_bytes_per_key = len(first) + len(second) - 1
    assert (await load(client, "clusters", first, **ASYNC)).status_code == 202
    assert_problem(await load(client, "clusters", second, **ASYNC), 429)
    too_big = ndjson(*clusters(10))
    assert "at most" in assert_problem(await load(client, "clusters", too_big, **ASYNC), 413)["detail"]
    await run_queued_jobs(app)
    assert (await load(client, "clusters", second, **ASYNC)).status_code == 202


async def test_an_attempt_finding_its_job_finished_keeps_nothing(app, client, session):
    """Two attempts of one job (a stalled one retried while it still ran): the one that
    finishes second rolls its load back."""
    job = (await load(client, "clusters", ndjson(*clusters(5)), **ASYNC)).json()
    job_id = uuid.UUID(job["id"])
    await session.execute(text("UPDATE bulk_jobs SET state = 'succeeded' WHERE id = :id"), {"id": job_id})
    await session.commit()
    upload = Upload(RESOURCES["clusters"], "ndjson", False, "strict", False)
    await jobs._load(app.state.sessionmaker, job_id, upload, app.state.settings.bulk, "/v1/bulk/clusters")
    assert await session.scalar(text("SELECT count(*) FROM clusters")) == 0
    assert await session.scalar(text("SELECT report FROM bulk_jobs WHERE id = :id"), {"id": job_id}) is None
    # A retry of a job that finished runs nothing at all.
    await run_queued_jobs(app)
    assert await session.scalar(text("SELECT count(*) FROM clusters")) == 0


async def test_a_job_failing_unexpectedly_fails_and_drops_its_upload(app, client, session, monkeypatch):
    async def broken(*args):
        raise RuntimeError("the disk is gone")

    monkeypatch.setattr("service.bulk.uploads.read_into", broken)
    job = (await load(client, "clusters", ndjson(*clusters(2)), **ASYNC)).json()
    await run_queued_jobs(app)
    state, problem = (await session.execute(text("SELECT state, problem FROM bulk_jobs WHERE id = :id"), {"id": uuid.UUID(job["id"])})).one()
    assert state == "failed" and problem["status"] == 500
    assert await session.scalar(text("SELECT count(*) FROM bulk_uploads")) == 0


async def test_uploads_no_job_will_read_are_purged(app, client, session):
    done = (await load(client, "clusters", ndjson(*clusters(2)), **ASYNC)).json()
    await run_queued_jobs(app)
    waiting = (await load(client, "clusters", ndjson(*clusters(2)), **ASYNC)).json()
    stranded = (await load(client, "clusters", ndjson(*clusters(2)), **ASYNC)).json()
    # Left behind by a crash between the end of a job and the deletion of its upload...
    await session.execute(text("INSERT INTO bulk_uploads (job_id, seq, data) VALUES (:id, 0, 'x')"), {"id": uuid.UUID(done["id"])})
    # ... or by a task that is gone without finishing its job.
    await session.execute(text("DELETE FROM procrastinate_jobs WHERE lock = :lock"), {"lock": f"bulk:{stranded['id']}"})
    await session.commit()

    assert await jobs.purge_orphaned_uploads(app.state.sessionmaker, app.state.settings.bulk) == 2
    left = await session.scalars(text("SELECT DISTINCT job_id::text FROM bulk_uploads"))
    assert list(left) == [waiting["id"]]
    states = dict((await session.execute(text("SELECT id::text, state FROM bulk_jobs"))).all())
    assert states == {done["id"]: "succeeded", waiting["id"]: "queued", stranded["id"]: "failed"}
    assert (await client.get(f"/v1/bulk-jobs/{stranded['id']}")).json()["problem"]["status"] == 500
