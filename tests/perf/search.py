"""Search benchmark: the service against the raw-asyncpg limit, on a large dataset.

    python -m tests.perf.search [--database-url URL] [--opportunities 1000000] [--seconds 10] [--rounds 3]
                                [--classes filters,facets] [--database-name partnerships_bench] [--fresh-facets]

1. Builds (once; kept between runs) a dataset of 1,000,000 opportunities, 10,000 clusters,
   1,000 partnerships and 2,000 missions in the database `partnerships_bench` (on
   --database-url, else on an embedded PostgreSQL kept in tests/perf/.pgdata).
2. Starts the service (`partnerships serve`) and, for the limit, a bare ASGI app that runs
   through raw asyncpg the very statements the service ran for each query class.
3. Drives both with wrk, each query class on the service and then on the limit, for a few
   rounds, and prints requests/s, p50 and p99 for each (medians of the rounds), their
   ratio, and the targets; writes the report to tests/perf/reports/.

The facet cost (filter-only search with facets / the same without, by p50 latency and by
requests/s) is reported on a line of its own: it is the figure the facet counting is tuned
against, and `--classes filters,facets` measures just those two; `--fresh-facets` has the service
count facets afresh on every ask (SEARCH__REUSE_FACETS=false), as a search's first ask does.
"""

import argparse
import asyncio
import json
import os
import pickle
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.engine import URL

from service.config import Settings
from service.db import (
    create_engine,
    create_sessionmaker,
    session_settings,
    start_embedded,
    stop_embedded,
    to_asyncpg_url,
)
from service.main import create_app
from service.migrate import upgrade
from tests.perf import dataset, phrases
from tests.perf.load import Figures, wrk

HERE = Path(__file__).parent
DATABASE = "partnerships_bench"
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
# The service as deployed, except: access lines are not logged (WARNING level), and the
# per-client rate limit, still counted, is set far above what one load generator sends.
SERVICE_ENV = {
    "LOG__LEVEL": "WARNING", "LIMITS__READS_PER_MINUTE": "100000000", "LIMITS__STRATEGY": "sliding-window-counter",
}


def _in_process_settings(url: URL) -> Settings:
    """The app the harness itself asks (to find cursors and record SQL): no rate limits."""
    return Settings(database_url=url.render_as_string(hide_password=False), limits={"reads_per_minute": 0})


def _dsn(url: URL) -> dict:
    return {"host": url.query.get("host") or url.host, "port": url.port, "user": url.username,
            "password": url.password, "database": url.database}


