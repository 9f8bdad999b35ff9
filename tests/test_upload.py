"""POST /v1/documents and GET /v1/capabilities over real HTTP (uvicorn on loopback) against a temporary copy of
the seeds KB: the token and the server's write access are both required, an uploaded seed-like file is ingested,
listed and answered from on the next request, a file that is not what its extension says is 415, a body over the
limit 413, and a bad file beside a good one is refused on its own."""
from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from test_api import serving  # uvicorn in a thread on a free loopback port

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-upload-token"
SEEDS = {p.stem for p in (ROOT / "corpus").glob("*.txt")}
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WUXI_TEXT = (ROOT / "corpus" / "003_de71b19c54652fc1.txt").read_text(encoding="utf-8")
YIXING_TITLE = "宜兴市安全生产领域信用示范管理办法"  # the title read is this + （试行）
YIXING = {"region": "江苏省宜兴市", "industries": ["危险化学品储存"], "major_hazard_source": True, "employees": 60,
          "standardization_level": 2, "standardization_in_operation": True, "events": []}


def seed_like(title: str = YIXING_TITLE, city: str = "宜兴") -> bytes:
    """The 无锡 seed under another title and city: a new document, not a version of 无锡's."""
    return WUXI_TEXT.replace("无锡市安全生产领域信用管理暂行办法", title, 1).replace("无锡", city).encode("utf-8")


@pytest.fixture()
def kb_copy(kb_path, tmp_path) -> Path:
    db = tmp_path / "kb.sqlite"
    shutil.copyfile(kb_path, db)
    return db


@pytest.fixture()
def upload_server(kb_copy, tmp_path):
    with serving(kb_copy, sessions_path=tmp_path / "sessions.sqlite", write_token=TOKEN, allow_uploads=True,
                 max_upload_bytes=300_000) as url:
        with httpx.Client(base_url=url, timeout=120) as c:
            yield c


def post(client, files, headers=AUTH):
    return client.post("/v1/documents", files=[("files", f) for f in files], headers=headers)


def test_capabilities(upload_server, kb_copy):
    assert upload_server.get("/v1/capabilities").json() == {"uploads": True, "token_required": True}
    with serving(kb_copy) as url:  # the default: read-only, no token
        assert httpx.get(f"{url}/v1/capabilities").json() == {"uploads": False, "token_required": True}


def test_no_token_is_401_and_a_wrong_one_too(upload_server):
    r = post(upload_server, [("a.txt", seed_like(), "text/plain")], headers={})
    assert r.status_code == 401 and r.json()["field"] == "authorization"
    r = post(upload_server, [("a.txt", seed_like(), "text/plain")], headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert len(upload_server.get("/v1/documents").json()) == 5


def test_uploads_disabled_is_403(kb_copy, tmp_path):
    with serving(kb_copy, write_token=TOKEN) as url:  # a token, but no --allow-uploads
        r = httpx.post(f"{url}/v1/documents", files=[("files", ("a.txt", seed_like(), "text/plain"))], headers=AUTH)
    assert r.status_code == 403
    assert r.json()["error"].startswith("uploads are disabled")


def test_a_seed_like_file_is_added_listed_and_answered(upload_server):
    before = upload_server.post("/v1/check", json={"profile": YIXING, "as_of": "2026-11-22"}).json()["results"]
    assert not any(x["document_id"] not in SEEDS for x in before)  # the KB cache is loaded now
    r = post(upload_server, [("../../etc/宜兴办法.txt", seed_like(), "text/plain")])
    assert r.status_code == 200, r.text
    [result] = r.json()
    assert result["status"] == "added" and result["error"] is None
    assert result["source_file"] == "宜兴办法.txt"  # the base name only, never the client's path
    doc_id = result["document_id"]
    assert doc_id and result["version"] == 1
    assert result["measures"] > 10 and result["conditions"] > 5
    docs = upload_server.get("/v1/documents").json()
    assert len(docs) == 6 and any(d["title"].startswith(YIXING_TITLE) for d in docs)
    # answered from on the next request: the cached KB sees the new file
    after = upload_server.post("/v1/check", json={"profile": YIXING, "as_of": "2026-11-22"}).json()["results"]
    assert any(x["document_id"] == doc_id and x["kind"] == "incentive" and x["status"] == "applies"
               for x in after)
    hits = upload_server.get("/v1/clauses/search", params={"q": "宜兴"}).json()
    assert any(h["document_id"] == doc_id for h in hits)
    # the same file again: unchanged, still one document
    [again] = post(upload_server, [("宜兴办法.txt", seed_like(), "text/plain")]).json()
    assert again["status"] == "unchanged" and again["document_id"] == doc_id
    assert len(upload_server.get("/v1/documents").json()) == 6


def test_a_fake_pdf_is_415(upload_server):
    r = post(upload_server, [("policy.pdf", "这不是 PDF".encode(), "application/pdf")])
    assert r.status_code == 415
    assert set(r.json()) == {"error", "field"} and "%PDF" in r.json()["error"]
    r = post(upload_server, [("policy.docx", b"plain text", "application/octet-stream")])
    assert r.status_code == 415 and "zip" in r.json()["error"]
    r = post(upload_server, [("policy.exe", b"MZ\x90\x00", "application/octet-stream")])
    assert r.status_code == 415 and "unsupported file type .exe" in r.json()["error"]


def test_an_oversize_body_is_413(upload_server):
    r = post(upload_server, [("big.txt", "安全生产".encode() * 40_000, "text/plain")])
    assert r.status_code == 413
    assert set(r.json()) == {"error", "field"}
    assert len(upload_server.get("/v1/documents").json()) == 5


def test_a_good_and_a_bad_file_one_added_one_refused(upload_server):
    r = post(upload_server, [("常州办法.txt", seed_like("常州市安全生产领域信用示范管理办法", "常州"), "text/plain"),
                             ("broken.pdf", b"%PDF-1.4\nnot really a pdf", "application/pdf")])
    assert r.status_code == 200, r.text
    good, bad = r.json()
    assert good["status"] == "added" and good["source_file"] == "常州办法.txt"
    assert bad["status"] == "refused" and bad["source_file"] == "broken.pdf" and bad["document_id"] is None
    assert bad["error"] and "xinyi-upload" not in bad["error"]  # the reason, not the server's folder
    titles = [d["title"] for d in upload_server.get("/v1/documents").json()]
    assert any(t.startswith("常州市安全生产领域信用示范管理办法") for t in titles) and len(titles) == 6
    # a wrongly typed file beside a good one is refused with its reason, not the whole request
    r = post(upload_server, [("fake.pdf", b"hello", "application/pdf"),
                             ("常州办法.txt", seed_like("常州市安全生产领域信用示范管理办法", "常州"), "text/plain")])
    assert r.status_code == 200
    fake, same = r.json()
    assert fake["status"] == "refused" and "%PDF" in fake["error"]
    assert same["status"] == "unchanged"
