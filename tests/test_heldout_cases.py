"""Check and chat cases written independently of the implementation (tests/heldout/cases), run in-process."""
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from knowledge.dialogue import ask
from knowledge.evaluate import evaluate
from test_evaluate_cases import expectations_hold

CASES = sorted((Path(__file__).parent / "heldout" / "cases").glob("*.json"))
LOADED = [(p.stem, json.loads(p.read_text(encoding="utf-8"))) for p in CASES]


@pytest.mark.parametrize("case", [c for _, c in LOADED if "profile" in c], ids=[n for n, c in LOADED if "profile" in c])
def test_check_case(kb, case):
    expectations_hold(evaluate(kb, case["profile"], date.fromisoformat(case["as_of"])), case["expect"])


@pytest.fixture(scope="module")
def chat_db(kb_path, tmp_path_factory):
    db = tmp_path_factory.mktemp("heldout-chat") / "kb.sqlite"
    shutil.copy(kb_path, db)
    return db


@pytest.mark.parametrize("case", [c for _, c in LOADED if "question" in c],
                         ids=[n for n, c in LOADED if "question" in c])
def test_ask_case(chat_db, case):
    out = ask(chat_db, case["question"], None, date.fromisoformat(case["as_of"]))
    expectations_hold(out["results"], case.get("expect", []))
    for want in case.get("expect_citations", []):
        assert any(c["source_file"] == want["source_file"] and want["quote"].replace(" ", "") in c["quote"].replace(" ", "")
                   for c in out["citations"]), want
    for word in case.get("expect_questions", []):
        assert any(word in q for q in out["questions"]), word
