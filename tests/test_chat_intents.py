"""Chat question types resolved against the KB (issue 8): article lookup in laws, what the documents say or do
not say, why-not with what would change it, the rest of a long list, a speaker who is a department, replies."""
import shutil
from datetime import date
from pathlib import Path

import pytest

from knowledge.dialogue import ask
from knowledge.ingest import ingest_paths

AS_OF = date(2026, 11, 22)
LAW_CORPUS = Path("/work/shared/eval/law_corpus")


@pytest.fixture()
def db(kb_path, tmp_path):
    path = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, path)
    return path


@pytest.fixture(scope="module")
def law_db(tmp_path_factory):
    if not LAW_CORPUS.is_dir():
        pytest.skip(f"{LAW_CORPUS} not present")
    path = tmp_path_factory.mktemp("law") / "kb.sqlite"
    laws = [p for p in LAW_CORPUS.iterdir() if "__" in p.name]
    assert not ingest_paths(laws, path)["errors"]
    return path


def test_a_law_article_by_its_label(law_db):
    out = ask(law_db, "《安全生产法》第七十八条的内容是什么？", None, AS_OF)
    assert out["intent"] == "article" and out["facts"] == {}
    assert out["citations"][0]["source_file"].startswith("社会法__安全生产法")
    assert "违法行为信息库" in out["reply"] and out["reply"].count("第七十八条") >= 1


def test_what_the_documents_say_and_do_not_say(law_db):
    said = ask(law_db, "安全生产许可证的有效期是多久？", None, AS_OF)
    assert "有效期为3年" in " ".join(c["quote"] for c in said["citations"])
    silent = ask(law_db, "企业食堂的卫生许可证怎么年检？", None, AS_OF)
    assert silent["citations"] == [] and "没有找到" in silent["reply"] and "我可以帮您" not in silent["reply"]


def test_a_title_names_the_document_not_the_speakers_place(law_db):
    out = ask(law_db, "北京市安全生产条例对信用良好的生产经营单位有什么规定？", None, AS_OF)
    assert out["facts"] == {}
    assert any("信用良好" in c["quote"] for c in out["citations"])


def test_why_not_says_when_the_record_stops_counting(db):
    out = ask(db, "我们在无锡，钢铁冶金，标准化二级持续运行，近三年没有失信行为和亡人事故，2024年3月5日被应急管理局罚过款，"
                  "为什么不能享受激励？", None, AS_OF)
    assert out["intent"] == "why_not"
    assert "第四条（二）" in out["reply"] and "2027年3月5日" in out["reply"]


def test_the_reply_opens_with_what_was_understood_in_the_users_words(db):
    out = ask(db, "我們在無錫，是危化品儲存企業，構成重大危險源，標準化二級", None, AS_OF)
    first = out["reply"].splitlines()
    assert first[0] == "我理解的情况：" and "標準化二級" in out["reply"]  # the user's own script
    assert out["facts"]["standardization_level"] == 2


def test_a_long_list_gives_the_first_items_and_the_rest_on_request(db):
    first = ask(db, "营口对守信企业有哪些激励措施？", None, AS_OF)
    assert first["intent"] == "overview" and "列出全部" in first["reply"]
    rest = ask(db, "列出全部", first["session_id"], AS_OF)
    shown = first["reply"].split("以上列出")[0].count("· ")
    assert rest["intent"] == "more" and len(rest["citations"]) > shown == 8
    assert "以上列出" not in rest["reply"]


def test_a_speaker_who_is_a_department_and_then_says_we(db):
    first = ask(db, "我是无锡市财政局的，对失信联合惩戒对象我们要做什么？", None, AS_OF)
    assert first["intent"] == "department" and first["facts"] == {}
    assert "暂停审批其新的重大项目申报" in " ".join(c["quote"] for c in first["citations"])
    again = ask(db, "那对守信激励对象，我们局自己可以做什么？", first["session_id"], AS_OF)
    assert again["intent"] == "department" and "财政性资金补助" in " ".join(c["quote"] for c in again["citations"])


def test_a_department_named_in_a_fact_is_not_the_question(db):
    out = ask(db, "我们在无锡，危化品储存，构成重大危险源，标准化二级持续运行，三年内没被应急管理部门处罚过，没有失信和亡人事故，"
                  "能享受什么？", None, AS_OF)
    assert out["intent"] == "eligibility"
    assert any(r["status"] == "applies" and r["source_file"] == "003_de71b19c54652fc1.txt" for r in out["results"])


def test_a_yes_no_question_gets_its_verdict_first(db):
    s = ask(db, "我们在无锡，危化品储存，构成重大危险源，标准化二级持续运行，三年内没有失信、处罚和亡人事故", None, AS_OF)
    out = ask(db, "那能不能下调安全生产责任保险费率？", s["session_id"], AS_OF)
    assert out["reply"].splitlines()[0].startswith("能。") and "下调安全生产责任保险费率" in out["reply"].splitlines()[0]
    unsure = ask(db, "会不会上浮安全生产责任保险费率？", s["session_id"], AS_OF)  # penalties not all denied
    assert unsure["reply"].splitlines()[0].startswith("还不能确定")


def test_other_languages_get_a_note_not_help_text(db):
    out = ask(db, "What incentives can we get?", None, AS_OF)
    assert out["intent"] == "not_chinese" and "中文" in out["reply"] and "Chinese" in out["reply"]


def test_replies_never_cut_a_quote_mid_sentence(db):
    out = ask(db, "庄河对严重失信的企业都有哪些惩戒措施？列一下", None, AS_OF)
    for line in out["reply"].splitlines():
        if line.strip().startswith("·") and "（《" in line:
            quoted = line.split("（《")[0]
            assert quoted.rstrip().endswith(("。", "；", ";", "…", "）", "”")) or len(quoted) < 130, line


def test_when_a_document_takes_effect(law_db):
    out = ask(law_db, "北京市安全生产条例什么时候施行？", None, AS_OF)
    assert out["intent"] == "validity" and "2022-08-01" in out["reply"]
    assert any("起施行" in c["quote"] for c in out["citations"])


def test_a_count_question_is_an_overview(db):
    out = ask(db, "营口备忘录一共有多少项激励措施？", None, AS_OF)
    assert out["intent"] == "overview" and "共 41 项" in out["reply"]


def test_one_yes_no_question_a_turn_so_a_bare_yes_is_unambiguous(db):
    first = ask(db, "我们在无锡，是钢铁冶金企业，标准化二级，三年内没有失信、处罚和亡人事故，能享受什么激励？", None, AS_OF)
    yes_no = [q for q in first["question_details"] if q["field"] in ("standardization_in_operation",
                                                                         "assessment_top_ranked", "attested", "events")]
    assert len(yes_no) == 1 and first["questions"][-1] == yes_no[0]["question"]
    again = ask(db, "是的", first["session_id"], AS_OF)
    assert again["facts"][yes_no[0]["field"]] is True
    assert any(r["status"] == "applies" and r["kind"] == "incentive" for r in again["results"])
