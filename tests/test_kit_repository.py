"""The shared repository layer: keyset pages that serve every row once, fetches that lock
when asked, and the one 404 every domain answers for a reference that names nothing.

Run against the sector vocabulary, which the migrations seed."""

from types import SimpleNamespace

import pytest
from sqlalchemy import literal, select, text
from sqlalchemy.exc import DBAPIError

from service.errors import NotFound
from service.kit import repository as kit
from service.kit.pagination import SortField, parse_sort, signing_key
from service.models import Sector

SORTS = {"name": SortField(Sector.name, str), "code": SortField(Sector.code, str)}


@pytest.fixture(autouse=True)
def cursor_key():
    token = signing_key.set(b"k" * 32)
    yield
    signing_key.reset(token)


async def _walk(session, stmt, sort_token: str, **options) -> list:
    """Every row the pages serve, following next_cursor to the end."""
    sort, seen, cursor = parse_sort(sort_token, SORTS, "code"), [], None
    for _ in range(1000):
        rows, cursor = await kit.page(session, stmt, sort, Sector.code, SimpleNamespace(cursor=cursor, limit=7), **options)
        assert len(rows) <= 7
        seen += rows
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("sort", ["code", "-name"])
async def test_pages_serve_every_row_once_in_order(session, sort):
    everything = list(await session.scalars(select(Sector)))
    assert len(everything) > 14  # several pages
    seen = await _walk(session, select(Sector), sort, id_type=str)
    descending, name = sort.startswith("-"), sort.lstrip("-")
    expected = sorted(everything, key=lambda s: (getattr(s, name), s.code), reverse=descending)
    assert [s.code for s in seen] == [s.code for s in expected]


async def test_pages_of_whole_rows_read_the_sort_and_id_from_what_keyed_by_picks(session):
    # An entity beside a derived column (as agreements and missions select their status).
    stmt = select(Sector, literal("derived").label("status"))
    seen = await _walk(session, stmt, "name", id_type=str, keyed_by=lambda row: row.Sector)
    assert {row.status for row in seen} == {"derived"}
    assert [row.Sector.code for row in seen] == [s.code for s in await session.scalars(select(Sector).order_by(Sector.name, Sector.code))]


async def test_one_is_none_when_nothing_matches(session):
    assert await kit.one(session, select(Sector).where(Sector.code == "no-such-code")) is None
    row = await kit.one(session, select(Sector, literal(1).label("n")).where(Sector.code == "no-such-code"), whole_rows=True)
    assert row is None


async def test_one_for_update_locks_the_row_against_other_writers(session, engine):
    code = await session.scalar(select(Sector.code).limit(1))
    locked = await kit.one(session, select(Sector).where(Sector.code == code), for_update=True)
    assert locked.code == code
    async with engine.connect() as other:
        with pytest.raises(DBAPIError) as refused:
            await other.execute(text("SELECT 1 FROM sectors WHERE code = :code FOR UPDATE NOWAIT"), {"code": code})
        assert getattr(refused.value.orig, "sqlstate", None) == "55P03"  # lock_not_available


async def test_one_without_for_update_leaves_the_row_free(session, engine):
    code = await session.scalar(select(Sector.code).limit(1))
    await kit.one(session, select(Sector).where(Sector.code == code))
    async with engine.connect() as other:
        result = await other.execute(text("SELECT 1 FROM sectors WHERE code = :code FOR UPDATE NOWAIT"), {"code": code})
        assert result.scalar() == 1
        await other.rollback()


def test_not_found_names_the_kind_and_the_reference_as_given():
    problem = kit.not_found("API key", "pk_Ab'1")
    assert isinstance(problem, NotFound)
    assert problem.detail == "There is no API key 'pk_Ab'1'."


def test_a_reference_that_is_no_uuid_is_a_404_for_what_is_known_by_id_only():
    with pytest.raises(NotFound) as raised:
        kit.id_or_404("summer-fair", "mission")
    assert raised.value.detail == "There is no mission 'summer-fair'."
    assert str(kit.id_or_404("0b5f4c9e-8f0c-4a52-9a53-4cf0a1c7e111", "mission")) == "0b5f4c9e-8f0c-4a52-9a53-4cf0a1c7e111"


async def test_or_404_passes_a_found_row_through_and_refuses_none(session):
    row = await kit.or_404(kit.one(session, select(Sector).limit(1)), "sector", "x")
    assert isinstance(row, Sector)
    with pytest.raises(NotFound) as raised:
        await kit.or_404(kit.one(session, select(Sector).where(Sector.code == "nope")), "sector", "nope")
    assert raised.value.detail == "There is no sector 'nope'."
