"""create_app(Settings) → the FastAPI app serving the KB read-only. Example:
    uvicorn --factory 'api.app:app_from_env'   (XINYI_DB=kb.sqlite)   or   xinyi serve --db kb.sqlite
Chat sessions are written to their own file (XINYI_SESSIONS, default kb.sessions.sqlite beside the KB), registry
events, notifications and feedback to theirs (XINYI_REGISTRY, default kb.registry.sqlite), and only with the
bearer token XINYI_TOKEN.

Security and limits (issue 11): reads are open unless XINYI_READ_TOKEN_REQUIRED=1 (then every /v1 request needs
the bearer token); chat turns are rate-limited per client address (XINYI_CHAT_RATE a minute, 0: off); CORS is
off unless XINYI_CORS_ORIGINS names origins; a lock held too long anywhere is 503 with Retry-After, never 500;
an unknown session id is 404; one log line per answer (logger "xinyi": endpoint, KB stamp, status, ms — never
what was asked).
"""
from __future__ import annotations

import logging
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from knowledge.check import ProfileError
from knowledge.db import KBError, is_busy
from knowledge.registry import RegistryError
from knowledge.sessions import SessionBusy, SessionConflict, SessionError, UnknownSession

from .deps import APIError, require_read_token, unknown_session
from .limits import AnswerLog, BodyLimits, ChatRate, NoSlot, TurnLocks, TurnSlots
from .schemas import ErrorBody
from .routes import (chat, check, clauses, conditions, documents, enterprises, measures, notifications, push_items,
                     session_facts, sessions, uploads, web)

LOCATIONS = {"body", "query", "path", "header", "cookie"}


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("kb.sqlite")
    sessions_path: Optional[Path] = None  # chat sessions; None: <kb stem>.sessions.sqlite beside the KB
    max_body_bytes: int = 1_000_000       # a request body above this is refused (413) before it is parsed
    max_json_depth: int = 32              # a profile never nests deeper; a body that does is refused (422)
    registry_path: Optional[Path] = None  # enterprise registry; None: <kb stem>.registry.sqlite beside the KB
    write_token: Optional[str] = field(default=None, repr=False)  # bearer token of write endpoints; None: no writes
    allow_uploads: bool = False           # POST /v1/documents ingests uploads into the KB (with the token)
    max_upload_bytes: int = 20_000_000    # an upload request body above this is refused (413)
    chat_rate_per_minute: int = 60        # chat turns a client address may send a minute (a bucket of as many); 0: off
    cors_origins: tuple[str, ...] = ()    # origins a browser may call from (CORS); empty: no CORS headers at all
    read_token_required: bool = False     # every /v1 request (reads, chat, check) needs the bearer token too
    chat_concurrency: int = 2             # chat turns computed at once per process, the rest wait in order; 0: no cap

    @classmethod
    def from_env(cls) -> "Settings":
        """XINYI_DB, XINYI_SESSIONS, XINYI_REGISTRY, XINYI_TOKEN, XINYI_CHAT_RATE, XINYI_CORS_ORIGINS (comma-
        separated), XINYI_READ_TOKEN_REQUIRED (1/true/yes), XINYI_CHAT_CONCURRENCY."""
        env = os.environ
        sessions, registry = env.get("XINYI_SESSIONS"), env.get("XINYI_REGISTRY")
        rate = env.get("XINYI_CHAT_RATE", "").strip()
        try:
            per_minute = int(rate) if rate else 60
        except ValueError:
            raise ValueError(f"XINYI_CHAT_RATE: expected a whole number of chat turns a minute, got {rate!r}") from None
        if per_minute < 0:
            raise ValueError("XINYI_CHAT_RATE: must be 0 (off) or more")
        slots = env.get("XINYI_CHAT_CONCURRENCY", "").strip()
        if slots and not slots.isdigit():
            raise ValueError(f"XINYI_CHAT_CONCURRENCY: expected a whole number of turns at once, got {slots!r}")
        return cls(db_path=Path(env.get("XINYI_DB", "kb.sqlite")),
                   chat_concurrency=int(slots) if slots else 2,
                   sessions_path=Path(sessions) if sessions else None,
                   registry_path=Path(registry) if registry else None,
                   write_token=env.get("XINYI_TOKEN") or None,
                   allow_uploads=env.get("XINYI_ALLOW_UPLOADS", "") in ("1", "true", "yes"),
                   chat_rate_per_minute=per_minute,
                   cors_origins=origins(env.get("XINYI_CORS_ORIGINS", "")),
                   read_token_required=env.get("XINYI_READ_TOKEN_REQUIRED", "").strip().lower() in ("1", "true", "yes"))


