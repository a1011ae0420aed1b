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


# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits; the local-use prefix
# (RFC 8215) may carry it elsewhere and is never public.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def destination(address: Address) -> Address:
    """The IPv4 address an IPv6 address leads to (mapped, IPv4-compatible, NAT64, 6to4 or
    Teredo), or the address itself: `::ffff:127.0.0.1` and `2002:7f00:1::` reach 127.0.0.1."""
    if address.version == 4:
        return address
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]  # the client, where the traffic ends up
    if address in NAT64 or int(address) >> 32 == 0:  # NAT64, or IPv4-compatible (::/96)
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address


def allowed(address: Address, policy: FetchPolicy) -> bool:
    """One rule: where the address leads must be a global address, or in an allowed network."""
    target = destination(address)
    if any(target in network or address in network for network in policy.allowed_networks):
        return True
    # Older Pythons count deprecated site-local (fec0::/10) and local-use NAT64 as global.
    never_public = target.version == 6 and (target.is_site_local or target in LOCAL_NAT64)
    return target.is_global and not target.is_multicast and not never_public


async def check_url(url: str, policy: FetchPolicy) -> None:
    """Refuse (FeedRejected) a URL that could not be fetched: its scheme, host or addresses."""
    await _checked_address(url, policy)


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
    refused = sorted(str(a) for a in addresses if not allowed(a, policy))
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
