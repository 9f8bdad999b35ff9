"""Shared FastAPI dependencies: settings, a read-only KB connection, a session store and the enterprise registry
per request, the bearer token that write endpoints (and, when configured, every /v1 request) require, and the
chat rate limit."""
from __future__ import annotations

import hmac
import math
from typing import Annotated, Iterator, Optional

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlite_utils import Database

from knowledge import registry as registry_file
from knowledge.db import open_db
from knowledge.registry import Registry
from knowledge.sessions import SessionStore, resolve_path


class APIError(Exception):
    """An error the handlers turn into {"error": message, "field": field} with the given status (and headers)."""

    def __init__(self, status: int, error: str, field: str | None = None, headers: Optional[dict] = None):
        super().__init__(error)
        self.status, self.error, self.field, self.headers = status, error, field, headers


def unknown_session(session_id: str) -> APIError:
    """404 for a session id the session file does not hold (never issued, or forgotten): ids are the server's."""
    return APIError(404, f"unknown session {session_id!r}: session ids are issued by the server; send a message "
                         "without session_id to start a conversation", "session_id")


def get_settings(request: Request):
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Database]:
    """The KB opened read-only (SQLite mode=ro): a KB removed under the server is 503 "… not found", never a
    new empty file."""
    db = open_db(request.app.state.settings.db_path, readonly=True)
    try:
        yield db
    finally:
        db.conn.close()


DB = Annotated[Database, Depends(get_db)]


def get_sessions(request: Request) -> Iterator[SessionStore]:
    """The chat session file, opened without creating it (a missing file holds no sessions)."""
    settings = request.app.state.settings
    with SessionStore(resolve_path(settings.db_path, settings.sessions_path), create=False) as store:
        yield store


Sessions = Annotated[SessionStore, Depends(get_sessions)]


def get_registry(request: Request) -> Iterator[Registry]:
    """The enterprise registry file, opened without creating it (a missing file holds no enterprises); the server
    writes events, notifications and feedback to it, never to the KB."""
    settings = request.app.state.settings
    with Registry(registry_file.resolve_path(settings.db_path, settings.registry_path), create=False) as reg:
        yield reg


RegistryFile = Annotated[Registry, Depends(get_registry)]


bearer = HTTPBearer(auto_error=False, scheme_name="XINYI_TOKEN",
                    description="the server's XINYI_TOKEN; registry writes (events, feedback) need it")


def check_token(request: Request, credentials: Optional[HTTPAuthorizationCredentials], disabled: str,
                missing: str) -> None:
    token = request.app.state.settings.write_token
    if not token:
        raise APIError(403, disabled, "authorization")
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass")):
        raise APIError(401, missing, "authorization", headers={"WWW-Authenticate": 'Bearer realm="xinyi"'})


def require_token(request: Request,
                  credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(bearer)] = None) -> None:
    """Write endpoints need `Authorization: Bearer TOKEN` matching the server's XINYI_TOKEN; with none configured
    writes are disabled (403), a missing or wrong token is 401."""
    check_token(request, credentials, "writes are disabled: set XINYI_TOKEN",
                "a write needs the header Authorization: Bearer <XINYI_TOKEN>")


def require_read_token(request: Request,
                       credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(bearer)] = None) -> None:
    """With Settings.read_token_required (XINYI_READ_TOKEN_REQUIRED=1) every /v1 request — reads, chat, check —
    needs the same bearer token as writes (401 without it; 403 when the server has no XINYI_TOKEN). The web
    page and its files stay open (they hold no data)."""
    if request.app.state.settings.read_token_required and request.url.path.startswith("/v1/"):
        check_token(request, credentials, "this server requires a token for reads, but XINYI_TOKEN is not set",
                    "this server requires the header Authorization: Bearer <XINYI_TOKEN> for reads")


WriteToken = Depends(require_token)


def limit_chat_rate(request: Request) -> None:
    """A chat turn costs one token of its client address's bucket (Settings.chat_rate_per_minute); an empty
    bucket is 429 with Retry-After, the seconds until the next turn may go."""
    rate = request.app.state.chat_rate
    wait = rate.take(request.client.host if request.client else "unknown")
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise APIError(429, f"too many chat turns from this address (at most {rate.per_minute} a minute); "
                            f"try again in {seconds} s", None, headers={"Retry-After": str(seconds)})


ChatRateLimit = Depends(limit_chat_rate)