def origins(text: str) -> tuple[str, ...]:
    """XINYI_CORS_ORIGINS: "https://a.example, https://b.example" → the origins, each without a trailing slash."""
    return tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())


log = logging.getLogger("xinyi")
BUSY = "busy, try again"
RETRY_AFTER_S = 1


def error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status)


def field_name(loc) -> str | None:
    parts = [str(p) for p in loc if p not in LOCATIONS]
    if not parts:
        return str(loc[-1]) if loc else None
    out = parts[0]
    for p in parts[1:]:
        out += f"[{p}]" if p.isdigit() else f".{p}"
    return out


async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = exc.errors()
    if not errs:
        return error(422, "invalid request")
    first = errs[0]
    field = field_name(first.get("loc") or ())
    return error(422, f"{field}: {first.get('msg', 'invalid')}" if field else first.get("msg", "invalid"), field)


async def on_profile(request: Request, exc: ProfileError) -> JSONResponse:
    m = re.search(r"field '([^']+)'", str(exc))
    return error(422, str(exc), m.group(1) if m else "profile")


def busy(what: str) -> JSONResponse:
    """Another connection held a lock past its busy timeout (an ingest committing, a turn saving): nothing was
    carried out, and the same request a moment later will be. The log says which file was locked."""
    log.warning("busy: %s locked past its timeout; answered 503 with Retry-After", what)
    out = error(503, BUSY)
    out.headers["Retry-After"] = str(RETRY_AFTER_S)
    return out


def busy_text(exc: Exception) -> bool:
    return any(w in str(exc) for w in ("database is locked", "database is busy", "database table is locked"))


async def on_kb(request: Request, exc: KBError) -> JSONResponse:
    return error(503, f"knowledge base unavailable: {exc}")


async def on_sessions(request: Request, exc: SessionError) -> JSONResponse:
    if isinstance(exc, SessionBusy) or busy_text(exc):
        return busy("the session file")
    return error(503, f"session store unavailable: {exc}")


async def on_registry(request: Request, exc: RegistryError) -> JSONResponse:
    if busy_text(exc):
        return busy("the registry")
    return error(503, f"registry unavailable: {exc}")


async def on_sqlite(request: Request, exc: sqlite3.OperationalError) -> JSONResponse:
    """A lock held too long, wherever it was met, is 503 with Retry-After; any other SQLite fault is ours."""
    if is_busy(exc):
        return busy("a SQLite file (the knowledge base)")
    return await on_unexpected(request, exc)


async def on_no_slot(request: Request, exc: NoSlot) -> JSONResponse:
    return busy("no chat turn slot")


async def on_unknown_session(request: Request, exc: UnknownSession) -> JSONResponse:
    return await on_api(request, unknown_session(exc.session_id))


async def on_conflict(request: Request, exc: SessionConflict) -> JSONResponse:
    return error(409, f"session {exc}: too many turns at once; send this one again", "session_id")


async def on_api(request: Request, exc: APIError) -> JSONResponse:
    out = error(exc.status, exc.error, exc.field)
    out.headers.update(exc.headers or {})
    return out


