"""POST /v1/chat over real HTTP: a conversation that survives a server restart between turns."""
from __future__ import annotations


import httpx
import pytest

from test_api import ROOT, serving  # the uvicorn-in-a-thread helper
from knowledge.ingest import ingest_paths

AS_OF = "2026-11-22"


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    db = tmp_path_factory.mktemp("chat") / "kb.sqlite"
    assert not ingest_paths([ROOT / "corpus"], db)["errors"]
    return db


def post(base, body):
    r = httpx.post(f"{base}/v1/chat", json=body, timeout=60)
    return r.status_code, r.json()


def test_conversation_survives_restart(kb):
    with serving(kb) as base:
        code, first = post(base, {"message": "我们是无锡的一家危险化学品储存企业，构成重大危险源，安全生产标准化二级。能享受什么激励？",
                                  "as_of": AS_OF})
        assert code == 200
        assert first["facts"]["region"] == "江苏省无锡市" and first["facts"]["standardization_level"] == 2
        assert first["questions"], "the three-year history is still unknown, so something must be asked"
    with serving(kb) as base:  # a new server process state, same KB file
        code, second = post(base, {"session_id": first["session_id"], "as_of": AS_OF,
                                   "message": "三年内没有失信行为、没有受过行政处罚、没有发生亡人事故，标准化持续运行。"})
        assert code == 200
        assert second["facts"]["region"] == "江苏省无锡市"  # remembered from the first turn
        wuxi = [r for r in second["results"] if r["source_file"] == "003_de71b19c54652fc1.txt" and r["kind"] == "incentive"]
        assert any(r["status"] == "applies" for r in wuxi)
        assert "下调安全生产责任保险费率" in second["reply"]


def test_correction_over_http(kb):
    with serving(kb) as base:
        _, first = post(base, {"message": "我们是营口的企业，标准化一级", "as_of": AS_OF})
        _, second = post(base, {"session_id": first["session_id"], "message": "其实是二级", "as_of": AS_OF})
        assert second["facts"]["standardization_level"] == 2


@pytest.mark.parametrize("body,field", [({"message": ""}, "message"), ({}, "message"),
                                         ({"message": "你好", "session_id": "../etc"}, "session_id")])
def test_bad_chat_input_names_the_field(kb, body, field):
    with serving(kb) as base:
        code, out = post(base, body)
        assert code == 422 and out["field"] == field


def test_where_question_over_http(kb):
    with serving(kb) as base:
        _, out = post(base, {"message": "容缺受理出自哪条？", "as_of": AS_OF})
        assert {c["source_file"] for c in out["citations"]} >= {"000_f2471d76c145893c.txt", "004_c1031d100ed34c3a.txt"}
