"""Shared FastAPI dependencies: settings, a read-only KB connection, a session store and the enterprise registry
per request, and the bearer token that write endpoints require."""
from __future__ import annotations

import hmac
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


def get_settings(request: Request):
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Database]:
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


def require_token(request: Request,
                  credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(bearer)] = None) -> None:
    """Write endpoints need `Authorization: Bearer TOKEN` matching the server's XINYI_TOKEN; with none configured
    writes are disabled (403), a missing or wrong token is 401."""
    token = request.app.state.settings.write_token
    if not token:
        raise APIError(403, "writes are disabled: set XINYI_TOKEN", "authorization")
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise APIError(401, "a write needs the header Authorization: Bearer <XINYI_TOKEN>", "authorization",
                       headers={"WWW-Authenticate": 'Bearer realm="xinyi"'})


WriteToken = Depends(require_token)
