"""The HTTP API over a real KB built from corpus/, served by uvicorn on a loopback port, driven with httpx."""
from __future__ import annotations

import csv
import io
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import Settings, create_app
from knowledge.ingest import ingest_paths

ROOT = Path(__file__).resolve().parent.parent
WUXI = {"region": "江苏省无锡市", "industries": ["危险化学品储存"], "major_hazard_source": True, "employees": 60,
        "standardization_level": 2, "standardization_in_operation": True, "events": []}


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("kb") / "kb.sqlite"
    report = ingest_paths([ROOT / "corpus"], db)
    assert not report["errors"]
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(db: Path, **settings):
    """uvicorn in a background thread on a free loopback port; yields the base URL. `settings`: further
    Settings fields, e.g. sessions_path."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(db_path=db, **settings)), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def base(kb):
    with serving(kb) as url:
        yield url


@pytest.fixture(scope="module")
def client(base):
    with httpx.Client(base_url=base, timeout=30) as c:
        yield c


def walk(nodes):
    for n in nodes:
        yield n
        yield from walk(n["children"])


def test_documents(client):
    r = client.get("/v1/documents")
    assert r.status_code == 200
    assert len(r.json()) == 5


def test_document_clause_tree(client):
    r = client.get("/v1/documents/003_de71b19c54652fc1")
    assert r.status_code == 200
    doc = r.json()
    seventh = [n for n in walk(doc["clauses"]) if n["path"] == ["第七条"]]
    assert seventh and seventh[0]["children"]


def test_unknown_document_is_404_json(client):
    r = client.get("/v1/documents/nope")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert "nope" in r.json()["error"]


def test_measures_by_department(client):
    r = client.get("/v1/measures", params={"department": "财政局"})
    assert r.status_code == 200
    rows = r.json()
    assert any("财政性资金项目安排" in m["text"] for m in rows)
    assert all(m["departments"] for m in rows)


def test_clause_search_two_characters(client):
    r = client.get("/v1/clauses/search", params={"q": "海关"})
    assert r.status_code == 200
    hits = r.json()
    assert any(h["document_id"] == "000_f2471d76c145893c" for h in hits)
    assert all("海关" in h["text"] for h in hits)


def test_clause_search_needs_q(client):
    r = client.get("/v1/clauses/search")
    assert r.status_code == 422
    assert r.json()["field"] == "q"
    r = client.get("/v1/clauses/search", params={"q": "x" * 101})
    assert r.status_code == 422 and r.json()["field"] == "q"


def test_conditions(client):
    r = client.get("/v1/conditions", params={"role": "scope"})
    assert r.status_code == 200
    assert r.json() and all(c["role"] == "scope" for c in r.json())


def test_check_wuxi_hazchem(client):
    r = client.post("/v1/check", json={"profile": WUXI, "as_of": "2026-11-22"})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert any(x["document_id"] == "003_de71b19c54652fc1" and x["kind"] == "incentive" and x["status"] == "applies"
               for x in results)


def test_check_bad_profile_names_field(client):
    r = client.post("/v1/check", json={"profile": {"employees": "many"}})
    assert r.status_code == 422
    assert "employees" in r.json()["field"]


def test_check_bad_body_is_4xx_not_500(client):
    for body in ({"profile": "x"}, {}, {"profile": {}, "as_of": "tomorrow"}):
        r = client.post("/v1/check", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"]
    r = client.post("/v1/check", content=b"{not json", headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500


def test_openapi(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    assert "/v1/check" in r.json()["paths"]


def test_missing_kb_is_503(tmp_path):
    with serving(tmp_path / "none.sqlite") as url:
        r = httpx.get(url + "/v1/documents", timeout=30)
    assert r.status_code == 503 and "error" in r.json()


def test_cli_measures_csv(kb):
    out = subprocess.run([sys.executable, "-m", "api.cli", "measures", "--db", str(kb), "--department", "财政局",
                          "--format", "csv"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["事项", "实施部门", "措施", "依据条款"]
    assert any("财政性资金项目安排" in r[2] and r[3].startswith("《") for r in rows[1:])
