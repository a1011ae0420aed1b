"""Helpers for the operational tests.

Most of these tests need what the rolled-back test transaction cannot give: an app with its
own engine and pool (to time out, lose connections, be restarted) or a real server process.
They run against `live_database`, a scratch database of their own on the test server, so
what they commit never shows up in the other tests.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager, closing
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.access import keys
from service.config import Settings, TaskSettings
from service.main import create_app
from service.migrate import upgrade
from tests.conftest import _asyncpg_dsn, _no_server_errors, create_scratch_database, drop_database


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Redis for the tests of shared rate limits: TEST_REDIS_URL, else the local default.
    Without one they are skipped on a developer's machine, but fail in CI (which starts one)."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=1).close()
    except OSError:
        message = f"no Redis answers at {url} (set TEST_REDIS_URL)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url_text(url: URL) -> str:
    """The URL as an environment variable or Settings value takes it (password included)."""
    return url.render_as_string(hide_password=False)


async def migrated_scratch_database(server_url: URL) -> URL:
    url = await create_scratch_database(server_url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


@pytest.fixture(scope="session")
async def live_database(server_url):
    url = await migrated_scratch_database(server_url)
    yield url
    await drop_database(server_url, url)


def live_settings(url: URL | str, **groups) -> Settings:
    """Settings for an app of its own on url; no task worker runs in it unless `tasks` asks."""
    groups.setdefault("tasks", TaskSettings(in_process_worker=False))
    return Settings(database_url=url if isinstance(url, str) else url_text(url), **groups)


async def admin_key_in(url: URL, key: str | None = None) -> str:
    """An admin API key (a new one, or key), committed to the database at url."""
    if key is None:
        key, prefix, digest = keys.new_key()
    else:
        prefix, secret = keys.parse(key)
        digest = keys.digest(secret)
    connection = await asyncpg.connect(**_asyncpg_dsn(url))
    try:
        await connection.execute(
            "INSERT INTO api_keys (id, prefix, secret_hash, name, scope) VALUES (gen_random_uuid(), $1, $2, 'ops tests', 'admin')",
            prefix, digest,
        )
    finally:
        await connection.close()
    return key


@asynccontextmanager
async def live_client(settings: Settings, check_errors: bool = True, key: str | None = None):
    """An app with its own engine (its lifespan runs), and a client for it (with key, if given)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        hooks = {"response": [_no_server_errors]} if check_errors else {}
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with httpx.AsyncClient(transport=transport, base_url="http://test", event_hooks=hooks, headers=headers) as client:
            client.app = app
            yield client


@asynccontextmanager
async def table_locked(url: URL, table: str):
    """Hold an ACCESS EXCLUSIVE lock on a table, so that any statement reading it waits."""
    connection = await asyncpg.connect(**_asyncpg_dsn(url))
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        try:
            yield connection
        finally:
            await transaction.rollback()
    finally:
        await connection.close()


async def wait_for_lock_waiters(url: URL, count: int = 1, timeout: float = 5.0) -> None:
    """Wait until `count` statements of the service are blocked on a lock."""
    connection = await asyncpg.connect(**_asyncpg_dsn(url))
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            waiting = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                "AND application_name = 'partnerships' AND wait_event_type = 'Lock'",
                url.database,
            )
            if waiting >= count:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {count} service statement(s) waiting on the lock after {timeout} s")
    finally:
        await connection.close()


class CommandProcess:
    """A `partnerships` command in a subprocess, logging JSON to a file. No task worker runs
    inside `serve` unless env asks (TASKS__IN_PROCESS_WORKER): tests of background work
    start `partnerships worker` processes of their own."""

    command = "serve"

    def __init__(self, env: dict[str, str], log_path, args: tuple[str, ...] = ()) -> None:
        self.port = int(env.get("SERVER__PORT") or free_port())
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {
            **os.environ, "SERVER__PORT": str(self.port), "LOG__FORMAT": "json", "TASKS__IN_PROCESS_WORKER": "false", **env,
        }
        full_env.pop("TEST_DATABASE_URL", None)
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from service.cli import app; app()", self.command, *args],
            env=full_env, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean up (a crash, a machine lost)."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_logged(self, text: str, timeout: float = 20.0) -> None:
        """Wait until the log shows text (the process exiting first fails)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_text():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"{self.command} exited with {self.process.returncode}:\n{self.log_text()}")
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.command} did not log {text!r} within {timeout} s:\n{self.log_text()}")


class WorkerProcess(CommandProcess):
    """`partnerships worker` in a subprocess."""

    command = "worker"

    async def wait_ready(self, timeout: float = 20.0) -> None:
        await self.wait_logged("Starting worker on all queues", timeout)


class ServeProcess(CommandProcess):
    """`partnerships serve` in a subprocess, on a free port."""

    async def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log_text()}")
                try:
                    if (await client.get(f"{self.base_url}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"serve did not answer within {timeout} s:\n{self.log_text()}")
