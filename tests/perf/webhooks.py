"""Webhook delivery latency: from the commit of a change to its arrival at the receiver.

    .venv/bin/python -m tests.perf.webhooks
    .venv/bin/python -m tests.perf.webhooks --changes 500 --interval 0.005 --workers 2

PostgreSQL is the server of TEST_DATABASE_URL (or DATABASE_URL), else an embedded one; the
run uses a fresh scratch database there. One webhook (every event type) points at a loopback
receiver in this process; `partnerships worker` processes run the queue. Each change is an
event committed in a transaction of its own (as a request writes it), `--interval` seconds
apart; a change's latency runs from just after its commit to the moment its delivery arrived
(the receiver's clock is this process's). The path: the insert trigger queues a dispatch, a
worker hands settled events to the fan-out (a delivery and a job per webhook), a worker takes
the job, signs and POSTs.
"""

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL

from service.config import WebhookSettings
from service.db import start_embedded, stop_embedded, to_asyncpg_url
from tests.conftest import _asyncpg_dsn, drop_database
from tests.ops.conftest import (
    WorkerProcess,
    admin_key_in,
    live_client,
    live_settings,
    migrated_scratch_database,
    url_text,
)
from tests.webhook_receiver import Receiver, make_events

LOOPBACK = ["127.0.0.0/8"]


def _server(tmp: Path) -> URL:
    configured = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    return to_asyncpg_url(configured) if configured else start_embedded(tmp / "pgdata")


async def _changes(url: URL, count: int, interval: float) -> list[float]:
    committed: list[float] = []
    for n in range(count):
        committed += await make_events(url, 1, label=f"change-{n}")
        await asyncio.sleep(interval)
    return committed


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _fanned_out(url: URL) -> dict[str, float]:
    """When each change's delivery was made (the database's clock: the same machine's)."""
    connection = await asyncpg.connect(**_asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT payload::jsonb -> 'data' ->> 'name' AS name, extract(epoch FROM created_at) AS at FROM webhook_deliveries"
        )
    finally:
        await connection.close()
    return {row["name"]: float(row["at"]) for row in rows}


async def measure(server: URL, changes: int, interval: float, workers: int, tmp: Path) -> tuple[list[float], list[float]]:
    """(commit -> receipt, commit -> delivery made) of every change, in seconds."""
    url = await migrated_scratch_database(server)
    receiver = Receiver()
    processes: list[WorkerProcess] = []
    try:
        key = await admin_key_in(url)
        settings = live_settings(url, webhooks=WebhookSettings(allow_networks=LOOPBACK))
        async with live_client(settings, key=key) as api:
            created = await api.post("/v1/webhooks", json={"url": receiver.url("/hook")})
            assert created.status_code == 201, created.text
        env = {"DATABASE_URL": url_text(url), "WEBHOOKS__ALLOW_NETWORKS": '["127.0.0.0/8"]'}
        processes = [WorkerProcess(env, tmp / f"worker-{n}.log") for n in range(workers)]
        for process in processes:
            await process.wait_ready(timeout=30)
        await asyncio.sleep(1)  # every worker listening
        committed = await _changes(url, changes, interval)
        received = await receiver.wait_for("/hook", changes, timeout=120)
        arrived = {r.json["data"]["name"]: r.at for r in received}
        made = await _fanned_out(url)
        names = [f"change-{n} 0" for n in range(changes)]
        return (
            [arrived[name] - sent for name, sent in zip(names, committed, strict=True)],
            [made[name] - sent for name, sent in zip(names, committed, strict=True)],
        )
    finally:
        for process in processes:
            process.stop()
        receiver.close()
        await drop_database(server, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between commits")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="webhooks-perf-") as tmp:
        try:
            latencies, fanned_out = asyncio.run(measure(_server(Path(tmp)), args.changes, args.interval, args.workers, Path(tmp)))
        finally:
            stop_embedded()
    print(f"{len(latencies)} changes, {args.workers} worker(s), a commit every {args.interval * 1000:g} ms")
    _report("commit -> receipt", latencies)
    _report("commit -> delivery made (fan-out)", fanned_out)
    _report("delivery made -> receipt", [total - part for total, part in zip(latencies, fanned_out, strict=True)])


def _report(what: str, seconds: list[float]) -> None:
    ms = [1000 * value for value in seconds]
    print(f"{what}: p50 {_percentile(ms, 0.5):.0f} ms, p99 {_percentile(ms, 0.99):.0f} ms, "
          f"mean {statistics.fmean(ms):.0f} ms, max {max(ms):.0f} ms")


if __name__ == "__main__":
    main()
