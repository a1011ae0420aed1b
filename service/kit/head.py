"""HEAD wherever GET is served (RFC 9110 §9.3.2), for every route at once.

FastAPI registers each route for the methods it names only, so HEAD would answer 405. A HEAD
request is instead passed on as the GET it mirrors, and only the body of the answer is
dropped: status and headers (Content-Length, ETag, Link, ...) stay those of the GET, and a
conditional HEAD (If-None-Match) gets the same 304. It costs what the GET costs (an export
is produced in full, then dropped), and is counted as a read.

It sits outside compression, so that Content-Length is that of the body a GET would get
with the same Accept-Encoding.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                # The answer ends when the GET's would: ending it earlier would have the
                # server report a disconnect, and a streamed GET (an export) would be
                # cancelled mid-query as if the client had gone away.
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            # Body chunks before the last are dropped as they come.

        # A copy: the middlewares outside (access log, metrics) still see a HEAD.
        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
