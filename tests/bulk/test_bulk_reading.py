"""Cutting a byte stream into records, whatever the chunk boundaries; the CSV cell codec."""

import gzip
import io
import itertools

import pytest

from service.bulk.csvcodec import decode_cell, encode_cell, listing, objects, value
from service.bulk.reading import RATIO_ALLOWANCE, TOO_LONG, MalformedBody, RecordSplitter, gunzipped
from service.errors import PayloadTooLarge


def _split(data: bytes, chunk: int, quoted_newlines: bool, max_bytes: int = 1000) -> list:
    splitter = RecordSplitter(max_bytes, quoted_newlines)
    out = []
    for i in range(0, len(data), chunk):
        out += splitter.feed(data[i : i + chunk])
    return out + splitter.end()


NDJSON = b'\xef\xbb\xbf{"a": 1}\r\n\n{"b": "x\\ny"}\n   \n{"c": 3}'
CSV = b'h1,h2\r\n1,"two\r\nlines"\r\n\r\n2,"say ""hi"""\r\n3,last'


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_records_do_not_depend_on_chunk_boundaries(chunk):
    assert _split(NDJSON, chunk, False) == [(1, b'{"a": 1}'), (3, b'{"b": "x\\ny"}'), (5, b'{"c": 3}')]
    assert _split(CSV, chunk, True) == [
        (1, b"h1,h2"), (2, b'1,"two\r\nlines"'), (5, b'2,"say ""hi"""'), (6, b"3,last")]


@pytest.mark.parametrize("chunk", [1, 5, 64])
def test_overlong_records_are_dropped_as_they_come(chunk):
    data = b"short\n" + b"x" * 100 + b"\nafter\n" + b'"open' + b"y" * 100 + b'"\nend'
    assert _split(data, chunk, False, max_bytes=20) == [(1, b"short"), (2, TOO_LONG), (3, b"after"), (4, TOO_LONG), (5, b"end")]
    assert _split(data, chunk, True, max_bytes=20) == [(1, b"short"), (2, TOO_LONG), (3, b"after"), (4, TOO_LONG), (5, b"end")]


async def _gunzip(data: bytes, chunk: int, **bounds) -> bytes:
    async def chunks():
        for i in range(0, len(data), chunk):
            yield data[i : i + chunk]

    return b"".join([piece async for piece in gunzipped(chunks(), **bounds)])


def bomb(inflated_mib: int) -> bytes:
    """gzip of that many MiB of empty lines: about a thousandth of it."""
    out = io.BytesIO()
    packer = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9)
    for _ in range(inflated_mib):
        packer.write(b"\n" * 2**20)
    packer.close()
    return out.getvalue()


@pytest.mark.parametrize("chunk", [1024, 1 << 20])
async def test_a_gzip_bomb_is_refused_after_about_a_megabyte_of_output(chunk):
    data = bomb(200)
    produced = 0

    async def chunks():
        for i in range(0, len(data), chunk):
            yield data[i : i + chunk]

    with pytest.raises(PayloadTooLarge, match="100 times"):
        async for piece in gunzipped(chunks()):
            produced += len(piece)
    # Refused as soon as the output passed the allowance, even when the whole bomb came in one chunk.
    assert produced <= RATIO_ALLOWANCE + 256 * 1024


async def test_inflated_size_and_ratio_bounds():
    ordinary = b"".join(b'{"slug": "cluster-%d", "name": "Cluster %d"}\n' % (i, i) for i in range(100_000))
    assert await _gunzip(gzip.compress(ordinary), 65536) == ordinary  # about 15 times: well inside
    with pytest.raises(PayloadTooLarge, match="more than 1000000 bytes"):
        await _gunzip(gzip.compress(ordinary), 65536, max_bytes=1_000_000)
    with pytest.raises(PayloadTooLarge, match="5 times"):
        await _gunzip(gzip.compress(ordinary), 65536, max_ratio=5)


async def test_gzip_members_and_errors():
    big = b"".join(b"%d\n" % i for i in range(200_000))
    assert await _gunzip(gzip.compress(big), 4096) == big
    assert await _gunzip(gzip.compress(b"a\n") + gzip.compress(b"b\n"), 3) == b"a\nb\n"
    with pytest.raises(MalformedBody):
        await _gunzip(b"not gzip at all", 4)
    with pytest.raises(MalformedBody):
        await _gunzip(gzip.compress(big)[:-100], 4096)


@pytest.mark.parametrize("values", [["a;b", "c\\d", "e:f"], ["", "x"], ["plain"]])
def test_list_cells_round_trip(values):
    column = listing("activities")
    assert decode_cell(column, encode_cell(column, values)) == values


def test_object_cells():
    column = objects("support_organisations", "name", "kind", "url")
    items = [{"name": "A: b; c", "kind": "other", "url": "https://x.org/a:b"}, {"name": "Solo", "kind": None, "url": None}]
    cell = encode_cell(column, items)
    assert cell == "A\\: b\\; c:other:https://x.org/a:b;Solo"
    assert decode_cell(column, cell) == [items[0], {"name": "Solo"}]
    pairs = objects("target_markets", "country", "priority")
    assert decode_cell(pairs, "US:1;CA") == [{"country": "US", "priority": "1"}, {"country": "CA"}]
    for n in itertools.count():  # every escape survives
        if n > 3:
            break
        text = "\\" * n + ":;"
        assert decode_cell(column, encode_cell(column, [{"name": text}])) == [{"name": text}]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\\", "\\=", "\\\\"])
@pytest.mark.parametrize("column", [value("name"), listing("activities"), objects("members", "cluster", "role")],
                         ids=["value", "list", "objects"])
def test_cells_a_spreadsheet_would_run_are_escaped_and_read_back_exactly(column, start):
    text = start + "cmd|' /C calc'!A0"
    data = {"value": text, "list": [text, "=second"], "objects": [{"cluster": text, "role": "partner"}]}[column.kind]
    cell = encode_cell(column, data)
    assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert decode_cell(column, cell) == data
