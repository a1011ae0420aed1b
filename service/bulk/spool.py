"""Spools: bytes kept in memory up to a few MiB, then in a temporary file, so that neither
a slow client nor a slow database waits on the other.

An upload is received whole into a spool before a database connection is taken; an export
is written into one as fast as the database gives rows, and fed to the client from it. The
file has no name on disk once created, so whatever happens to the request it is gone with
the last reference.
"""

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from service.bulk.reading import BodyMeter, metered
from service.errors import REQUEST_TIMEOUT, ServiceError

# Past this a spool moves from memory to disk: small uploads and exports never touch it.
MEMORY_BYTES = 4 * 1024 * 1024
READ_CHUNK = 1024 * 1024


class UploadTooSlow(ServiceError):
    kind = REQUEST_TIMEOUT


def new_file(directory: Path | None) -> IO[bytes]:
    if directory:
        directory.mkdir(parents=True, exist_ok=True)
    return tempfile.SpooledTemporaryFile(
        max_size=MEMORY_BYTES, dir=None if directory is None else str(directory), prefix="bulk-"
    )


async def receive(body: AsyncIterator[bytes], directory: Path | None, meter: BodyMeter, seconds: float) -> IO[bytes]:
    """The whole body in a spool, read back from its start. A body that has not arrived
    within `seconds` answers 408: a trickling client must not keep a request alive forever."""
    spool = new_file(directory)
    deadline = time.monotonic() + seconds
    chunks = aiter(metered(body, meter))
    try:
        while True:
            try:
                # The deadline bounds each wait, never a yield: a timeout must not outlive its await.
                async with asyncio.timeout_at(_loop_time(deadline)):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise UploadTooSlow(
                    f"The body did not arrive within {seconds:g} s; send it faster or in smaller files.",
                    headers={"Connection": "close"},
                ) from None
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _loop_time(deadline: float) -> float:
    """A time.monotonic() deadline on the event loop's clock."""
    return asyncio.get_running_loop().time() + (deadline - time.monotonic())


async def chunks_of(spool: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := spool.read(READ_CHUNK):
        yield chunk


class Pipe:
    """A spool one task writes and another reads at its own pace, each at its own offset.

    Everything runs on the event loop's thread, so a seek and the read or write after it are
    never interleaved with another task's.
    """

    def __init__(self, directory: Path | None = None):
        self._file = new_file(directory)
        self._written = 0
        self._read = 0
        self._finished = False
        self._error: BaseException | None = None
        self._changed = asyncio.Event()

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._file.seek(self._written)
        self._file.write(data)
        self._written += len(data)
        self._changed.set()

    def finish(self, error: BaseException | None = None) -> None:
        """No more writes; error, if any, is raised to the reader once it has read the rest."""
        self._finished, self._error = True, error
        self._changed.set()

    async def ready(self) -> None:
        """Wait for the first bytes or the end; raises the writer's error if it failed first."""
        while not self._written and not self._finished:
            await self._wait()
        if self._error is not None and not self._written:
            raise self._error

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            if self._read < self._written:
                self._file.seek(self._read)
                data = self._file.read(min(READ_CHUNK, self._written - self._read))
                self._read += len(data)
                yield data
            elif self._finished:
                if self._error is not None:
                    raise self._error
                return
            else:
                await self._wait()

    async def _wait(self) -> None:
        self._changed.clear()
        await self._changed.wait()

    def close(self) -> None:
        self._file.close()
