"""Chat asks the conditions no pattern reads as yes/no questions in the clause's words and records the answer,
a bare 是 / 没有 included. The fixture is a small blacklist notice written here in the shape real ones take."""
from datetime import date

import pytest

from knowledge.dialogue import ask, yes_or_no
from knowledge.ingest import ingest_paths

AS_OF = date(2026, 12, 1)
NOTICE = """某市煤矿安全生产“黑名单”制度
一、凡煤矿企业一年内发生两次一般死亡事故，隐瞒事故的，一律列入安全生产“黑名单”，并予以公示。
二、对在井下擅自改变采区布局未报批的煤矿企业，要实施停产整顿，在停产整顿期间不得进行生产经营活动。
四、对列入“黑名单”的煤矿企业，煤矿安全监察机构要实行重点监察，加大执法处罚力度。
"""


@pytest.fixture()
def db(tmp_path):
    src = tmp_path / "notice.txt"
    src.write_text(NOTICE, encoding="utf-8")
    path = tmp_path / "kb.sqlite"
    assert not ingest_paths([src], path)["errors"]
    return path


def test_bare_answers_read_as_yes_or_no():
    assert [yes_or_no(t) for t in ("是", "对的", "没有", "不是。", "有没有", "我们没有事故")] == \
        [True, True, False, False, None, None]


def attested_question(out):
    return [q for q in out["question_details"] if q["field"] == "attested"]


def test_an_unreadable_condition_is_asked_and_a_bare_answer_recorded(db):
    out = ask(db, "我们是煤矿企业，会被列入黑名单吗？", None, AS_OF)
    asked = attested_question(out)
    assert asked and asked[0]["question"].startswith("贵单位是否") and "采区布局" in asked[0]["question"]
    assert out["questions"][-1] == asked[0]["question"]  # the yes/no question comes last
    again = ask(db, "没有", out["session_id"], AS_OF)
    assert again["facts"]["attested"] == {asked[0]["key"]: False}
    assert asked[0]["question"] not in again["questions"]


def test_a_bare_answer_without_a_yes_no_question_is_not_an_attestation(db):
    out = ask(db, "没有", None, AS_OF)
    assert "attested" not in out["facts"]
