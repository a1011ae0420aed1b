"""Prometheus metrics at /metrics."""

import asyncio
import time

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service.ops.metrics import record_bulk_rows


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def scrape(client) -> dict[tuple, float]:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


async def test_requests_are_counted_by_route_template_never_by_raw_path(client):
    key = {"method": "GET", "route": "/v1/clusters/{cluster}", "status": "404"}
    before = sample("http_requests_total", **key)
    latency_before = sample("http_request_duration_seconds_count", method="GET", route="/v1/clusters/{cluster}")
    for slug in ("no-such-a", "no-such-b", "no-such-c"):
        await client.get(f"/v1/clusters/{slug}")
    samples = await scrape(client)
    assert samples[("http_requests_total", tuple(sorted(key.items())))] == before + 3
    latency = ("http_request_duration_seconds_count", (("method", "GET"), ("route", "/v1/clusters/{cluster}")))
    assert samples[latency] == latency_before + 3
    assert not [k for k in samples if any("no-such" in value for _, value in k[1])]


async def test_unknown_paths_and_methods_share_one_series(client):
    before = sample("http_requests_total", method="OTHER", route="<unmatched>", status="404")
    await client.request("BREW", "/coffee/pot-1")
    await client.request("BREW", "/coffee/pot-2")
    assert sample("http_requests_total", method="OTHER", route="<unmatched>", status="404") == before + 2


async def test_rejected_requests_are_labelled_with_their_route(client):
    before = sample("http_requests_total", method="GET", route="/v1/clusters", status="414")
    await client.get("/v1/clusters", params={"q": "x" * 9000})
    assert sample("http_requests_total", method="GET", route="/v1/clusters", status="414") == before + 1


async def test_bulk_loader_counter(client):
    before = sample("bulk_rows_total", resource="clusters", outcome="created")
    record_bulk_rows("clusters", "created", 25)
    record_bulk_rows("clusters", "created")
    samples = await scrape(client)
    assert samples[("bulk_rows_total", (("outcome", "created"), ("resource", "clusters")))] == before + 26


async def test_queue_depth_is_read_from_the_database_at_scrape_time(client, session):
    jobs = "INSERT INTO procrastinate_jobs (queue_name, task_name, status, args) VALUES (:queue, 'bulk:run', :status, '{}')"
    for queue, status in (("bulk", "todo"), ("bulk", "todo"), ("bulk", "doing"), ("calendar", "todo"), ("calendar", "succeeded")):
        await session.execute(text(jobs), {"queue": queue, "status": status})
    await session.commit()
    samples = await scrape(client)
    depth = {labels: value for (name, labels), value in samples.items() if name == "task_queue_jobs"}
    assert depth[(("queue", "bulk"), ("status", "todo"))] == 2
    assert depth[(("queue", "bulk"), ("status", "doing"))] == 1
    assert depth[(("queue", "calendar"), ("status", "todo"))] == 1
    assert depth[(("queue", "calendar"), ("status", "doing"))] == 0  # finished jobs are not counted

    await session.execute(text("DELETE FROM procrastinate_jobs WHERE queue_name IN ('bulk', 'calendar')"))
    await session.commit()
    samples = await scrape(client)
    assert samples[("task_queue_jobs", (("queue", "bulk"), ("status", "todo")))] == 0  # emptied, not vanished


async def test_a_scrape_answers_when_the_queue_cannot_be_read(client, monkeypatch):
    async def slow(session):
        await asyncio.sleep(10)

    async def broken(session):
        raise OperationalError("SELECT", {}, OSError("the database is gone"))

    monkeypatch.setattr("service.ops.metrics.QUEUE_DEPTH_TIMEOUT_SECONDS", 0.1)
    for failing in (slow, broken):
        monkeypatch.setattr("service.tasks.repository.depth", failing)
        started = time.monotonic()
        samples = await scrape(client)
        assert time.monotonic() - started < 2
        assert not [key for key in samples if key[0] == "task_queue_jobs"]  # left out, not stale
