"""Fetching a calendar feed from a URL someone registered, safely.

Every request passes the outbound address guard (kit/outbound.py: public addresses only,
the connection pinned to the checked address). Redirects are followed by hand and each
location is checked again. The whole fetch has a time limit and the body a size limit.
"""

import asyncio
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from service.calendar.parse import FeedRejected
from service.kit import outbound

MAX_REDIRECTS = 5
USER_AGENT = "partnership-opportunity-api calendar sync"


@dataclass(frozen=True)
class FetchPolicy:
    timeout_seconds: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    allowed_networks: outbound.Networks = ()


@dataclass
class Fetched:
    content: bytes | None  # None: not modified since the last sync
    etag: str | None
    last_modified: str | None


async def check_url(url: str, policy: FetchPolicy) -> None:
    """Refuse (FeedRejected) a URL that could not be fetched: its scheme, host or addresses."""
    try:
        await outbound.checked(url, policy.allowed_networks)
    except outbound.Refused as exc:
        raise FeedRejected(str(exc)) from None


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FeedRejected(f"the feed is larger than {max_bytes} bytes")
    chunks, size = [], 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > max_bytes:
            raise FeedRejected(f"the feed is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch(url: str, policy: FetchPolicy, etag: str | None = None, last_modified: str | None = None) -> Fetched:
    """GET the feed, conditionally when an ETag or Last-Modified is known."""
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, application/json;q=0.9, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(policy.timeout_seconds):
            async with httpx.AsyncClient(follow_redirects=False, timeout=policy.timeout_seconds) as client:
                for _ in range(MAX_REDIRECTS + 1):
                    response = await outbound.send(client, "GET", url, policy.allowed_networks, headers=headers)
                    try:
                        if response.status_code == 304:
                            return Fetched(None, etag, last_modified)
                        if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                            url = urljoin(url, response.headers["location"])
                            continue
                        if response.status_code != 200:
                            raise FeedRejected(f"the feed answered HTTP {response.status_code}")
                        content = await _read_limited(response, policy.max_bytes)
                        return Fetched(content, response.headers.get("etag"), response.headers.get("last-modified"))
                    finally:
                        await response.aclose()
                raise FeedRejected(f"more than {MAX_REDIRECTS} redirects")
    except outbound.Refused as exc:
        raise FeedRejected(str(exc)) from None
    except TimeoutError:
        raise FeedRejected(f"the feed did not arrive within {policy.timeout_seconds:g} s") from None
    except httpx.HTTPError as exc:
        raise FeedRejected(f"cannot fetch the feed: {exc.__class__.__name__}: {exc}") from None
