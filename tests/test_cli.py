"""The `partnerships` command, run as a newcomer runs it: as a process against a database."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from tests.feeds import FeedServer, Route

CLI = [sys.executable, "-m", "service.cli"]


def _env(url, **extra) -> dict[str, str]:
    return os.environ | {"DATABASE_URL": url.render_as_string(hide_password=False)} | extra


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_sync_calendars_command(committed_database):
    url, engine = committed_database
    feed = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//T//EN\r\nBEGIN:VEVENT\r\nUID:cli-1\r\nDTSTAMP:20300101T000000Z\r\n"
        b"DTSTART;VALUE=DATE:20300601\r\nDTEND;VALUE=DATE:20300603\r\nSUMMARY:Mission to New York\r\n"
        b"LOCATION:New York, United States\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with FeedServer() as feeds:
        feeds.routes["/cli.ics"] = Route(feed, headers={"Content-Type": "text/calendar"})
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO calendar_sources (id, url, format, default_kind) VALUES (gen_random_uuid(), :url, 'ics', 'trade-mission')"),
                {"url": feeds.url("/cli.ics")},
            )
        env = _env(url, CALENDAR__ALLOW_NETWORKS='["127.0.0.1/32"]')
        first = subprocess.run([*CLI, "sync-calendars"], env=env, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stderr
        assert "1 created, 0 updated, 0 cancelled, 0 unchanged, 0 rejected" in first.stdout
        second = subprocess.run([*CLI, "sync-calendars"], env=env, capture_output=True, text=True, timeout=60)
        assert "0 created, 0 updated, 0 cancelled, 1 unchanged" in second.stdout

        refused = subprocess.run([*CLI, "sync-calendars"], env=_env(url), capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1 and "non-public address" in refused.stderr
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM missions WHERE kind = 'trade-mission'")) == 1


async def test_serve_with_demo_data_answers_the_readme_examples(committed_database):
    url, _ = committed_database
    port = _free_port()
    process = subprocess.Popen(
        [*CLI, "serve", "--demo", "--port", str(port)], env=_env(url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, cwd=Path(__file__).parent,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
                time.sleep(0.3)
        french = httpx.get(f"{base}/v1/clusters", params={"country": "FR", "limit": 200}).json()["items"]
        assert "opticsvalley" in {c["slug"] for c in french}
        s3 = httpx.get(f"{base}/v1/partnerships", params={"programme": "escp-s3"}).json()["items"]
        assert len(s3) == 9
        ranked = httpx.get(f"{base}/v1/target-markets", params={"sort": "-partnership_count"}).json()["items"]
        assert ranked[0]["country"] == "US"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "demo data loaded" in output
    assert process.returncode == 0, output


async def test_keys_create_refuses_a_bound_admin_key(committed_database):
    url, engine = committed_database
    async with engine.begin() as connection:
        await connection.execute(text(
            "INSERT INTO clusters (id, slug, name, country) VALUES (gen_random_uuid(), 'alpha', 'Alpha', 'FR')"))
    refused = subprocess.run([*CLI, "keys", "create", "--scope", "admin", "--cluster", "alpha"],
                             env=_env(url), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "admin key cannot be bound" in refused.stderr, refused.stderr
    bound = subprocess.run([*CLI, "keys", "create", "--scope", "write", "--cluster", "alpha"],
                           env=_env(url), capture_output=True, text=True, timeout=60)
    assert bound.returncode == 0 and "bound to alpha" in bound.stderr, bound.stderr
    async with engine.connect() as connection:
        keys = (await connection.execute(text("SELECT scope, cluster_id IS NOT NULL FROM api_keys"))).all()
    assert keys == [("write", True)]
