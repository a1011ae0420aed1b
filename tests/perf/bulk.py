"""Bulk loading benchmark: missions through the HTTP endpoint of a real `partnerships serve`
process, against raw asyncpg COPY of the same rows into an identical table.

    .venv/bin/python -m tests.perf.bulk                      # 500,000 missions, 3 runs
    .venv/bin/python -m tests.perf.bulk --rows 50000 --runs 1
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m tests.perf.bulk

PostgreSQL is the server of TEST_DATABASE_URL (or DATABASE_URL), else an embedded one in a
temporary folder; each run uses a fresh scratch database there. Each run:

1. raw COPY: the file's rows, parsed and typed beforehand (not timed), copied with asyncpg
   copy_records_to_table in one transaction into `bench_missions`, a table created
   `LIKE missions INCLUDING ALL` (same columns, defaults, generated search column, indexes and
   check constraints), in batches of 50,000 (only the COPY calls are timed);
2. load: the NDJSON file streamed to POST /v1/bulk/missions of the service (timed from the
   first byte sent to the report), into the empty missions table;
3. re-load: the same file again (every row unchanged).

It prints rows/s of each, the load/raw and re-load/load ratios, and the service's peak
resident memory (VmHWM, Linux); the report goes to tests/perf/reports/ (not versioned).
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.db import start_embedded, stop_embedded, to_asyncpg_url
from service.migrate import upgrade
from tests.conftest import _asyncpg_dsn, create_scratch_database, drop_database
from tests.ops.conftest import admin_key_in
from tests.test_cli import CLI, _env, _free_port

REPORTS = Path(__file__).parent / "reports"
SECTORS = ["photonics", "aerospace", "electronics", "ict", "energy", "renewable-energy", "food", "materials"]
COUNTRIES = ["US", "CA", "JP", "KR", "BR", "IN", "SG", "AE", "ZA", "AU", "MX", "TW"]
CITIES = ["Boston", "Toronto", "Osaka", "Seoul", "São Paulo", "Bangalore", "Singapore", "Dubai"]
KINDS = ["business-mission", "trade-mission", "matchmaking-event", "trade-fair", "study-visit"]
# The columns a mission row fills, in the order of the raw COPY tuples.
COLUMNS = [
    "id", "external_id", "title", "kind", "direction", "destination_country", "destination_city", "starts_on",
    "ends_on", "applications_open_on", "application_deadline", "sectors", "external_organiser", "capacity",
    "cost_reimbursement_percent", "url", "description", "cancelled",
]


def mission(i: int, rng: random.Random) -> dict:
    starts = date(2030, 1, 1) + timedelta(days=rng.randrange(1500))
    return {
        "external_id": f"bench-{i:07d}",
        "title": f"{rng.choice(['Photonics', 'Space', 'Agrifood', 'Energy'])} mission {i} to {rng.choice(CITIES)}",
        "kind": rng.choice(KINDS),
        "direction": "outbound",
        "destination_country": rng.choice(COUNTRIES),
        "destination_city": rng.choice(CITIES),
        "starts_on": starts.isoformat(),
        "ends_on": (starts + timedelta(days=rng.randrange(5))).isoformat(),
        "applications_open_on": (starts - timedelta(days=90)).isoformat(),
        "application_deadline": (starts - timedelta(days=30)).isoformat(),
        "sectors": rng.sample(SECTORS, rng.randrange(1, 3)),
        "organisers": {"external": "EU Gateway | Business Avenues"},
        "capacity": rng.randrange(5, 40),
        "cost_reimbursement_percent": rng.choice([None, 50, 62.5, 100]),
        "url": f"https://missions.example.org/{i}",
        "description": "Business meetings, site visits and matchmaking with local companies and research bodies.",
        "cancelled": False,
    }


def write_file(path: Path, rows: int) -> None:
    rng = random.Random(20301)
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            out.write(json.dumps(mission(i, rng), ensure_ascii=False) + "\n")


def raw_tuple(record: dict) -> tuple:
    day = date.fromisoformat
    percent = record["cost_reimbursement_percent"]
    return (
        uuid.uuid4(), record["external_id"], record["title"], record["kind"], record["direction"],
        record["destination_country"], record["destination_city"], day(record["starts_on"]), day(record["ends_on"]),
        day(record["applications_open_on"]), day(record["application_deadline"]), record["sectors"],
        record["organisers"]["external"], record["capacity"], None if percent is None else Decimal(str(percent)),
        record["url"], record["description"], record["cancelled"],
    )


async def raw_copy(url: URL, path: Path, batch: int = 50_000) -> float:
    """Seconds spent in copy_records_to_table for every row of the file."""
    conn = await asyncpg.connect(**_asyncpg_dsn(url))
    try:
        await conn.execute("CREATE TABLE bench_missions (LIKE missions INCLUDING ALL)")
        elapsed = 0.0
        async with conn.transaction():
            with path.open(encoding="utf-8") as lines:
                while chunk := [raw_tuple(json.loads(line)) for _, line in zip(range(batch), lines, strict=False)]:
                    started = time.perf_counter()
                    await conn.copy_records_to_table("bench_missions", records=chunk, columns=COLUMNS)
                    elapsed += time.perf_counter() - started
        return elapsed
    finally:
        await conn.execute("DROP TABLE IF EXISTS bench_missions")
        await conn.close()


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024
    return values


def upload(base: str, path: Path, key: str) -> tuple[float, dict]:
    def chunks():
        with path.open("rb") as stream:
            while chunk := stream.read(1024 * 1024):
                yield chunk

    started = time.perf_counter()
    response = httpx.post(f"{base}/v1/bulk/missions", content=chunks(), headers={"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {key}"},
                          timeout=httpx.Timeout(None, connect=10))
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"the load answered {response.status_code}: {response.text[:1000]}")
    return elapsed, response.json()


def start_service(url: URL, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    with log.open("a") as out:  # the service logs each load's phases (read, check, merge)
        # The 500,000-row file (about 300 MB) is over the default 200 MiB body limit.
        env = _env(url, LIMITS__MAX_BULK_BYTES=str(2**30))
        process = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
            return process, base
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the service did not start") from None
            time.sleep(0.3)


async def one_run(server: URL, path: Path, rows: int, log: Path) -> dict:
    url = await create_scratch_database(server)
    try:
        engine = create_async_engine(url, poolclass=NullPool)
        await upgrade(engine)
        await engine.dispose()
        key = await admin_key_in(url)  # bulk loads need a key with the bulk scope; admin has it
        raw = await raw_copy(url, path)
        process, base = start_service(url, log)
        try:
            idle = memory(process.pid)["VmRSS"]
            load, first = await asyncio.to_thread(upload, base, path, key)
            assert first["created"] == rows, first
            reload, second = await asyncio.to_thread(upload, base, path, key)
            assert second["unchanged"] == rows, second
            peak = memory(process.pid)["VmHWM"]
        finally:
            process.terminate()
            process.wait(timeout=60)
    finally:
        await drop_database(server, url)
    return {
        "raw_copy_rows_per_s": rows / raw, "load_rows_per_s": rows / load, "reload_rows_per_s": rows / reload,
        "load_over_raw": raw / load, "reload_over_load": load / reload,
        "raw_copy_s": raw, "load_s": load, "reload_s": reload,
        "service_idle_rss_mb": idle / 2**20, "service_peak_rss_mb": peak / 2**20,
    }


def summary(runs: list[dict]) -> dict:
    keys = runs[0].keys()
    return {k: {"min": min(r[k] for r in runs), "median": statistics.median(r[k] for r in runs),
                "max": max(r[k] for r in runs)} for k in keys}


def text_report(meta: dict, runs: list[dict], stats: dict) -> str:
    lines = [f"bulk load benchmark, {meta['rows']:,} missions, {meta['file_mb']:.0f} MB NDJSON, {meta['when']}",
             f"PostgreSQL: {meta['postgres']}; {meta['cpus']} CPUs", ""]
    for i, run in enumerate(runs, 1):
        lines.append(
            f"run {i}: raw COPY {run['raw_copy_rows_per_s']:,.0f} rows/s | endpoint {run['load_rows_per_s']:,.0f} rows/s "
            f"(ratio {run['load_over_raw']:.2f}) | re-load {run['reload_rows_per_s']:,.0f} rows/s "
            f"({run['reload_over_load']:.2f}x the load) | service RSS idle {run['service_idle_rss_mb']:.0f} MB, "
            f"peak {run['service_peak_rss_mb']:.0f} MB"
        )
    lines.append("")
    for key in ("raw_copy_rows_per_s", "load_rows_per_s", "load_over_raw", "reload_rows_per_s", "reload_over_load",
                "service_peak_rss_mb"):
        s = stats[key]
        lines.append(f"{key:22} min {s['min']:>10,.2f}  median {s['median']:>10,.2f}  max {s['max']:>10,.2f}")
    return "\n".join(lines) + "\n"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="partnerships-bench-") as tmp:
        configured = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
        server = to_asyncpg_url(configured) if configured else start_embedded(Path(tmp) / "pgdata")
        try:
            path = Path(tmp) / "missions.ndjson"
            write_file(path, args.rows)
            conn = await asyncpg.connect(**_asyncpg_dsn(server))
            postgres = await conn.fetchval("SHOW server_version")
            await conn.close()
            meta = {"rows": args.rows, "file_mb": path.stat().st_size / 2**20, "postgres": postgres,
                    "cpus": os.cpu_count(), "when": datetime.now(UTC).isoformat(timespec="seconds"),
                    "embedded": not configured}
            REPORTS.mkdir(exist_ok=True)
            stamp = meta["when"].replace(":", "").replace("-", "")
            log = REPORTS / f"bulk-{stamp}-service.log"
            runs = []
            for i in range(args.runs):
                runs.append(await one_run(server, path, args.rows, log))
                print(f"run {i + 1}: {json.dumps(runs[-1])}", file=sys.stderr, flush=True)
        finally:
            stop_embedded()
    stats = summary(runs)
    text = text_report(meta, runs, stats)
    print(text)
    (REPORTS / f"bulk-{stamp}.txt").write_text(text, encoding="utf-8")
    (REPORTS / f"bulk-{stamp}.json").write_text(json.dumps({"meta": meta, "runs": runs, "summary": stats}, indent=2))
    print(f"report written to {REPORTS}/bulk-{stamp}.txt")


if __name__ == "__main__":
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")  # pgserver, in containers
    asyncio.run(main())
