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
import math
import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cache

from service.calendar.parse import Defaults, FeedEvent, FeedRejected, Rejection, parse

# Feeds read at the same time; more wait for a free worker.
WORKERS = 2


def _bound(cpu_seconds: int, memory_bytes: int) -> None:
    """Run in each worker before it reads anything."""
    # Reading a feed can wait; answering requests cannot: on a busy machine the server's
    # own process gets the CPU first.
    os.nice(10)
    # The soft limit sends SIGXCPU, which ends the process; the hard one is the kernel's backstop.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


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
        pool = self._workers()
        bound = f"{self.timeout_seconds:g} s of CPU or {self.memory_bytes // 2**20} MiB of memory"
        try:
            # The CPU limit ends an overrunning worker; the wall-clock limit covers a machine
            # so busy that the worker gets little CPU.
            async with asyncio.timeout(3 * self.timeout_seconds + 1):
                # Submitting may start a worker, which waits on the forkserver (for seconds
                # the first time, while it imports the parser): done in a thread, not on the loop.
                work = await asyncio.to_thread(pool.submit, parse, content, fmt, defaults)
                return await asyncio.wrap_future(work)
        except TimeoutError:
            self._discard(pool)
            raise FeedRejected(f"reading the feed took longer than {3 * self.timeout_seconds + 1:g} s") from None
        except BrokenProcessPool:
            self._discard(pool)
            raise FeedRejected(f"reading the feed needed more than {bound}") from None
        except MemoryError:
            raise FeedRejected(f"reading the feed needed more than {bound}") from None


@cache
def reader(timeout_seconds: float, memory_bytes: int) -> FeedReader:
    return FeedReader(timeout_seconds, memory_bytes)
