"""Gradio stores a file before any event handler runs: its upload route writes what it is sent into its temp
folder, and an event's input that names a file by URL is downloaded there. This middleware admits an upload only as
the library's UploadGate says (rag/admission.py), before the body is read, and refuses any event input that names a
file by URL (the page never sends one: its files are uploaded first)."""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import PlainTextResponse

from ..admission import PASS_COOKIE, UploadGate

EVENT_ROUTES = ("/queue/join", "/run/", "/call/", "/api/")
MAX_EVENT_BYTES = 1024 * 1024


class UploadGuard:
    """ASGI middleware in front of the page's routes (and the API's, which check for themselves)."""

    def __init__(self, app, gate: UploadGate):
        self.app = app
        self.gate = gate

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/")
        if path.endswith("/upload"):
            headers = Headers(scope=scope)
            token = cookie_parser(headers.get("cookie", "")).get(PASS_COOKIE)
            client = (scope.get("client") or ("unknown", 0))[0]
            refusal = self.gate.refusal(client, self.gate.has_pass(token), headers.get("content-length"))
            if refusal:
                return await PlainTextResponse(refusal.message, refusal.status)(scope, receive, send)
        elif "/gradio_api/" in path and any(route in path for route in EVENT_ROUTES):
            body = await _read(receive, MAX_EVENT_BYTES)
            if body is None:
                return await PlainTextResponse("The request is too large.", 413)(scope, receive, send)
            if _names_a_url(body):
                message = "Files must be uploaded, not fetched from a URL."
                return await PlainTextResponse(message, 400)(scope, receive, send)
            receive = _replaying(body, receive)
        await self.app(scope, receive, send)


async def _read(receive, limit: int) -> bytes | None:
    """The request's body, or None past `limit` bytes."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _replaying(body: bytes, receive):
    """A `receive` that gives the body already read, then whatever the connection sends next (its end)."""
    given = False

    async def replay():
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _names_a_url(body: bytes) -> bool:
    """Whether a JSON body holds a file (a dict with a "path") whose path is a URL, which Gradio would download."""
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return False
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if str(item.get("path", "")).lower().startswith(("http://", "https://")):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
