"""Reading an upload as it arrives: undo gzip, cut records, never hold the whole body.

Memory stays bounded whatever the size of the file: the body is read chunk by chunk,
decompressed with a cap on the output of each step (so a gzip bomb cannot expand at once),
and cut into records that are handed on in batches.

Time stays bounded too: a gzip body may inflate to at most MAX_INFLATED_BYTES, and to at
most MAX_INFLATE_RATIO times what has arrived compressed (once past RATIO_ALLOWANCE, so that
a small repetitive file is not refused). A bomb (a few hundred KB of gzip that would become
gigabytes of empty lines) is refused with 413 after 64 KB of output (about 15 ms of cutting
empty lines), instead of keeping the event loop busy cutting empty lines for a minute.
"""

import asyncio
import hashlib
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from service.errors import BODY_INTERRUPTED, MALFORMED_BODY, PayloadTooLarge, ServiceError

# Largest piece of decompressed output produced from one step of input. Cutting a step into
# records runs on the event loop: 64 KB of empty lines (the worst case) takes it about 20 ms.
_INFLATE_STEP = 64 * 1024
_GZIP = 16 + zlib.MAX_WBITS

# Real NDJSON and CSV files compress 5 to 20 times; gzip's own limit is about 1,000.
MAX_INFLATE_RATIO = 100
RATIO_ALLOWANCE = 64 * 1024
MAX_INFLATED_BYTES = 4 * 1024**3


class MalformedBody(ServiceError):
    """The body is not what its headers declare (e.g. Content-Encoding: gzip on plain data)."""

    kind = MALFORMED_BODY


class BodyInterrupted(ServiceError):
    """The client went away before the whole body arrived; nothing is applied."""

    kind = BODY_INTERRUPTED


@dataclass
class BodyMeter:
    """What has been read of the body as sent: its size and digest (for Idempotency-Key)."""

    bytes_read: int = 0
    _digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)

    def update(self, chunk: bytes) -> None:
        self.bytes_read += len(chunk)
        self._digest.update(chunk)

    @property
    def digest(self) -> str:
        return self._digest.hexdigest()


async def metered(chunks: AsyncIterator[bytes], meter: BodyMeter) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        if chunk:
            meter.update(chunk)
            yield chunk


def _check_inflation(inflated: int, compressed: int, max_ratio: int, max_bytes: int) -> None:
    if inflated > max_bytes:
        raise PayloadTooLarge(f"The body inflates to more than {max_bytes} bytes.")
    if inflated > RATIO_ALLOWANCE and inflated > max_ratio * compressed:
        raise PayloadTooLarge(
            f"The body inflates more than {max_ratio} times its compressed size: refused as a decompression bomb."
        )


async def gunzipped(
    chunks: AsyncIterator[bytes], max_ratio: int = MAX_INFLATE_RATIO, max_bytes: int = MAX_INFLATED_BYTES
) -> AsyncIterator[bytes]:
    """Decompress a gzip stream (several concatenated members allowed) step by step, within
    the ratio and size bounds."""
    inflater = zlib.decompressobj(_GZIP)
    started = False
    compressed = inflated = 0
    async for chunk in chunks:
        data = chunk
        while data:
            started = True
            try:
                out = inflater.decompress(data, _INFLATE_STEP)
            except zlib.error:
                raise MalformedBody("The body is not valid gzip data, although it is sent with Content-Encoding: gzip.") from None
            # Count only the input this step used, so that one large chunk of a bomb is caught
            # after its first megabyte of output rather than after all of it.
            compressed += len(data) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
            if out:
                inflated += len(out)
                _check_inflation(inflated, compressed, max_ratio, max_bytes)
                yield out
                # Each step is up to 64 KB of records to cut: let other requests run between steps.
                await asyncio.sleep(0)
            data = inflater.unconsumed_tail
            if inflater.eof:
                data = inflater.unused_data + data
                if not data.strip(b"\x00"):  # some tools pad the last member with zeros
                    data = b""
                inflater = zlib.decompressobj(_GZIP)
                started = False
    if started:
        raise MalformedBody("The gzip data ends before its end: the upload is truncated.")


def decoded(chunks: AsyncIterator[bytes], gzip: bool) -> AsyncIterator[bytes]:
    return gunzipped(chunks) if gzip else chunks


BOM = b"\xef\xbb\xbf"
TOO_LONG = None  # a record that exceeded the size limit: its bytes were dropped


class RecordSplitter:
    """Cut a byte stream into records, each with the number of the line it starts on.

    NDJSON has one record per line. A CSV record may span lines when a quoted field holds a
    line break, which shows as an odd number of quotes so far. Blank lines are skipped. A
    record longer than max_bytes is given as TOO_LONG and its bytes are dropped as they come.
    """

    def __init__(self, max_bytes: int, quoted_newlines: bool):
        self.max_bytes = max_bytes
        self.quoted_newlines = quoted_newlines
        self.line = 0  # number of the last complete line
        self._partial = b""  # the unfinished last line
        self._skipping = False  # dropping the rest of an overlong line
        self._record: list[bytes] = []  # complete lines of an unfinished CSV record
        self._record_size = 0
        self._record_start = 0
        self._quotes = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes | None]]:
        out: list[tuple[int, bytes | None]] = []
        pieces = data.split(b"\n")
        if self._partial:
            pieces[0] = self._partial + pieces[0]
            self._partial = b""
        for piece in pieces[:-1]:
            self.line += 1
            if self._skipping:
                self._skipping = False
                self._overlong(out)
            else:
                self._take(piece, out)
        tail = pieces[-1]
        if not self._skipping:
            if len(tail) + self._record_size > self.max_bytes:
                self._skipping = True  # the tail is dropped, and so is the rest of its line
            else:
                self._partial = tail
        return out

    def end(self) -> list[tuple[int, bytes | None]]:
        out: list[tuple[int, bytes | None]] = []
        if self._skipping:
            self.line += 1
            self._overlong(out)
        elif self._partial:
            self.line += 1
            self._take(self._partial, out)
        self._partial, self._skipping = b"", False
        if self._record:  # an unterminated quoted field: handed on as it is, for the parser to refuse
            out.append((self._record_start, b"\n".join(self._record)))
            self._record, self._record_size = [], 0
        return out

    def _take(self, line: bytes, out: list[tuple[int, bytes | None]]) -> None:
        if self.line == 1 and line.startswith(BOM):  # spreadsheets start UTF-8 files with one
            line = line[len(BOM):]
        if not self.quoted_newlines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if len(line) > self.max_bytes:
                out.append((self.line, TOO_LONG))
            elif line.strip():
                out.append((self.line, line))
            return
        if not self._record:
            if not line.strip():
                return
            self._record_start, self._quotes = self.line, 0
        self._record.append(line)
        self._record_size += len(line) + 1
        self._quotes += line.count(b'"')
        if self._record_size > self.max_bytes:
            self._overlong(out)
        elif self._quotes % 2 == 0:
            # The record ends here, so a CR before the LF ends the line (CRLF); a CR inside a
            # quoted field, at the end of an earlier line of the record, is data.
            if line.endswith(b"\r"):
                self._record[-1] = line[:-1]
            out.append((self._record_start, b"\n".join(self._record)))
            self._record, self._record_size = [], 0

    def _overlong(self, out: list[tuple[int, bytes | None]]) -> None:
        """Report an overlong record once, on the line it starts, and start afresh."""
        out.append((self._record_start if self._record else self.line, TOO_LONG))
        self._record, self._record_size = [], 0
