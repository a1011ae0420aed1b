"""Reading feeds in another process, with a time and memory bound.

Parsing a large iCalendar feed takes seconds of CPU and tens of megabytes: done on the event
loop, it would stall every other request meanwhile. So feeds are read in worker processes,
each used for one feed only (its memory goes back to the system when it exits), with an
address-space limit (RLIMIT_AS) and a CPU-time limit (RLIMIT_CPU, after which the kernel
ends it). A feed that breaks either bound is rejected like any unreadable feed.

Workers are forked from a forkserver that has already imported the parser, so starting
one costs milliseconds, not the seconds of a fresh interpreter.
"""

import asyncio
import logging
import math
import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache

from service.calendar.parse import Defaults, FeedEvent, FeedRejected, Rejection, parse

log = logging.getLogger(__name__)

# Feeds read at the same time; more wait for a free worker.
WORKERS = 2


def _bound(cpu_seconds: int, memory_bytes: int) -> None:
    """Run in each worker before it reads anything."""
    # Reading a feed can wait; answering requests cannot: on a busy machine the server's
    # own process gets the CPU first.
    os.nice(10)
    # The soft limit sends SIGXCPU, which ends the process; the hard one is the kernel's backstop.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (ValueError, OSError):  # macOS refuses address-space limits: bounded by CPU time only there
        pass


class FeedReader:
    def __init__(self, timeout_seconds: float, memory_bytes: int):
        self.timeout_seconds = timeout_seconds
        self.memory_bytes = memory_bytes
        self._pool: ProcessPoolExecutor | None = None

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["service.calendar.parse"])
            self._pool = ProcessPoolExecutor(
                WORKERS, mp_context=context, max_tasks_per_child=1,
                initializer=_bound, initargs=(math.ceil(self.timeout_seconds), self.memory_bytes),
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Give up on a pool a worker died in (or that overran): the next feed gets a new one."""
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    async def read(self, content: bytes, fmt: str, defaults: Defaults) -> list[FeedEvent | Rejection]:
        # A worker that dies breaks its whole pool, and so fails the other feeds being read
        # in it: a feed gets a second try in a new pool, and is rejected if it fails again.
        for _ in range(2):
            pool = self._workers()
            try:
                return await self._read_in(pool, content, fmt, defaults)
            except (BrokenProcessPool, RuntimeError):  # RuntimeError: discarded while submitting
                self._discard(pool)
        raise FeedRejected(f"reading the feed needed more than {self._bound}")

    @property
    def _bound(self) -> str:
        return f"{self.timeout_seconds:g} s of CPU or {self.memory_bytes // 2**20} MiB of memory"

    async def _read_in(
        self, pool: ProcessPoolExecutor, content: bytes, fmt: str, defaults: Defaults
    ) -> list[FeedEvent | Rejection]:
        wall_clock_limit = 3 * self.timeout_seconds + 1
        try:
            # The CPU limit ends an overrunning worker; the wall-clock limit covers a machine
            # so busy that the worker gets little CPU.
            async with asyncio.timeout(wall_clock_limit):
                # Submitting may start a worker, which waits on the forkserver (for seconds
                # the first time, while it imports the parser): done in a thread, not on the loop.
                work = await asyncio.to_thread(pool.submit, parse, content, fmt, defaults)
                events: list[FeedEvent | Rejection] = await asyncio.wrap_future(work)
                return events
        except TimeoutError:
            self._discard(pool)
            raise FeedRejected(f"reading the feed took longer than {wall_clock_limit:g} s") from None
        except MemoryError:
            raise FeedRejected(f"reading the feed needed more than {self._bound}") from None
        except (FeedRejected, BrokenProcessPool, RuntimeError):
            raise
        except Exception:
            # The parser failed in a way hostile input was not expected to make it fail: a
            # defect to look into, but still a feed that cannot be read, not a server error.
            log.warning("the calendar parser failed on a feed", exc_info=True)
            raise FeedRejected("not a readable calendar") from None


@cache
def reader(timeout_seconds: float, memory_bytes: int) -> FeedReader:
    return FeedReader(timeout_seconds, memory_bytes)