async def prepare(server: URL, args) -> URL:
    """The benchmark database, migrated and filled (generated only when missing or resized)."""
    admin = await asyncpg.connect(**_dsn(server))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", args.database_name):
            await admin.execute(f'CREATE DATABASE "{args.database_name}"')
    finally:
        await admin.close()
    url = server.set(database=args.database_name)
    engine = create_engine(url, Settings(database_url=url.render_as_string(hide_password=False)))
    await upgrade(engine)
    await engine.dispose()
    connection = await asyncpg.connect(**_dsn(url))
    try:
        have = await connection.fetchval("SELECT count(*) FROM opportunities")
        clusters = await connection.fetchval("SELECT count(*) FROM clusters")
        missions = await connection.fetchval("SELECT count(*) FROM missions")
        if args.regenerate or (have, clusters, missions) != (args.opportunities, args.clusters, args.missions):
            print(f"generating the dataset ({args.opportunities:,} opportunities); this takes a few minutes")
            started = time.monotonic()
            await connection.execute(
                "TRUNCATE opportunities, agreement_parties, agreements, mission_participants, mission_organisers, "
                "missions, partnership_members, partnerships, clusters CASCADE"
            )
            await dataset.generate(
                connection, clusters=args.clusters, partnerships=args.partnerships, opportunities=args.opportunities,
                missions=args.missions, today=datetime.now(UTC).date(), progress=lambda m: print("  ", m),
            )
            print(f"   generated in {time.monotonic() - started:.0f} s")
    finally:
        await connection.close()
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def query_classes(app, walk_pages: bool = True) -> dict[str, str]:
    """The URL of each query class, some found by asking the service itself (page 10,000's
    cursor by walking there, only when walk_pages)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        top = (await client.get("/v1/opportunities", params={"facets": "true", "limit": 1})).json()["facets"]
        country, sector = top["country"][0]["value"], top["sector"][1]["value"]
        an_id = (await client.get("/v1/opportunities", params={"limit": 1, "kind": "call"})).json()["items"][0]["id"]
        cursor = None
        for _ in range(1111 if walk_pages else 0):  # 1,111 pages of 180 rows = 9,999 pages of 20
            page = (await client.get("/v1/opportunities", params={"limit": 180} | ({"cursor": cursor} if cursor else {}))).json()
            cursor = page["next_cursor"]
    filters = f"country={country}&sector={sector}&kind=call"
    return {
        "selective-text": f"/v1/opportunities?q={dataset.RARE_WORD}",
        "nonselective-text": f"/v1/opportunities?q={dataset.INNOVATION}",
        "filters": f"/v1/opportunities?{filters}",
        "facets": f"/v1/opportunities?{filters}&facets=true",
        "text-facets": f"/v1/opportunities?q={dataset.RARE_WORD}&facets=true",
        "text-de": f"/v1/opportunities?q={phrases.PARTNERSHIP_DE}en&lang=de",
        "text-language-filter": f"/v1/opportunities?q={dataset.INNOVATION}&language=de&language=fr",
        "language-facets": f"/v1/opportunities?{filters}&language=it&facets=true",
        "page-1": "/v1/opportunities?limit=20",
        "page-10000": f"/v1/opportunities?limit=20&cursor={cursor}",
        "get-by-id": f"/v1/opportunities/{an_id}",
        "cluster-matches": "/v1/clusters/bench-cluster-42/matches?limit=20",
    }


async def capture(url: URL, classes: dict[str, str]) -> dict[str, list]:
    """The statements (text and parameters) the service sends to asyncpg for each class."""
    settings = _in_process_settings(url)
    engine = create_engine(url, settings)
    recorded: list = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, parameters, context, many: recorded.append((statement, tuple(parameters))))
    # Hot reads run on the driver directly (service/kit/driver.py): record those too.
    driver_fetch, driver_execute = asyncpg.Connection.fetch, asyncpg.Connection.execute

    async def recording_fetch(self, query, *args, **kwargs):
        recorded.append((query, args))
        return await driver_fetch(self, query, *args, **kwargs)

    async def recording_execute(self, query, *args, **kwargs):
        if not query.startswith(TRANSACTION_CONTROL):  # the limit runs its own transaction
            recorded.append((query, args))
        return await driver_execute(self, query, *args, **kwargs)

    app = create_app(settings, sessionmaker=create_sessionmaker(engine))
    statements = {}
    asyncpg.Connection.fetch, asyncpg.Connection.execute = recording_fetch, recording_execute
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            for name, path in classes.items():
                recorded.clear()
                response = await client.get(path)
                assert response.status_code == 200, (name, response.text)
                statements[name] = list(recorded)
    finally:
        asyncpg.Connection.fetch, asyncpg.Connection.execute = driver_fetch, driver_execute
    await engine.dispose()
    return statements


def chosen(classes: dict[str, str], names: list[str] | None) -> dict[str, str]:
    """The classes --classes names (all without it)."""
    if not names:
        return classes
    unknown = set(names) - set(classes)
    if unknown:
        raise SystemExit(f"unknown query classes {sorted(unknown)}; known: {', '.join(classes)}")
    return {name: classes[name] for name in names}


def _several_processes_env(args) -> dict[str, str]:
    """Several service processes count rate limits in Redis (they refuse to start otherwise);
    without one the limits are off, and the report says so."""
    if args.workers == 1:
        return {}
    if args.redis_url:
        return {"REDIS_URL": args.redis_url}
    return {"LIMITS__READS_PER_MINUTE": "0", "LIMITS__WRITES_PER_MINUTE": "0", "LIMITS__AUTH_FAILURES_PER_MINUTE": "0"}


def _start(command: list[str], env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(command, env=os.environ | env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.TransportError:
            if process.poll() is not None:
                raise SystemExit(f"{command[0]} exited: {process.stderr.read()}") from None
            time.sleep(0.3)
    raise SystemExit(f"{command} did not start")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def _measure(url: str, args) -> Figures:
    wrk(url, seconds=2, connections=args.connections)  # warm up caches and plans
    return wrk(url, seconds=args.seconds, connections=args.connections)


def _line(who: str, name: str, f: Figures) -> str:
    return (f"   {who:<8} {name:<20} {f.requests_per_second:9.1f} req/s  p50 {f.p50_ms:7.2f} ms  p99 {f.p99_ms:7.2f} ms"
            + (f"  ERRORS {f.errors}" if f.errors else ""))


def run(classes: dict[str, str], service_base: str, limit_base: str, args) -> tuple[dict, dict]:
    """Each class on the service, then at once on the limit, round after round: the two
    figures of a ratio are taken side by side, so drift in what else the machine does
    between them stays small, and the rounds show how much it moves."""
    service: dict[str, list[Figures]] = {name: [] for name in classes}
    limit: dict[str, list[Figures]] = {name: [] for name in classes}
    for round_ in range(1, args.rounds + 1):
        print(f"round {round_} of {args.rounds}")
        for name, path in classes.items():
            service[name].append(_measure(service_base + path, args))
            limit[name].append(_measure(f"{limit_base}/raw/{name}", args))
            print(_line("service", name, service[name][-1]))
            print(_line("limit", name, limit[name][-1]))
    return service, limit


def _median(figures: list[Figures]) -> Figures:
    return Figures(
        statistics.median(f.requests_per_second for f in figures), statistics.median(f.p50_ms for f in figures),
        statistics.median(f.p99_ms for f in figures), sum(f.errors for f in figures),
    )


def _p50_within(service: dict[str, Figures], slow: str, fast: str, factor: float) -> tuple[str, bool]:
    s, f = service[slow].p50_ms, service[fast].p50_ms
    return f"{s:.1f} / {f:.1f} ms = {s / f:.2f}x", s <= factor * f


# The request-rate targets, each on the lowest ratio of the service's requests/s to the
# limit's among the classes it covers: a read by id, the pages, every other (search) class.
PAGES = ("page-1", "page-10000")
RATE_TARGETS: list[tuple[str, Callable[[str], bool], float]] = [
    ("get by id req/s >= 0.4 of the limit", lambda name: name == "get-by-id", 0.4),
    ("page 1 and page 10,000 req/s >= 0.6 of the limit", lambda name: name in PAGES, 0.6),
    ("search req/s >= 0.7 of the limit, every class", lambda name: name not in ("get-by-id", *PAGES), 0.7),
]


def targets(service: dict[str, Figures], limit: dict[str, Figures]) -> list[tuple[str, str, bool]]:
    """The targets whose classes were measured (all of them unless --classes chose a few)."""
    checks = []
    for target, names, bound in RATE_TARGETS:
        measured = [n for n in service if names(n)]
        if measured:
            worst = min(measured, key=lambda n: service[n].requests_per_second / limit[n].requests_per_second)
            ratio = service[worst].requests_per_second / limit[worst].requests_per_second
            checks.append((target, f"lowest ratio {ratio:.2f} ({worst})", ratio >= bound))
    pairs = [("page 10,000 p50 within 1.5x of page 1", "page-10000", "page-1", 1.5),
             ("facets p50 within 2x of the same query without", "facets", "filters", 2.0),
             ("  the same with text", "text-facets", "selective-text", 2.0)]
    checks += [(target, *_p50_within(service, slow, fast, factor))
               for target, slow, fast, factor in pairs if slow in service and fast in service]
    for target, name, bound in [("non-selective text p50 < 150 ms", "nonselective-text", 150),
                                ("cluster matches p50 < 100 ms", "cluster-matches", 100)]:
        if name in service:
            checks.append((target, f"{service[name].p50_ms:.1f} ms", service[name].p50_ms < bound))
    return checks


def facet_cost(service: dict[str, Figures]) -> list[str]:
    """The cost of facets on a filter-only search: with facets / without, p50 and req/s."""
    if "facets" not in service or "filters" not in service:
        return []
    with_, without = service["facets"], service["filters"]
    return [f"Facet cost, filter-only search (`facets` / `filters`): p50 {with_.p50_ms / without.p50_ms:.2f}x "
            f"({with_.p50_ms:.1f} / {without.p50_ms:.1f} ms), requests/s {without.requests_per_second / with_.requests_per_second:.2f}x "
            f"fewer ({with_.requests_per_second:.0f} / {without.requests_per_second:.0f})"]


def _facets_note(args) -> str:
    return " Facets counted afresh on every ask (--fresh-facets: no reuse)." if args.fresh_facets else ""


def _limits_note(args) -> str:
    if args.workers == 1:
        return ""
    return " (rate limits counted in Redis)" if args.redis_url else " (rate limits off: no --redis-url)"


def report(classes, rounds_service: dict[str, list[Figures]], rounds_limit: dict[str, list[Figures]], args, rows: dict) -> str:
    service = {name: _median(figures) for name, figures in rounds_service.items()}
    limit = {name: _median(figures) for name, figures in rounds_limit.items()}
    ratios = {
        name: [s.requests_per_second / r.requests_per_second for s, r in zip(rounds_service[name], rounds_limit[name], strict=True)]
        for name in classes
    }
    lines = [
        f"# Search benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Dataset: {rows['opportunities']:,} opportunities, {rows['clusters']:,} clusters, {rows['partnerships']:,} "
        f"partnerships, {rows['missions']:,} missions. Load: wrk, {args.connections} connections, {args.seconds} s per "
        f"class after a 2 s warm-up, on the service and then on the limit, {args.rounds} rounds; figures are the "
        f"medians of the rounds, the ratio is that of the median requests/s (each round's in brackets). {args.workers} "
        f"server process(es) each{_limits_note(args)}; {os.cpu_count()} CPU cores shared by PostgreSQL, the servers and wrk."
        f"{_facets_note(args)}",
        "",
        "| query class | service req/s | p50 ms | p99 ms | limit req/s | p50 ms | p99 ms | ratio (rounds) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in classes:
        s, r = service[name], limit[name]
        each = ", ".join(f"{x:.2f}" for x in ratios[name])
        lines.append(f"| {name} | {s.requests_per_second:.0f} | {s.p50_ms:.1f} | {s.p99_ms:.1f} | {r.requests_per_second:.0f} "
                     f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {s.requests_per_second / r.requests_per_second:.2f} ({each}) |")
    lines += ["", *facet_cost(service)]
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {target} | {measured} | {'yes' if met else 'NO'} |" for target, measured, met in targets(service, limit)]
    lines += ["", "Query classes:", ""] + [f"- {name}: `{path[:120]}`" for name, path in classes.items()]
    errors = sum(f.errors for f in [*service.values(), *limit.values()])
    lines += ["", f"Errors (non-2xx or socket): {errors}"]
    return "\n".join(lines) + "\n"


async def counts(url: URL) -> dict[str, int]:
    connection = await asyncpg.connect(**_dsn(url))
    try:
        return {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in ("opportunities", "clusters", "partnerships", "missions")}
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--database-name", default=DATABASE,
                        help="The benchmark database on that server (one per branch keeps migrations apart).")
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument("--partnerships", type=int, default=1_000)
    parser.add_argument("--missions", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="Processes of the service and of the limit alike.")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"),
                        help="Rate-limit counters for --workers over 1 (without: the limits are off, in both runs' report).")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--classes", type=lambda v: v.split(","), default=None,
                        help="Comma-separated query classes to measure (default: all), e.g. filters,facets.")
    parser.add_argument("--generate-only", action="store_true", help="Build the dataset and stop.")
    parser.add_argument("--fresh-facets", action="store_true",
                        help="The service counts facets afresh on every ask (SEARCH__REUSE_FACETS=false): a search's first ask.")
    args = parser.parse_args()

    server = to_asyncpg_url(args.database_url) if args.database_url else start_embedded(HERE / ".pgdata")
    try:
        url = asyncio.run(prepare(server, args))
        rows = asyncio.run(counts(url))
        if args.generate_only:
            print(rows)
            return
        settings = _in_process_settings(url)
        engine_app = create_app(settings, sessionmaker=create_sessionmaker(create_engine(url, settings)))
        classes = chosen(asyncio.run(query_classes(engine_app, walk_pages=not args.classes or "page-10000" in args.classes)), args.classes)
        statements = asyncio.run(capture(url, classes))
        env = {"DATABASE_URL": url.render_as_string(hide_password=False), "DB__POOL_SIZE": str(args.connections)}
        with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as file:
            pickle.dump(statements, file)

        service_port, limit_port = _free_port(), _free_port()
        raw_env = env | {"RAW_STATEMENTS": file.name, "RAW_POOL_SIZE": str(args.connections),
                         "RAW_SERVER_SETTINGS": json.dumps(session_settings(settings))}
        # Both run throughout; the one not measured is idle.
        service_env = env | SERVICE_ENV | _several_processes_env(args)
        service_env |= {"SEARCH__REUSE_FACETS": "false"} if args.fresh_facets else {}
        service_process = _start([sys.executable, "-m", "service.cli", "serve", "--port", str(service_port),
                                  "--workers", str(args.workers)], service_env, service_port)
        try:
            limit_process = _start([sys.executable, "-m", "uvicorn", "tests.perf.raw_app:app", "--port", str(limit_port),
                                    "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"],
                                   raw_env, limit_port)
            try:
                service, limit = run(classes, f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{limit_port}", args)
            finally:
                _stop(limit_process)
        finally:
            _stop(service_process)
        os.unlink(file.name)

        text = report(classes, service, limit, args, rows)
        print()
        print(text)
        reports = HERE / "reports"
        reports.mkdir(exist_ok=True)
        target = reports / f"search-{date.today():%Y%m%d}-{int(time.time())}.md"
        target.write_text(text, encoding="utf-8")
        print(f"report written to {target}")
    finally:
        stop_embedded()


if __name__ == "__main__":
    main()
