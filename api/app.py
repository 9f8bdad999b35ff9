"""create_app(Settings) → the FastAPI app serving the KB read-only. Example:
    uvicorn --factory 'api.app:app_from_env'   (XINYI_DB=kb.sqlite)   or   xinyi serve --db kb.sqlite
Chat sessions are written to their own file (XINYI_SESSIONS, default kb.sessions.sqlite beside the KB), registry
events, notifications and feedback to theirs (XINYI_REGISTRY, default kb.registry.sqlite), and only with the
bearer token XINYI_TOKEN.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from knowledge.check import ProfileError
from knowledge.db import KBError
from knowledge.registry import RegistryError
from knowledge.sessions import SessionConflict, SessionError

from .deps import APIError
from .limits import BodyLimits
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

    @classmethod
    def from_env(cls) -> "Settings":
        sessions, registry = os.environ.get("XINYI_SESSIONS"), os.environ.get("XINYI_REGISTRY")
        return cls(db_path=Path(os.environ.get("XINYI_DB", "kb.sqlite")),
                   sessions_path=Path(sessions) if sessions else None,
                   registry_path=Path(registry) if registry else None,
                   write_token=os.environ.get("XINYI_TOKEN") or None,
                   allow_uploads=os.environ.get("XINYI_ALLOW_UPLOADS", "") in ("1", "true", "yes"))


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


async def on_kb(request: Request, exc: KBError) -> JSONResponse:
    return error(503, f"knowledge base unavailable: {exc}")


async def on_sessions(request: Request, exc: SessionError) -> JSONResponse:
    return error(503, f"session store unavailable: {exc}")


async def on_registry(request: Request, exc: RegistryError) -> JSONResponse:
    return error(503, f"registry unavailable: {exc}")


async def on_conflict(request: Request, exc: SessionConflict) -> JSONResponse:
    return error(409, f"session {exc}: too many turns at once; send this one again", "session_id")


async def on_api(request: Request, exc: APIError) -> JSONResponse:
    out = error(exc.status, exc.error, exc.field)
    out.headers.update(exc.headers or {})
    return out


async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return JSONResponse({"error": str(exc.detail), "field": None}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A fault of ours still answers in the error shape, never with a traceback."""
    return error(500, f"internal error ({type(exc).__name__}); the request was not carried out")


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="信易 xinyi", version="0.1.0",
                  description="Safety-production credit policies: documents, 措施清单, 行为清单, clause search, "
                              "and which incentives or penalties apply to an enterprise, with citations.")
    app.state.settings = settings
    for r in (documents.router, measures.router, clauses.router, conditions.router, check.router, chat.router,
              sessions.router, enterprises.router, notifications.router, push_items.router, session_facts.router,
              uploads.router, web.router):
        app.include_router(r)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")  # the web page's files (GET /)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(ProfileError, on_profile)
    app.add_exception_handler(KBError, on_kb)
    app.add_exception_handler(SessionError, on_sessions)
    app.add_exception_handler(SessionConflict, on_conflict)
    app.add_exception_handler(RegistryError, on_registry)
    app.add_exception_handler(APIError, on_api)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth,
                       uploads={uploads.UPLOAD_PATH: settings.max_upload_bytes} if settings.allow_uploads else None)
    return app


def app_from_env() -> FastAPI:
    return create_app(Settings.from_env())