async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:  # every method the path has, not only those of the first route matching it
        headers["Allow"] = ", ".join(allowed_methods(request))
    return JSONResponse({"error": str(exc.detail), "field": None}, status_code=exc.status_code,
                        headers=headers or None)


def allowed_methods(request: Request) -> list[str]:
    from starlette.routing import Match
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "__none__"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return sorted(methods)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A fault of ours still answers in the error shape, never with a traceback. The log names the exception's
    type and where it was raised, never its message (it may quote what was asked)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else "?"
    log.error("internal error %s at %s", type(exc).__name__, where)
    return error(500, f"internal error ({type(exc).__name__}); the request was not carried out")


# the error answers every operation may give, declared so that clients (and tests/test_fuzz_api.py) can rely
# on their shape: 400 a body that is not JSON, 422 bad input, 503 knowledge base or a file unavailable, or busy (with Retry-After)
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before sending it again", "schema": {"type": "integer"}}}
ERRORS = {400: {"model": ErrorBody, "description": "a body that is not JSON"},
          422: {"model": ErrorBody, "description": "bad input"},
          503: {"model": ErrorBody, "description": "knowledge base or a file unavailable; or busy, with Retry-After",
                "headers": RETRY_AFTER}}


def openapi_with_body_limits(app: FastAPI) -> dict:
    """The app's OpenAPI schema, every operation with a body declaring BodyLimits' 413 (ErrorBody)."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        for item in schema.get("paths", {}).values():
            for method, op in item.items():
                if method in ("post", "put", "patch"):
                    op.setdefault("responses", {}).setdefault("413", {
                        "description": "request body too large",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
        app.openapi_schema = schema
    return app.openapi_schema
TOKEN_ERRORS = {401: {"model": ErrorBody, "description": "missing or wrong bearer token"},
                403: {"model": ErrorBody, "description": "the token is required but the server has none"}}


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="信易 xinyi", version="0.1.0",
                  description="Safety-production credit policies: documents, 措施清单, 行为清单, clause search, "
                              "and which incentives or penalties apply to an enterprise, with citations.")
    app.state.settings = settings
    app.state.chat_rate = ChatRate(settings.chat_rate_per_minute)
    app.state.turn_locks = TurnLocks()
    app.state.turn_slots = TurnSlots(settings.chat_concurrency)
    # with read_token_required every /v1 operation needs the bearer token (the page and its files stay open)
    guarded = dict(dependencies=[Depends(require_read_token)], responses={**ERRORS, **TOKEN_ERRORS}) \
        if settings.read_token_required else dict(responses=ERRORS)
    for r in (documents.router, measures.router, clauses.router, conditions.router, check.router, chat.router,
              sessions.router, enterprises.router, notifications.router, push_items.router, session_facts.router,
              uploads.router, web.router):
        app.include_router(r, **guarded)
    app.openapi = lambda: openapi_with_body_limits(app)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")  # the web page's files (GET /)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(ProfileError, on_profile)
    app.add_exception_handler(KBError, on_kb)
    app.add_exception_handler(SessionError, on_sessions)
    app.add_exception_handler(SessionConflict, on_conflict)
    app.add_exception_handler(UnknownSession, on_unknown_session)
    app.add_exception_handler(NoSlot, on_no_slot)
    app.add_exception_handler(RegistryError, on_registry)
    app.add_exception_handler(sqlite3.OperationalError, on_sqlite)
    app.add_exception_handler(APIError, on_api)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth,
                       uploads={uploads.UPLOAD_PATH: settings.max_upload_bytes} if settings.allow_uploads else None)
    if settings.cors_origins:  # off unless configured: a browser on another origin gets no CORS headers
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST", "PUT", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.add_middleware(AnswerLog, db_path=settings.db_path)  # outermost: every answer, also a refused one
    return app


def app_from_env() -> FastAPI:
    return create_app(Settings.from_env())
