"""The JSON API: routes, their login and their errors, over a backend that does the work (in this process, or
on Ray Serve: rag/serving.py). Errors are JSON {"error": "…"} with the words the command line prints."""

from __future__ import annotations

import asyncio
import inspect
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..access import FAILED_LOGIN_DELAY, Access
from ..admission import Refusal, UploadGate
from ..errors import IndexCorruptError, IndexNotFoundError, RagError, ServiceUnavailableError
from ..library import MAX_UPLOAD_BYTES
from . import schema

log = logging.getLogger("verbatim.api")
MAX_FILES = 20
_basic = HTTPBasic(auto_error=False)
_ERRORS = {status: {"model": schema.Error} for status in (400, 503)}


async def call(method, *args):
    """A backend method's result: awaited when it is a coroutine function, else run in a worker thread."""
    if inspect.iscoroutinefunction(method):
        return await method(*args)
    return await run_in_threadpool(method, *args)


def create_api(backend, access: Access | None = None, gate: UploadGate | None = None) -> FastAPI:
    """The API app over `backend` (ask, retrieve, articles, article, health, add, remove); `access`: who may change
    the library (as the web chat's --auth and --read-only); `gate`: upload size and rate per client."""
    access = access or Access()
    gate = gate or UploadGate.configured(access, MAX_UPLOAD_BYTES)
    app = FastAPI(
        title="Verbatim",
        summary="Questions answered only with verbatim, cited quotes from a folder of news articles.",
        version="1",
    )
    _errors(app)
    _questions(app, backend)
    _articles(app, backend)
    _changes(app, backend, access, gate)
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def refused(_, exc: Refusal):
        headers = {"WWW-Authenticate": 'Basic realm="verbatim"'} if exc.status == 401 else None
        return JSONResponse({"error": exc.message}, exc.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_, exc: RequestValidationError):
        return JSONResponse({"error": "; ".join(_described(e) for e in exc.errors())}, 400)

    @app.exception_handler(RagError)
    async def rag_error(_, exc: RagError):
        unusable = (ServiceUnavailableError, IndexNotFoundError, IndexCorruptError)
        return JSONResponse({"error": str(exc)}, 503 if isinstance(exc, unusable) else 400)


def _described(error: dict) -> str:
    """A validation error in words: "k: Input should be less than or equal to 50"."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    return f"{where}: {error['msg']}" if where else error["msg"]


def _questions(app: FastAPI, backend) -> None:
    @app.post("/ask", response_model=schema.AskReply, responses=_ERRORS, tags=["questions"])
    async def ask(request: schema.Ask) -> dict:
        """Answer with a verbatim quote and its citations, or say that the articles do not answer ("abstained")."""
        filters = request.filters.model_dump(exclude_none=True) if request.filters else None
        return await call(
            backend.ask,
            request.question,
            request.k,
            request.retriever,
            request.history,
            filters,
            request.abstain,
            request.partial,
        )

    @app.post("/retrieve", response_model=schema.RetrieveReply, responses=_ERRORS, tags=["questions"])
    async def retrieve(request: schema.Retrieve) -> dict:
        """The k passages closest to the question, best first, without choosing an answer."""
        filters = request.filters.model_dump(exclude_none=True) if request.filters else None
        return await call(backend.retrieve, request.question, request.k, request.retriever, filters, request.partial)

    @app.get("/health", response_model=schema.Health, responses={503: {"model": schema.Error}}, tags=["service"])
    async def health() -> dict:
        """The index being answered from: its generation, articles, chunks and models (503 while unusable)."""
        return await call(backend.health)


def _articles(app: FastAPI, backend) -> None:
    @app.get("/articles", response_model=list[schema.ArticleInfo], tags=["articles"])
    async def articles() -> list[dict]:
        """Every article of the library, by id."""
        return await call(backend.articles)

    @app.get(
        "/articles/{doc_id:path}",
        response_model=schema.Article,
        responses={404: {"model": schema.Error}},
        tags=["articles"],
    )
    async def article(doc_id: str) -> dict:
        """An article's text (as quotes' offsets index it) and details."""
        try:
            return await call(backend.article, doc_id)
        except KeyError:
            raise Refusal(404, f"no article {doc_id!r} in the library") from None


def _changes(app: FastAPI, backend, access: Access, gate: UploadGate) -> None:
    async def allowed(request: Request) -> bool:
        """Whether the request's login may change the library (False: none given, or wrong)."""
        if access.mode == "open":
            return True
        if access.mode == "read-only":
            raise Refusal(403, access.refusal)
        credentials: HTTPBasicCredentials | None = await _basic(request)
        if not credentials:
            return False
        right = await run_in_threadpool(access.checks, credentials.username, credentials.password)
        if not right:
            await asyncio.sleep(FAILED_LOGIN_DELAY)  # guessing stays slow without holding a worker thread
        return right

    changes = {401: {"model": schema.Error}, 403: {"model": schema.Error}, 413: {"model": schema.Error}}

    @app.post(
        "/articles",
        response_model=schema.Added,
        responses=changes | {411: {"model": schema.Error}, 429: {"model": schema.Error}},
        tags=["articles"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                            "required": ["files"],
                        }
                    }
                },
            }
        },
    )
    async def add(request: Request) -> dict:
        """Add articles (multipart field "files"): each is checked, stored and indexed, or refused with its reason.
        Login (HTTP Basic) under --auth. Refused before anything is stored: without a login, over the size limit
        (413) or the rate limit (429)."""
        signed_in = await allowed(request)
        client = request.client.host if request.client else "unknown"
        if refusal := gate.refusal(client, signed_in, request.headers.get("content-length")):
            raise refusal
        form = await request.form(max_files=MAX_FILES)
        try:
            files = [(f.filename or "article", await f.read()) for f in form.getlist("files") if hasattr(f, "read")]
        finally:
            await form.close()
        if not files:
            raise Refusal(400, 'send the articles as multipart form data in a field named "files"')
        return await call(backend.add, files)

    @app.delete("/articles/{doc_id:path}", response_model=schema.Removed, responses=changes, tags=["articles"])
    async def remove(doc_id: str, request: Request) -> dict:
        """Remove an article (its file moves to the corpus's .removed/). Login (HTTP Basic) under --auth."""
        if not await allowed(request):
            raise Refusal(401, "Log in (HTTP Basic, a user of --auth) to remove articles.")
        try:
            return await call(backend.remove, doc_id)
        except KeyError:
            raise Refusal(404, f"no article {doc_id!r} in the library") from None
