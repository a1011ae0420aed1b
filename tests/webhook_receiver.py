"""A real HTTP endpoint on 127.0.0.1 that receives webhook deliveries, for tests and the
latency measurement, and helpers to make events happen in a database."""

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import BaseModel
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from service.events import service as events
from service.events.schemas import EventType


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that gave up waiting (a timeout test) breaks the pipe; nothing to report


class Receiver:
    """Records every POST; a path answers the statuses queued for it in turn, then 200."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: dict[str, list[Answer]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()))
                queued = receiver.answers.get(self.path) or []
                answer = queued.pop(0) if queued else Answer()
                time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(self, path: str, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.at(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} received {len(self.at(path))} of {count} deliveries in {timeout} s")
            await asyncio.sleep(0.02)
        return self.at(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="receiver")
def receiver_fixture():
    """A Receiver for one test (modules that use it import receiver_fixture)."""
    receiver = Receiver()
    yield receiver
    receiver.close()


class Changed(BaseModel):
    id: uuid.UUID
    name: str


async def make_events(
    url: URL, count: int = 1, type_: EventType = "cluster.created", *, each_committed: bool = False, label: str = "change"
) -> list[float]:
    """Events as a change writes them (their resources named `label n`); the time.time() of
    each commit (one commit for all unless each_committed)."""
    engine = create_async_engine(url, poolclass=NullPool)
    committed: list[float] = []
    try:
        async with async_sessionmaker(engine)() as session:
            for n in range(count):
                await events.record(session, type_, Changed(id=uuid.uuid4(), name=f"{label} {n}"), version=1)
                if each_committed:
                    await session.commit()
                    committed.append(time.time())
            if not each_committed:
                await session.commit()
                committed = [time.time()] * count
    finally:
        await engine.dispose()
    return committed
