"""Delivering an export through a spool: bounded in number, and in how long a client may
leave a piece unread.

The export's pieces (service.bulk.export) are copied into a spool as fast as the database
gives them, by a task of their own; the response feeds the client from the spool. A client
that accepts nothing for the send timeout is cut off, and every way the response ends (done,
cut off, the client gone) stops the export's query if it still runs and frees the spool.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from service.bulk.spool import Pipe
from service.config import BulkSettings
from service.errors import ServiceUnavailable, TooManyRequests
from service.ops.logging import response_cut_off

log = logging.getLogger(__name__)


class ExportLimits:
    """How many exports run at once, in the process and per client: each holds a spool (up
    to the size of its export, on disk), so together they must not fill the disk, and one
    client must not take every place."""

    def __init__(self, settings: BulkSettings):
        self.total = settings.max_exports
        self.per_client = settings.max_exports_per_client
        self._running: Counter[str] = Counter()

    @asynccontextmanager
    async def slot(self, client: str) -> AsyncIterator[None]:
        if self._running[client] >= self.per_client:
            raise TooManyRequests(
                f"At most {self.per_client} exports per client run at once; retry when one has finished.",
                headers={"Retry-After": "5"},
            )
        if self._running.total() >= self.total:
            raise ServiceUnavailable("Too many exports are running; retry shortly.", headers={"Retry-After": "5"})
        self._running[client] += 1
        try:
            yield
        finally:
            self._running[client] -= 1
            if not self._running[client]:
                del self._running[client]


async def spooled(
    chunks: AsyncIterator[bytes], *, place: AbstractAsyncContextManager[object],
    holding: AbstractAsyncContextManager[object],
    directory: Path | None, send_timeout: float, media_type: str, headers: dict[str, str],
) -> "SpooledResponse":
    """Start copying chunks into a spool (within place, a slot of ExportLimits; holding what
    their connection needs) and answer a response that feeds the client from it.

    Waits for the first piece, so that a database that cannot answer gets a problem response
    rather than a 200 with a cut body.
    """
    cleanup = AsyncExitStack()
    await cleanup.enter_async_context(place)
    pipe = Pipe(directory)
    producer = asyncio.create_task(_pump(chunks, pipe, holding))
    try:
        await pipe.ready()
    except BaseException:
        producer.cancel()
        await asyncio.gather(producer, return_exceptions=True)
        pipe.close()
        await cleanup.aclose()
        raise
    return SpooledResponse(pipe, producer, send_timeout, cleanup.aclose, media_type, headers)


async def _pump(chunks: AsyncIterator[bytes], pipe: Pipe, holding: AbstractAsyncContextManager[object]) -> None:
    """Copy chunks into the pipe; its reader sees how it ended (its error, if any)."""
    try:
        async with holding:
            async for chunk in chunks:
                pipe.write(chunk)
    except asyncio.CancelledError:
        pipe.finish(ConnectionAbortedError("the export was stopped"))
        raise
    except Exception as exc:  # the reader raises it: a problem answer, or a body cut short
        pipe.finish(exc)
    else:
        pipe.finish()


class _ClientTooSlow(Exception):
    pass


SENT, CUT_OFF = "sent", "cut off"


class SpooledResponse(Response):
    """A 200 whose body is read from a pipe that another task fills."""

    def __init__(
        self, pipe: Pipe, producer: asyncio.Task[None], send_timeout: float, finish: Callable[[], Awaitable[None]],
        media_type: str, headers: dict[str, str],
    ):
        self.pipe, self.producer, self.send_timeout, self.finish = pipe, producer, send_timeout, finish
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        feeding = asyncio.ensure_future(self._feed(send))
        leaving = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({feeding, leaving}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (feeding, leaving, self.producer):
                task.cancel()
            await asyncio.gather(feeding, leaving, self.producer, return_exceptions=True)
            self.pipe.close()
            await self.finish()
        if feeding.done() and not feeding.cancelled() and feeding.result() == CUT_OFF:
            log.warning("export cut off: the client accepted nothing for %g s", self.send_timeout)
            # Returning with the body unfinished makes the server close the connection.
            response_cut_off.set(True)

    async def _feed(self, send: Send) -> str:
        """Send the whole body (an export that fails midway raises: the server cuts the
        body short), or stop once the client has accepted nothing for the send timeout."""
        async def timed_send(message: Message) -> None:
            try:
                async with asyncio.timeout(self.send_timeout):
                    await send(message)
            except TimeoutError:
                raise _ClientTooSlow from None

        try:
            await timed_send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for chunk in self.pipe.chunks():
                await timed_send({"type": "http.response.body", "body": chunk, "more_body": True})
            await timed_send({"type": "http.response.body", "body": b"", "more_body": False})
        except _ClientTooSlow:
            return CUT_OFF
        return SENT


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
