"""Nothing heavy on the event loop: attacks on a real server while another client is served.

Each attack runs against `partnerships serve` in its own process while a second client keeps
reading; the readings' latency must stay that of a server with nothing else to do.
"""

import asyncio
import gzip
import io
import json
import statistics
import time
from pathlib import Path

import httpx
import pytest

from tests.feeds import big_calendar
from tests.ops.conftest import ServeProcess, admin_key_in, url_text
from tests.perf import phrases

pytestmark = pytest.mark.slow

# Far above a normal read on a busy 2-core machine, far below the seconds the attacks took
# when they ran on the event loop (a bomb: tens of seconds; a 5 MiB feed: 5 to 8 seconds).
STALL_LIMIT = 1.0


@pytest.fixture
async def server(tmp_path, live_database):
    process = ServeProcess(
        {
            "DATABASE_URL": url_text(live_database),
            "LIMITS__READS_PER_MINUTE": "0", "LIMITS__WRITES_PER_MINUTE": "0",
            "CALENDAR__MAX_FEED_BYTES": str(8 * 2**20),
        },
        tmp_path / "serve.log",
    )
    try:
        await process.wait_ready()
        process.key = await admin_key_in(live_database)
        yield process
    finally:
        process.stop()


async def _read_latencies(base_url: str, stop: asyncio.Event) -> list[float]:
    """Seconds each of a stream of ordinary reads took, until stop is set."""
    latencies = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            response = await client.get("/v1/sectors", params={"limit": 5})
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            await asyncio.sleep(0.02)
    return latencies


async def _during(base_url: str, attack) -> tuple[httpx.Response, float, list[float], list[float]]:
    """(the attack's response, its duration, read latencies before, read latencies during)."""
    stop = asyncio.Event()
    calm = asyncio.create_task(_read_latencies(base_url, stop))
    await asyncio.sleep(1)
    stop.set()
    before = await calm
    stop = asyncio.Event()
    reads = asyncio.create_task(_read_latencies(base_url, stop))
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    try:
        response = await attack()
    finally:
        took = time.perf_counter() - started
        stop.set()
    return response, took, before, await reads


def _bomb(inflated_mib: int) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as packer:
        for _ in range(inflated_mib):
            packer.write(b"\n" * 2**20)
    return out.getvalue()


async def test_a_gzip_bomb_is_refused_fast_and_other_clients_keep_their_latency(server):
    body = _bomb(500)  # 500 MiB of empty lines in about 500 KB
    headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}

    async def attack():
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            return await client.post("/v1/bulk/clusters", params={"dry_run": "true"}, content=body, headers=headers)

    response, took, before, during = await _during(server.base_url, attack)
    print(f"bomb refused in {took:.2f} s; reads meanwhile: median {statistics.median(during) * 1000:.0f} ms, "
          f"max {max(during) * 1000:.0f} ms (median before {statistics.median(before) * 1000:.0f} ms)")
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "100 times" in response.json()["detail"]
    assert took < 1.0, f"the bomb took {took:.2f} s to refuse"
    assert max(during) < STALL_LIMIT, f"reads took up to {max(during):.2f} s (median before: {statistics.median(before):.3f} s)"


async def test_a_bulk_load_of_long_texts_does_not_stall_other_clients(server):
    # Each row's language is detected from its text, a few ms a row: a batch of them on the
    # event loop kept every other request waiting for seconds.
    sentences = [s for texts in phrases.SENTENCES.values() for s in texts]
    rows = (json.dumps({"slug": f"long-{i}", "name": f"Long text {i}", "country": "FR",
                        "description": " ".join(sentences[(i + k) % len(sentences)] for k in range(40))[:3000]})
            for i in range(1_000))
    body = "\n".join(rows).encode()
    headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "application/x-ndjson"}

    async def attack():
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            return await client.post("/v1/bulk/clusters", params={"dry_run": "true"}, content=body, headers=headers)

    response, took, before, during = await _during(server.base_url, attack)
    print(f"load took {took:.2f} s; reads meanwhile: median {statistics.median(during) * 1000:.0f} ms, "
          f"max {max(during) * 1000:.0f} ms (median before {statistics.median(before) * 1000:.0f} ms)")
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0
    assert max(during) < STALL_LIMIT, f"reads took up to {max(during):.2f} s while the rows were validated"


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the most memory the process has held
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


async def test_a_big_calendar_import_does_not_stall_other_clients(server):
    body = big_calendar()
    assert len(body) > 4_500_000
    headers = {"Authorization": f"Bearer {server.key}", "Content-Type": "text/calendar"}
    rss_before = _peak_rss_kib(server.process.pid)

    async def attack():
        async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
            return await client.post("/v1/missions/import", content=body, headers=headers)

    response, took, before, during = await _during(server.base_url, attack)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == 0 and len(report["rejected"]) == 9_999
    grown_mib = (_peak_rss_kib(server.process.pid) - rss_before) / 1024
    print(f"import took {took:.2f} s; reads meanwhile: median {statistics.median(during) * 1000:.0f} ms, "
          f"max {max(during) * 1000:.0f} ms (median before {statistics.median(before) * 1000:.0f} ms); "
          f"server peak RSS grew {grown_mib:.0f} MiB")
    assert max(during) < STALL_LIMIT, f"reads took up to {max(during):.2f} s while the feed was read"
    # Reading the feed in the server's own process raised its peak by about 50 MiB.
    assert grown_mib < 40


async def test_a_client_that_disconnects_mid_upload_is_logged_as_499_not_as_an_error(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST /v1/missions/import HTTP/1.1\r\nHost: x\r\nContent-Type: text/calendar\r\n"
        + f"Authorization: Bearer {server.key}\r\nContent-Length: 100000\r\n\r\n".encode()
        + b"BEGIN:VCALENDAR\r\n"
    )
    await writer.drain()
    await asyncio.sleep(0.3)  # the handler is now waiting for the rest of the body
    writer.close()
    await writer.wait_closed()

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
        access = [r for r in lines if r.get("path") == "/v1/missions/import" and "status" in r]
        if access:
            break
        await asyncio.sleep(0.1)
    assert [r["status"] for r in access] == [499], access
    assert access[0]["level"] == "INFO"
    assert not [r for r in lines if r["level"] in ("ERROR", "CRITICAL")], [r for r in lines if r["level"] == "ERROR"]
