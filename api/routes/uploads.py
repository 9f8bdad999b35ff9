"""Staff uploads (issue 12): POST /v1/documents ingests uploaded files into the KB, and GET /v1/capabilities tells
the web page whether it may offer that. Uploads need both the bearer token (XINYI_TOKEN, issue 11) and a server
started with write access (Settings.allow_uploads: XINYI_ALLOW_UPLOADS=1 or `xinyi serve --allow-uploads`).

Each file is saved under its own (sanitised) base name in a fresh temporary folder — never under a path the client
sent — type-checked by extension and by its first bytes, and the good ones are ingested with ingest_paths, one
upload at a time (the only writer connection the server opens). The request body as a whole is limited by
Settings.max_upload_bytes (api/limits.py, 413). A bad file gets its own one-line reason; the others go on.
"""
from __future__ import annotations

import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Depends, File, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from knowledge.ingest import ingest_paths
from nlp.budget import Limits
from nlp.readers import SUPPORTED
from nlp.types import XinyiError

from ..deps import APIError, require_token
from ..schemas import ErrorBody

router = APIRouter(tags=["staff"])

UPLOAD_PATH = "/v1/documents"
NAME_BYTES = 180                       # a longer base name is shortened (its extension kept)
FORBIDDEN = set('<>:"/\\|?*')
BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x7fELF", b"\xd0\xcf\x11\xe0")
_write_lock = threading.Lock()         # one ingest at a time: a single writer


class Capabilities(BaseModel):
    uploads: bool = Field(description="POST /v1/documents is open: the server allows uploads and has a token")
    token_required: bool = Field(description="write endpoints need Authorization: Bearer <XINYI_TOKEN>")


class UploadResult(BaseModel):
    source_file: str = Field(description="the file's base name as stored (documents are known by it)")
    status: Literal["added", "updated", "unchanged", "refused"]
    document_id: Optional[str] = None
    version: Optional[int] = None
    measures: int = 0
    conditions: int = 0
    warnings: list[str] = []
    error: Optional[str] = Field(None, description="why a refused file was not ingested (one line)")


@router.get("/v1/capabilities", summary="What this server allows the web page to offer")
def capabilities(request: Request) -> Capabilities:
    s = request.app.state.settings
    return Capabilities(uploads=bool(getattr(s, "allow_uploads", False) and s.write_token), token_required=True)


def uploads_enabled(request: Request) -> None:
    if not getattr(request.app.state.settings, "allow_uploads", False):
        raise APIError(403, "uploads are disabled: start the server with --allow-uploads (XINYI_ALLOW_UPLOADS=1)",
                       "files")


def safe_name(raw: Optional[str]) -> str:
    """The base name of a client's file name, with no folder, control or reserved characters; '' when none is
    left."""
    name = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch.isprintable() and ch not in FORBIDDEN).strip().lstrip(".").strip()
    if len(name.encode("utf-8")) > NAME_BYTES:
        p = Path(name)
        stem, suffix = p.stem, p.suffix[:10]
        while stem and len((stem + suffix).encode("utf-8")) > NAME_BYTES:
            stem = stem[:-1]
        name = stem + suffix
    return name if Path(name).stem else ""


def type_problem(name: str, head: bytes) -> Optional[str]:
    """Why the file is not the type its extension says (None when it is)."""
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED:
        return f"unsupported file type {ext or '(none)'}; expected one of {' '.join(SUPPORTED)}"
    if ext == ".pdf" and not head.startswith(b"%PDF"):
        return "not a PDF file (it does not start with %PDF)"
    if ext == ".docx" and not head.startswith(b"PK\x03\x04"):
        return "not a .docx file (it is not a zip archive)"
    if ext in (".txt", ".html", ".htm") and head.startswith(BINARY_MAGIC):
        return f"not a {ext} file (its content is binary: a PDF, archive or image)"
    return None


def refused(name: str, reason: str) -> UploadResult:
    return UploadResult(source_file=name, status="refused", error=reason)


def ingest_saved(folder: Path, names: list[str], db_path: Path) -> dict[str, UploadResult]:
    """Ingest the saved files (under the write lock); each name's result or refusal."""
    with _write_lock:
        try:
            report = ingest_paths([folder / n for n in names], db_path, limits=Limits.from_env())
        except XinyiError as exc:
            raise APIError(422, str(exc).replace(f"{folder}/", ""), "files")
    out: dict[str, UploadResult] = {}
    for r in report["documents"]:
        status = "updated" if r["status"] == "reextracted" else r["status"]
        out[r["source_file"]] = UploadResult(source_file=r["source_file"], status=status,
                                             document_id=r["document_id"], version=r["version"],
                                             measures=r.get("measures", 0), conditions=r.get("conditions", 0),
                                             warnings=r.get("warnings") or [])
    for message in report["errors"]:
        message = message.replace(f"{folder}/", "")
        for n in names:
            if n not in out and message.startswith(f"{n}:"):
                out[n] = refused(n, message[len(n) + 1:].strip() or message)
                break
    return out


@router.post(UPLOAD_PATH, summary="Upload policy documents (.txt .html .docx .pdf) into the KB (staff; token)",
             dependencies=[Depends(require_token), Depends(uploads_enabled)],  # 401 before saying what is off
             responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 413: {"model": ErrorBody},
                        415: {"model": ErrorBody}})
async def upload(request: Request,
                 files: Annotated[list[UploadFile], File(description="one or more files")]) -> list[UploadResult]:
    """Each file becomes a document (or the next version of the document of the same file name). One result per
    file, in the order sent; a refused file says why, the others are ingested. 415 when no file is of a usable
    type."""
    settings = request.app.state.settings
    results: list[Optional[UploadResult]] = []
    with tempfile.TemporaryDirectory(prefix="xinyi-upload-") as tmp:
        folder = Path(tmp)
        saved: list[str] = []
        typed_wrong: list[str] = []
        for f in files:
            name = safe_name(f.filename)
            data = await f.read()
            if not name:
                results.append(refused(f.filename or "", "the file has no usable name"))
            elif name in saved:
                results.append(refused(name, "another file in this upload has the same name; documents are "
                                             "known by their file name, so upload one at a time"))
            elif (problem := type_problem(name, data[:8])) is not None:
                typed_wrong.append(f"{name}: {problem}")
                results.append(refused(name, problem))
            elif not data.strip():
                results.append(refused(name, "file is empty; expected a document with text"))
            else:
                (folder / name).write_bytes(data)
                saved.append(name)
                results.append(None)
        if not saved and typed_wrong and len(typed_wrong) == len(results):
            raise APIError(415, "; ".join(typed_wrong), "files")
        done = await run_in_threadpool(ingest_saved, folder, saved, settings.db_path) if saved else {}
    it = iter(saved)
    out = []
    for r in results:
        if r is None:
            n = next(it)
            r = done.get(n) or refused(n, "was not ingested (no reason was given)")
        out.append(r)
    return out
