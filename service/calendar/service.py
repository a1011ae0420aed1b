"""Calendar feeds out, calendar sources in. Never commits: the request boundary does."""

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.access.principal import SYSTEM_WRITE, Write
from service.calendar import ics, repository, sync
from service.calendar.fetch import FetchPolicy, check_url, fetch
from service.calendar.isolation import reader
from service.calendar.parse import Defaults, FeedEvent, FeedRejected, Rejection
from service.calendar.schemas import (
    CalendarSource,
    CalendarSourceCreate,
    CalendarSourcePatch,
    CalendarSourceQuery,
    MissionFeedQuery,
    SyncReport,
)
from service.config import CalendarSettings
from service.errors import Forbidden, InvalidInput
from service.kit import outbound
from service.kit.clock import Clock
from service.kit.lookup import flush, resolve
from service.kit.pagination import Page, parse_sort, sortable
from service.kit.patching import merge
from service.kit.repository import id_or_404, or_404
from service.missions import repository as missions_repository
from service.missions import service as missions
from service.models import CalendarSource as SourceRow
from service.models import Cluster
from service.sectors.service import ensure_known
from service.tasks import repository as queue

FEED_CAP = 5000
SOURCE = "calendar source"
if TYPE_CHECKING:
    CalendarSourceListQuery = CalendarSourceQuery
else:
    CalendarSourceListQuery = sortable(CalendarSourceQuery, repository.SORTS, repository.DEFAULT_SORT)


# Feeds out --------------------------------------------------------------------------------


async def missions_calendar(session: AsyncSession, query: MissionFeedQuery, today: date) -> bytes:
    rows = await missions_repository.all_matching(session, query, today, FEED_CAP)
    selected = [missions.to_schema(r.Mission, r.status) for r in rows]
    return ics.calendar(
        selected, await repository.sector_names(session), name="Missions", include_deadlines="deadlines" in query.include
    )


async def mission_calendar(session: AsyncSession, ref: str, today: date, include_deadlines: bool) -> bytes:
    mission = await missions.get(session, ref, today)
    return ics.calendar([mission], await repository.sector_names(session), name=mission.title, include_deadlines=include_deadlines)


# Sources -----------------------------------------------------------------------------------


async def _get_row(session: AsyncSession, ref: str, *, for_update: bool = False) -> SourceRow:
    return await or_404(repository.get(session, id_or_404(ref, SOURCE), for_update=for_update), SOURCE, ref)


async def get(session: AsyncSession, ref: str) -> CalendarSource:
    return CalendarSource.model_validate(await _get_row(session, ref))


async def list_page(session: AsyncSession, query: CalendarSourceQuery) -> Page[CalendarSource]:
    sort = parse_sort(query.sort, repository.SORTS, default=repository.DEFAULT_SORT)
    rows, cursor = await repository.page(session, query, sort)
    return Page[CalendarSource](items=[CalendarSource.model_validate(r) for r in rows], next_cursor=cursor)


def _duplicate(data: CalendarSourceCreate) -> str:
    return f"A calendar source with URL {data.url} is already registered."


async def _check_url(url: str, settings: CalendarSettings) -> None:
    """Refuse at once a URL no sync could fetch (scheme, host, an address not public), rather
    than registering it; each fetch checks again, as DNS answers change."""
    try:
        await check_url(url, fetch_policy(settings))
    except FeedRejected as exc:
        raise InvalidInput.field("body.url", str(exc)) from None


def _owners(row: SourceRow) -> list[uuid.UUID]:
    """Who owns a source: its cluster, if it has one."""
    return [row.cluster.id] if row.cluster else []


def _not_yours(ref: str) -> Forbidden:
    # 403, not the 404 other records answer strangers: a source and its cluster are listed
    # publicly, so pretending it does not exist would hide nothing.
    return Forbidden(f"Calendar source '{ref}' belongs to another cluster (or to none): only its cluster's keys "
                     "and unbound keys may change, sync, delete or import through it.")


def _own_cluster(write: Write) -> str | None:
    """The cluster a source registered without one belongs to: the bound key's own."""
    return str(write.principal.cluster_id) if write.principal.bound else None


async def _set_cluster(session: AsyncSession, row: SourceRow, ref: str | None) -> None:
    cluster = None
    if ref is not None:
        cluster = (await resolve(session, Cluster, [ref])).get(ref)
        if cluster is None:
            raise InvalidInput.field("body.cluster", f"there is no cluster '{ref}'")
    row.cluster, row.cluster_id = cluster, cluster.id if cluster else None


def _as_input(current: CalendarSource) -> dict[str, Any]:
    """The current state in the shape a create accepts (for merging a PATCH)."""
    data = current.model_dump(include=set(CalendarSourceCreate.model_fields) - {"cluster"})
    return data | {"cluster": current.cluster.slug if current.cluster else None}


async def create(session: AsyncSession, data: CalendarSourceCreate, settings: CalendarSettings, write: Write) -> CalendarSource:
    row = SourceRow(**data.model_dump(exclude={"cluster"}))
    await _set_cluster(session, row, data.cluster or _own_cluster(write))
    write.principal.may_create("calendar sources (as their cluster)", _owners(row))
    await _check_url(data.url, settings)
    await ensure_known(session, data.default_sectors, "body.default_sectors")
    session.add(row)
    await flush(session, duplicate=_duplicate(data))
    return CalendarSource.model_validate(row)


