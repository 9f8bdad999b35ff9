"""Shared FastAPI dependencies: settings and a read-only KB connection per request."""
from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Depends, Request
from sqlite_utils import Database

from knowledge.db import open_db


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
