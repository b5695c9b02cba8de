"""Gradio's upload route stores a file in its temp folder before any event handler runs; this middleware admits
an upload there only as the library's UploadGate says (rag/admission.py), before the body is read."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import PlainTextResponse

from ..admission import PASS_COOKIE, UploadGate


class UploadGuard:
    """ASGI middleware in front of the page's routes (and the API's, which check for themselves)."""

    def __init__(self, app, gate: UploadGate):
        self.app = app
        self.gate = gate

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/upload"):
            headers = Headers(scope=scope)
            token = cookie_parser(headers.get("cookie", "")).get(PASS_COOKIE)
            client = (scope.get("client") or ("unknown", 0))[0]
            refusal = self.gate.refusal(client, self.gate.has_pass(token), headers.get("content-length"))
            if refusal:
                await PlainTextResponse(refusal.message, refusal.status)(scope, receive, send)
                return
        await self.app(scope, receive, send)