async def update(
    session: AsyncSession, ref: str, patch: CalendarSourcePatch, settings: CalendarSettings, write: Write
) -> CalendarSource:
    url = patch.model_dump(exclude_unset=True).get("url")
    if url is not None:  # checked before a connection is taken: resolving may take seconds
        await _check_url(url, settings)
    row = await _get_row(session, ref, for_update=True)
    current = CalendarSource.model_validate(row)
    write.check(current, _owners(row), _not_yours(ref))
    data = merge(CalendarSourceCreate, _as_input(current), patch)
    await ensure_known(session, data.default_sectors, "body.default_sectors")
    if data.url != row.url:  # another feed: forget what the old one answered
        row.etag = row.last_modified = None
    for field, value in data.model_dump(exclude={"cluster"}).items():
        setattr(row, field, value)
    await _set_cluster(session, row, data.cluster)
    write.principal.keeps(_owners(row), "the calendar source")
    await flush(session, duplicate=_duplicate(data))
    return CalendarSource.model_validate(row)


async def delete(session: AsyncSession, ref: str, write: Write) -> None:
    row = await _get_row(session, ref, for_update=True)
    write.check(CalendarSource.model_validate(row), _owners(row), _not_yours(ref))
    await session.delete(row)
    await flush(session, referenced="Missions were taken from this source; they stay, so the source stays too.")


# Sync ---------------------------------------------------------------------------------------


def fetch_policy(settings: CalendarSettings) -> FetchPolicy:
    return FetchPolicy(
        timeout_seconds=settings.fetch_timeout_seconds,
        max_bytes=settings.max_feed_bytes,
        allowed_networks=outbound.networks(settings.allow_networks),
    )


def _defaults(row: SourceRow) -> Defaults:
    cluster = str(row.cluster_id) if row.cluster_id else None
    return Defaults(row.organiser, row.default_kind, list(row.default_sectors), row.default_country, cluster)


async def _read(
    content: bytes, fmt: str, defaults: Defaults, settings: CalendarSettings
) -> list[FeedEvent | Rejection]:
    """The feed's events, read in a worker process (never on the event loop)."""
    return await reader(settings.parse_timeout_seconds, settings.parse_memory_bytes).read(content, fmt, defaults)


async def _end_read(session: AsyncSession) -> None:
    # Ends the short read of the source row, so that its connection goes back to the pool
    # while the remote server answers and the feed is read (seconds, for a slow or large
    # feed): a sync must not hold a connection other requests are waiting for.
    await session.rollback()


async def sync_source(
    session: AsyncSession, ref: str, settings: CalendarSettings, clock: Clock, write: Write = SYSTEM_WRITE
) -> SyncReport:
    """Fetch a source's feed and apply it; a feed that cannot be used changes nothing (422)."""
    row = await _get_row(session, ref)
    write.check(CalendarSource.model_validate(row), _owners(row), _not_yours(ref))
    url, fmt, defaults, etag, last_modified = row.url, row.format, _defaults(row), row.etag, row.last_modified
    await _end_read(session)
    try:
        fetched = await fetch(url, fetch_policy(settings), etag, last_modified)
        results = await _read(fetched.content, fmt, defaults, settings) if fetched.content is not None else []
    except FeedRejected as exc:
        raise InvalidInput(f"The feed was rejected: {exc}") from None
    row = await _get_row(session, ref, for_update=True)  # one sync of a source at a time
    report = SyncReport(source_id=row.id, not_modified=fetched.content is None, synced_at=clock.now())
    if fetched.content is not None:
        await sync.apply(session, row.id, results, clock.today(), report, cancel_missing=True)
    row.etag, row.last_modified = fetched.etag, fetched.last_modified
    row.last_synced_at, row.last_report = report.synced_at, report.model_dump(mode="json")
    await flush(session)
    return report


async def sync_committed(
    sessionmaker: async_sessionmaker[AsyncSession], ref: str, settings: CalendarSettings, clock: Clock
) -> SyncReport:
    """Sync a source in a transaction of its own, committed once applied; a refused feed
    raises and leaves nothing behind."""
    async with sessionmaker() as session:
        report = await sync_source(session, ref, settings, clock)
        await session.commit()
    return report


def sync_lock(source_id: uuid.UUID) -> str:
    """One sync of a source running, and one waiting, at a time."""
    return f"calendar:{source_id}"


async def queue_due_syncs(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Queue a `calendar:sync` for every source due at now (its interval since its last sync
    has passed), in the session's transaction; a source whose sync is already waiting gets no
    second one. Returns the sources queued."""
    queued = []
    for source_id in await repository.due(session, now):
        lock = sync_lock(source_id)
        if await queue.defer(session, "calendar:sync", {"source_id": str(source_id)}, queue="calendar", lock=lock, queueing_lock=lock):
            queued.append(source_id)
    return queued


async def import_feed(
    session: AsyncSession, content: bytes, fmt: str, source_ref: str | None, settings: CalendarSettings, clock: Clock,
    write: Write,
) -> SyncReport:
    """Apply an uploaded feed: as the given source's (a full feed: missing events are
    cancelled), or, without a source, as uploads keyed by UID (nothing is cancelled) that
    the caller's cluster organises, if its key is bound to one."""
    defaults = Defaults(cluster=_own_cluster(write))
    if source_ref:
        source = await _get_row(session, source_ref)
        if not write.principal.owns(_owners(source)):
            raise _not_yours(source_ref)
        defaults = _defaults(source)
        await _end_read(session)
    try:
        results = await _read(content, fmt, defaults, settings)
    except FeedRejected as exc:
        raise InvalidInput(f"The calendar was rejected: {exc}") from None
    row = await _get_row(session, source_ref, for_update=True) if source_ref else None
    report = SyncReport(source_id=row.id if row else None, synced_at=clock.now())
    await sync.apply(
        session, row.id if row else None, results, clock.today(), report, cancel_missing=row is not None,
        principal=write.principal,
    )
    return report
