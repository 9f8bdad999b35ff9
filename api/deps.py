"""Shared FastAPI dependencies: settings, a read-only KB connection and a session store per request."""
from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Depends, Request
from sqlite_utils import Database

from knowledge.db import open_db
from knowledge.sessions import SessionStore, resolve_path


class APIError(Exception):
    """An error the handlers turn into {"error": message, "field": field} with the given status."""

    def __init__(self, status: int, error: str, field: str | None = None):
        super().__init__(error)
        self.status, self.error, self.field = status, error, field


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
