"""Requests to URLs that clients registered (calendar feeds, webhooks), kept off internal networks.

Only http and https; the host's addresses are resolved and every one must be public (no
private, loopback, link-local, multicast or reserved address, unless a setting allows that
network), and the connection goes to the address that was checked, so a DNS answer that
changes between check and connect cannot lead the request inward. Redirects are never
followed here: a caller that follows them checks each location again.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Networks = tuple[Network, ...]

# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits; the local-use prefix
# (RFC 8215) may carry it elsewhere and is never public.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


class Refused(Exception):
    """The URL cannot be reached safely: its scheme, its host, or an address it resolves to."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    address: str  # the checked address the connection goes to


def networks(cidrs: list[str]) -> Networks:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


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


def allowed(address: Address, allowed_networks: Networks) -> bool:
    """One rule: where the address leads must be a global address, or in an allowed network."""
    target = destination(address)
    if any(target in network or address in network for network in allowed_networks):
        return True
    # Older Pythons count deprecated site-local (fec0::/10) and local-use NAT64 as global.
    never_public = target.version == 6 and (target.is_site_local or target in LOCAL_NAT64)
    return target.is_global and not target.is_multicast and not never_public


async def checked(url: str, allowed_networks: Networks) -> Target:
    """Where to connect for url, once every address of its host passed the rule (else Refused)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"only http and https URLs can be fetched, not {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused(f"the port of {url!r} is not a port number") from None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except UnicodeError:  # a ValueError, raised before any lookup: no valid IDNA name
        raise Refused(f"{parts.hostname!r} is not a valid host name") from None
    except OSError as exc:
        raise Refused(f"cannot resolve {parts.hostname}: {exc.strerror or exc}") from None
    addresses = {ipaddress.ip_address(info[4][0]) for info in infos}
    refused = sorted(str(a) for a in addresses if not allowed(a, allowed_networks))
    if refused or not addresses:
        raise Refused(f"{parts.hostname} resolves to a non-public address ({', '.join(refused)}); refused")
    return Target(parts.hostname, port, str(sorted(addresses, key=str)[0]))


def pinned(url: str, address: str) -> str:
    """The URL with its host replaced by the checked address."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


async def send(
    client: httpx.AsyncClient, method: str, url: str, allowed_networks: Networks, *,
    headers: dict[str, str], content: bytes | None = None,
) -> httpx.Response:
    """Send a request to url's checked address, streaming (the caller reads and closes it).
    The Host header and TLS name stay the URL's own, so virtual hosts and certificates work."""
    target = await checked(url, allowed_networks)
    request = client.build_request(
        method, pinned(url, target.address), headers=headers | {"Host": urlsplit(url).netloc}, content=content,
        extensions={"sni_hostname": target.host},
    )
    return await client.send(request, stream=True, follow_redirects=False)
