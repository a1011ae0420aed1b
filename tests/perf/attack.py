"""Attack benchmark: a normal read's latency while hostile clients do their worst.

    python -m tests.perf.attack [--database-url URL] [--clusters 50000] [--seconds 15]
                                [--slow-readers 40] [--connections 8] [--attacks slow,bomb,feed]

1. Builds a scratch database (on --database-url, else an embedded PostgreSQL in a temporary
   folder) with --clusters clusters, so that one export is far larger than a socket buffer.
2. Starts the service (`partnerships serve`, default pool) and measures a normal read
   (`GET /v1/clusters?country=FR`) with wrk: requests/s, p50, p99 and non-2xx answers.
3. Measures it again while, at the same time:
   - (slow) --slow-readers anonymous clients ask for `GET /v1/export/clusters` and never read;
   - (bomb) a client sends gzip bombs (a few hundred KB inflating to 1 GB of empty lines) to
     `POST /v1/bulk/clusters?dry_run=true`, one after the other;
   - (feed) a client imports a 5 MiB iCalendar feed, one import after the other.
4. Prints both runs, the p99 ratio (target: within 2x) and the 503s (target: none), what each
   attacker was answered, and any 500 in the service's log; writes the report to
   tests/perf/reports/.
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import URL

from service.db import start_embedded, stop_embedded, to_asyncpg_url
from tests.conftest import _asyncpg_dsn, drop_database
from tests.ops.conftest import migrated_scratch_database, url_text
from tests.perf import dataset
from tests.perf.load import Figures, wrk

HERE = Path(__file__).parent
NORMAL_READ = "/v1/clusters?country=FR"
BOMB_INFLATED_BYTES = 1024 * 1024 * 1024
# Just under the default CALENDAR__MAX_FEED_BYTES (5 MiB): the largest feed the service takes.
FEED_BYTES = 5 * 1024 * 1024 - 64 * 1024
ATTACKS = ("slow", "bomb", "feed")


def gzip_bomb(inflated: int = BOMB_INFLATED_BYTES) -> bytes:
    """A gzip stream of `inflated` bytes of empty lines: about a thousandth of that on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\n" * (1024 * 1024)
    parts = [packer.compress(block) for _ in range(inflated // len(block))]
    return b"".join(parts) + packer.flush()


def big_feed(size: int = FEED_BYTES) -> bytes:
    """An RFC 5545 calendar of `size` bytes or a little more, in events of about 600 bytes:
    fewer than the 10,000 events a feed may hold, so the whole feed is read and applied."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//attack benchmark//EN"]
    length, i = 0, 0
    while length < size:
        event = [
            "BEGIN:VEVENT", f"UID:attack-{i}@bench.example", "DTSTAMP:20260101T000000Z",
            f"DTSTART;VALUE=DATE:2027{1 + i % 12:02d}{1 + i % 28:02d}", f"SUMMARY:Business mission number {i}",
            "LOCATION:Boston\\, US", f"DESCRIPTION:{'A matchmaking mission for cluster members. ' * 10}",
            "END:VEVENT",
        ]
        lines += event
        length += sum(len(line) + 2 for line in event)
        i += 1
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Attack:
    """The hostile clients, each on a thread of its own, until stop() is called."""

    def __init__(self, base: str, port: int, key: str, slow_readers: int, kinds: list[str]) -> None:
        self.base, self.port, self.key, self.slow_readers = base, port, key, slow_readers
        self.stopping = threading.Event()
        self.answers: dict[str, Counter] = {kind: Counter() for kind in kinds}
        self.timings: dict[str, list[float]] = {kind: [] for kind in kinds if kind != "slow"}
        self.threads = [
            threading.Thread(target=self._slow_readers if kind == "slow" else self._repeat, args=(kind,), daemon=True)
            for kind in kinds
        ]
        self.bomb, self.feed = gzip_bomb(), big_feed()

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _slow_readers(self, kind: str) -> None:
        # Each asks for the whole export, reads only the status line, then never reads again:
        # the kernel's buffers fill and the service's sends block.
        sockets = []
        for _ in range(self.slow_readers):
            sock = socket.create_connection(("127.0.0.1", self.port))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(b"GET /v1/export/clusters HTTP/1.1\r\nHost: bench\r\n\r\n")
            sockets.append(sock)
        for sock in sockets:
            sock.settimeout(10)
            try:
                status = sock.recv(64).split(b" ")[1].decode()
            except (OSError, IndexError):
                status = "no answer"
            self.answers[kind][status] += 1
        self.stopping.wait()
        for sock in sockets:
            sock.close()

    def _repeat(self, kind: str) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        if kind == "bomb":
            url, body = f"{self.base}/v1/bulk/clusters?dry_run=true", self.bomb
            headers |= {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
        else:
            url, body = f"{self.base}/v1/missions/import", self.feed
            headers |= {"Content-Type": "text/calendar"}
        with httpx.Client(timeout=120) as client:
            while not self.stopping.is_set():
                started = time.monotonic()
                try:
                    status = str(client.post(url, content=body, headers=headers).status_code)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                self.timings[kind].append(time.monotonic() - started)
                self.answers[kind][status] += 1


def _serve(url: URL, port: int, log_path: Path) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": url_text(url), "SERVER__PORT": str(port), "LOG__FORMAT": "json", "LOG__LEVEL": "INFO",
        # The rate limits are the service's own defence against floods, not what is measured here:
        # they are set far above what one load generator sends, so every request reaches the code.
        "LIMITS__READS_PER_MINUTE": "100000000", "LIMITS__WRITES_PER_MINUTE": "100000000",
        "LIMITS__STRATEGY": "sliding-window-counter",
    }
    env.pop("TEST_DATABASE_URL", None)
    log = open(log_path, "wb")  # noqa: SIM115 - the child keeps it open; closed with the process
    return subprocess.Popen([sys.executable, "-c", "from service.cli import app; app()", "serve"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_ready(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the service did not become ready within 60 s")


def _issue_key(url: URL) -> str:
    out = subprocess.run(
        [sys.executable, "-c", "from service.cli import app; app()", "keys", "create", "--scope", "admin",
         "--name", "attack benchmark"],
        env=os.environ | {"DATABASE_URL": url_text(url), "LOG__LEVEL": "WARNING"},
        capture_output=True, text=True, check=True,
    ).stdout
    return next(word for word in out.split() if word.startswith("pop_"))


async def _fill(url: URL, clusters: int) -> None:
    connection = await asyncpg.connect(**_asyncpg_dsn(url))
    try:
        await dataset.generate(connection, clusters=clusters, partnerships=max(1, clusters // 100),
                               opportunities=clusters, missions=max(1, clusters // 100),
                               today=datetime.now(UTC).date(), progress=lambda message: None)
    finally:
        await connection.close()


def _server_errors(log_path: Path) -> int:
    errors = 0
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and (record.get("status") == 500 or record.get("level") in ("ERROR", "CRITICAL")):
            errors += 1
    return errors


def _line(name: str, f: Figures) -> str:
    return f"| {name} | {f.requests_per_second:,.0f} | {f.p50_ms:.1f} | {f.p99_ms:.1f} | {f.errors} |"


def run(url: URL, args) -> str:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    key = _issue_key(url)
    with tempfile.TemporaryDirectory(prefix="attack-") as tmp:
        log_path = Path(tmp) / "service.log"
        process = _serve(url, port, log_path)
        try:
            _wait_ready(base, process)
            wrk(base + NORMAL_READ, seconds=3, connections=args.connections)  # warm-up
            quiet = wrk(base + NORMAL_READ, seconds=args.seconds, connections=args.connections)
            attack = Attack(base, port, key, args.slow_readers, args.attacks)
            attack.start()
            time.sleep(2)  # the slow readers are in place, the first bomb and feed under way
            loud = wrk(base + NORMAL_READ, seconds=args.seconds, connections=args.connections)
            attack.stop()
            try:
                ready_after = str(httpx.get(f"{base}/readyz", timeout=5).status_code)
            except httpx.HTTPError as error:
                ready_after = f"no answer ({type(error).__name__})"
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        server_errors = _server_errors(log_path)
    # wrk reports no latency at all when not one request completed: that is the worst case.
    ratio = loud.p99_ms / quiet.p99_ms if loud.requests_per_second and quiet.p99_ms else float("inf")
    lines = [
        f"# Attack benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Normal read `GET {NORMAL_READ}`, wrk {args.connections} connections, {args.seconds} s each;"
        f" {args.clusters:,} clusters; {args.slow_readers} slow export readers, gzip bombs of"
        f" {BOMB_INFLATED_BYTES // 2**20} MiB inflated, {FEED_BYTES // 2**20} MiB iCalendar imports.",
        "",
        "| run | req/s | p50 ms | p99 ms | non-2xx + socket errors |",
        "|---|---:|---:|---:|---:|",
        _line("quiet", quiet),
        _line("under attack", loud),
        "",
        f"p99 under attack / quiet: {ratio:.2f} (target: at most 2.0) - {'met' if ratio <= 2 else 'NOT met'}",
        f"non-2xx answers to the normal read under attack: {loud.errors} (target: 0) -"
        f" {'met' if loud.errors == 0 else 'NOT met'}",
        f"/readyz after the attack: {ready_after}",
        f"500s or errors in the service's log: {server_errors}",
    ]
    for kind, answers in attack.answers.items():
        timing = attack.timings.get(kind)
        took = f"; median {sorted(timing)[len(timing) // 2]:.2f} s each" if timing else ""
        lines.append(f"{kind}: answered {dict(answers)}{took}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--clusters", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--slow-readers", type=int, default=40)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--attacks", type=lambda text: text.split(","), default=list(ATTACKS),
                        help="Which attacks run together, comma-separated: slow,bomb,feed (default: all).")
    args = parser.parse_args()
    if not set(args.attacks) <= set(ATTACKS):
        parser.error(f"--attacks takes {','.join(ATTACKS)}")
    with tempfile.TemporaryDirectory(prefix="attack-pg-") as tmp:
        server = to_asyncpg_url(args.database_url) if args.database_url else start_embedded(Path(tmp) / "pgdata")
        url = asyncio.run(migrated_scratch_database(server))
        try:
            asyncio.run(_fill(url, args.clusters))
            text = run(url, args)
        finally:
            asyncio.run(drop_database(server, url))
            if not args.database_url:
                stop_embedded()
    print(text)
    reports = HERE / "reports"
    reports.mkdir(exist_ok=True)
    (reports / f"attack-{datetime.now(UTC):%Y%m%dT%H%M%S}.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
