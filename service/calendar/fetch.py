"""Fetching a calendar feed from a URL someone registered, safely.

Only http and https; the host's addresses are resolved and every one must be public (no
private, loopback, link-local, multicast or reserved address, unless a setting allows that
network), and the connection goes to the address that was checked, so a DNS answer that
changes between check and connect cannot redirect us inward. Redirects are followed by hand
and checked again. The whole fetch has a time limit and the body a size limit.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from service.calendar.parse import FeedRejected

MAX_REDIRECTS = 5
USER_AGENT = "partnership-opportunity-api calendar sync"


@dataclass(frozen=True)
class FetchPolicy:
    timeout_seconds: float = 10.0
    max_bytes: int = 5 * 1024 * 1024
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


@dataclass
class Fetched:
    content: bytes | None  # None: not modified since the last sync
    etag: str | None
    last_modified: str | None


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, policy: FetchPolicy) -> bool:
    if any(address in network for network in policy.allowed_networks):
        return True
    return address.is_global and not address.is_multicast


async def _checked_address(url: str, policy: FetchPolicy) -> tuple[str, int, str]:
    """(host, port, address to connect to) once every address of the host passed the policy."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedRejected(f"only http and https URLs can be fetched, not {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FeedRejected(f"the port of {url!r} is not a port number") from None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except UnicodeError:  # a ValueError, raised before any lookup: no valid IDNA name
        raise FeedRejected(f"{parts.hostname!r} is not a valid host name") from None
    except OSError as exc:
        raise FeedRejected(f"cannot resolve {parts.hostname}: {exc.strerror or exc}") from None
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    refused = sorted(str(a) for a in addresses if not _allowed(a, policy))
    if refused or not addresses:
        raise FeedRejected(f"{parts.hostname} resolves to a non-public address ({', '.join(refused)}); refused")
    return parts.hostname, port, str(sorted(addresses, key=str)[0])


def _pinned(url: str, address: str) -> str:
    """The URL with its host replaced by the checked address."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


async def _get(client: httpx.AsyncClient, url: str, headers: dict[str, str], policy: FetchPolicy):
    host, _, address = await _checked_address(url, policy)
    request = client.build_request(
        "GET", _pinned(url, address), headers=headers | {"Host": urlsplit(url).netloc},
        extensions={"sni_hostname": host},
    )
    response = await client.send(request, stream=True)
    return response


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
                    response = await _get(client, url, headers, policy)
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
    except TimeoutError:
        raise FeedRejected(f"the feed did not arrive within {policy.timeout_seconds:g} s") from None
    except httpx.HTTPError as exc:
        raise FeedRejected(f"cannot fetch the feed: {exc.__class__.__name__}: {exc}") from None
