"""API keys: pop_<prefix>_<secret>.

The prefix finds the stored key; the secret (256 random bits) is kept only as a SHA-256
digest, which is enough for secrets of that strength (a slow password hash protects guessable
secrets), and compared in constant time.
"""

import hashlib
import hmac
import re
import secrets

PREFIX = "pop"
KEY = re.compile(rf"^{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})$")


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def new_key() -> tuple[str, str, bytes]:
    """(the key to show once, its prefix, the digest to store)."""
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return f"{PREFIX}_{prefix}_{secret}", prefix, digest(secret)


def parse(key: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    match = KEY.match(key)
    return (match.group(1), match.group(2)) if match else None


def matches(secret: str, stored: bytes) -> bool:
    return hmac.compare_digest(digest(secret), stored)
