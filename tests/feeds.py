"""A real HTTP server on 127.0.0.1 that serves calendar feeds the tests set up."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from service.config import CalendarSettings, Settings


def local_feed_settings(**calendar) -> Settings:
    """App settings for tests whose feeds come from a FeedServer: loopback is allowed, which
    the address guard otherwise refuses (and never fetched from for real hosts)."""
    return Settings(
        database_url="postgresql://unused/never-connected",
        calendar=CalendarSettings(allow_networks=["127.0.0.1/32"], **calendar),
    )


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunked: bool = False


class FeedServer:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path, Route(b"not found", 404))
                if route.delay:
                    time.sleep(route.delay)
                etag = route.headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(route.body), 8192):
                        piece = route.body[start:start + 8192]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    self.wfile.write(route.body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # clients that give up (size and time limits) break the pipe on purpose

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def big_calendar() -> bytes:
    """About 5 MB: 9,999 events, each with a long summary; no country anywhere, so every event
    is read (the expensive part) and then rejected (unless a source gives a default country)."""
    events = [
        "\r\n".join([
            "BEGIN:VEVENT", f"UID:big-{i}", "DTSTAMP:20300101T000000Z", "DTSTART;VALUE=DATE:20300101",
            "DTEND;VALUE=DATE:20300103", f"SUMMARY:Mission {i} " + "x" * 300, "LOCATION:Somewhere", "END:VEVENT",
        ])
        for i in range(9_999)
    ]
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Big//EN", *events, "END:VCALENDAR", ""]).encode()
