"""`?async=true`: 202 once the upload has arrived, then the load runs as a job whose progress
and final report `/v1/bulk-jobs/{id}` shows."""

from sqlalchemy import text

from tests import factories
from tests.bulk.helpers import CSV, counts, load, ndjson, run_queued_jobs
from tests.conftest import issue_key, make_client
from tests.problems import assert_problem


async def _job(app, client, response) -> dict:
    """The job answered, once the tasks queued have run."""
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert location == f"/v1/bulk-jobs/{response.json()['id']}"
    await run_queued_jobs(app)
    job = await client.get(location)
    assert job.status_code == 200, job.text
    return job.json()


async def test_a_job_loads_in_the_background_and_reports(client, session, tmp_path, app):
    app.state.settings.bulk.job_dir = tmp_path
    rows = [factories.cluster() for _ in range(30)]
    response = await load(client, "clusters", ndjson(*rows), **{"async": True})
    assert response.json()["state"] == "queued" and response.json()["bytes_total"] == len(ndjson(*rows))
    assert await session.scalar(text("SELECT count(*) FROM bulk_uploads")) == 1
    job = await _job(app, client, response)
    assert job["state"] == "succeeded" and job["problem"] is None
    assert counts(job["report"]) == (30, 0, 0, 0) and job["report"]["committed"]
    assert (job["bytes_read"], job["rows_read"]) == (job["bytes_total"], 30) and job["finished_at"]
    assert await session.scalar(text("SELECT count(*) FROM clusters")) == 30
    assert list(tmp_path.iterdir()) == []  # the spools are gone
    assert await session.scalar(text("SELECT count(*) FROM bulk_uploads")) == 0


async def test_a_failed_job_holds_the_problem(app, client, session):
    rows = ndjson(factories.cluster(), {"slug": "bad"})
    job = await _job(app, client, await load(client, "clusters", rows, **{"async": True}))
    assert job["state"] == "failed" and job["problem"]["type"] == "/problems/rows-rejected"
    assert job["report"]["rejected"] == 1 and not job["report"]["committed"]
    assert await session.scalar(text("SELECT count(*) FROM clusters")) == 0

    job = await _job(app, client, await load(client, "clusters", b"slug,colour\r\n", CSV, **{"async": True}))
    assert job["state"] == "failed" and job["problem"]["status"] == 422 and job["report"] is None
    assert job["problem"]["errors"][0]["message"] == "unknown column 'colour'"


async def test_a_job_is_idempotent_too(app, client, session):
    rows = ndjson(factories.cluster())
    first = await load(client, "clusters", rows, headers={"Idempotency-Key": "job-1"}, **{"async": True})
    await run_queued_jobs(app)
    again = await load(client, "clusters", rows, headers={"Idempotency-Key": "job-1"}, **{"async": True})
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert again.json()["state"] == "succeeded" and again.headers["Idempotent-Replayed"] == "true"
    assert await session.scalar(text("SELECT count(*) FROM bulk_jobs")) == 1
    # The same key for the same file loaded synchronously is another request.
    assert_problem(await load(client, "clusters", rows, headers={"Idempotency-Key": "job-1"}), 422)


async def test_unknown_jobs(client):
    assert_problem(await client.get("/v1/bulk-jobs/not-a-uuid"), 404)
    assert_problem(await client.get("/v1/bulk-jobs/00000000-0000-0000-0000-000000000000"), 404)


async def test_a_job_is_seen_only_by_the_key_that_started_it_and_admins(app, client, session):
    starter, other = await issue_key(session, "bulk"), await issue_key(session, "bulk")
    async with make_client(app, starter) as starting, make_client(app, other) as another:
        job = await _job(app, starting, await load(starting, "clusters", ndjson(factories.cluster()), **{"async": True}))
        path = f"/v1/bulk-jobs/{job['id']}"
        nobody = "00000000-0000-0000-0000-000000000000"
        hidden = assert_problem(await another.get(path), 404)
        unknown = assert_problem(await another.get(f"/v1/bulk-jobs/{nobody}"), 404)
        # The same answer as for a job that does not exist: ids tell nothing.
        same = ("type", "title", "status", "detail")
        assert {k: str(hidden[k]).replace(job["id"], nobody) for k in same} == {k: str(unknown[k]) for k in same}
        assert (await starting.get(path)).json()["state"] == "succeeded"
    assert (await client.get(path)).json()["state"] == "succeeded"  # client holds an admin key
