"""ask: intents, facts across turns (SQLite sessions survive a new connection), deciding questions."""
import shutil
from datetime import date

from knowledge.dialogue import ask

AS_OF = date(2026, 11, 22)


def test_missing_commitment_is_the_only_question(kb_path, tmp_path):
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    out = ask(db, "我们是营口的一家企业，安全生产标准化一级，近三年没有任何失信行为、行政处罚、亡人事故，也没有新发职业病。能纳入联合激励对象吗？",
              None, AS_OF)
    assert len(out["questions"]) == 1 and "承诺" in out["questions"][0]
    again = ask(db, "我们已经向社会公开作出安全生产承诺了", out["session_id"], AS_OF)
    yk = [r for r in again["results"] if r["source_file"] == "000_f2471d76c145893c.txt"]
    assert any(r["status"] == "applies" for r in yk)
    assert "容缺受理" in again["reply"]
    assert again["questions"] == []


def test_correction_replaces_the_fact(kb_path, tmp_path):
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    first = ask(db, "我们是营口的企业，标准化一级", None, AS_OF)
    second = ask(db, "其实是二级", first["session_id"], AS_OF)
    assert second["facts"]["standardization_level"] == 2


def test_where_and_department_questions(kb_path, tmp_path):
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    where = ask(db, "“容缺受理”出自哪个文件的哪一条？", None, AS_OF)
    assert {c["source_file"] for c in where["citations"]} >= {"000_f2471d76c145893c.txt", "004_c1031d100ed34c3a.txt"}
    dept = ask(db, "市财政局负责哪些激励措施？", None, AS_OF)
    quotes = " ".join(c["quote"] for c in dept["citations"])
    assert "财政性资金项目安排" in quotes and "干部选任" in quotes


def test_unknown_intent_gets_help(kb_path, tmp_path):
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    out = ask(db, "你好", None, AS_OF)
    assert "我可以帮您" in out["reply"] and out["results"] == []


def test_only_unknown_parts_are_asked(kb_path, tmp_path):
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    out = ask(db, "我们公司在江阴，做危化品仓储的，有重大危险源，标准化二级，一直在运行，近三年没出过事故也没被处罚过，有哪些优惠？",
              None, AS_OF)
    assert out["facts"]["standardization_level"] == 2
    assert not any("几级" in q for q in out["questions"])  # the level is known: never asked again
    assert len(out["questions"]) == 1 and "失信" in out["questions"][0]


def test_vague_event_date_is_asked_for(kb_path, tmp_path):
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    out = ask(db, "我们在陈巴尔虎旗，去年发生了一起较大责任事故，死了3个人，会受到什么惩戒？", None, AS_OF)
    assert "employees" not in out["facts"]
    assert "日期" in out["questions"][0]
    again = ask(db, "事故是2025年12月5日发生的", out["session_id"], AS_OF)
    chen = [r for r in again["results"] if r["source_file"] == "001_9ae7228be791c7b7.txt" and r["kind"] == "penalty"]
    assert any(r["status"] == "applies" and any("市级不良信用记录" in m["text"] for m in r["measures"]) for r in chen)


def test_department_question_even_with_a_place_in_the_name(kb_path, tmp_path):
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    out = ask(db, "鲅鱼圈海关负责哪些激励措施？", None, AS_OF)
    assert out["intent"] == "department" and out["facts"] == {}
    own, _, shared = out["reply"].partition("此外")
    assert "共 2 项" in own and "海关认证企业标准" in own and "降低审核或布控查验频次" in own
    assert "各有关部门" in shared  # measures every department carries out are listed apart


def test_what_if_is_not_recorded(kb_path, tmp_path):
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    out = ask(db, "我们是无锡的钢铁冶金企业，如果发生了一起死亡1人的责任事故会怎样？", None, AS_OF)
    assert out["intent"] == "what_if" and "上浮安全生产责任保险费率" in out["reply"]
    assert "events" not in out["facts"]


def test_hypothetical_keeps_real_facts_and_denials(kb_path, tmp_path):
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    first = ask(db, "我们是无锡的钢铁冶金企业，三年内没有发生过事故", None, AS_OF)
    what_if = ask(db, "如果发生一起亡人责任事故会怎样？", first["session_id"], AS_OF)
    assert "上浮工伤保险费率" in what_if["reply"]  # dated today, the supposed accident decides 第九、十条
    after = ask(db, "那我们能享受什么激励？", first["session_id"], AS_OF)
    assert after["facts"]["region"] == "江苏省无锡市"
    assert any(a["type"] == "accident" for a in after["facts"].get("absent_events", []))
    assert "events" not in after["facts"]


def test_repeated_and_corrected_events(kb_path, tmp_path):
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    s = ask(db, "我们在无锡，2025年6月1日受到一次重大行政处罚", None, AS_OF)["session_id"]
    again = ask(db, "对，2025年6月1日那次重大行政处罚", s, AS_OF)
    assert len(again["facts"]["events"]) == 1
    fix = ask(db, "我们在无锡，2025年3月发生过一起亡人责任事故", None, AS_OF)["session_id"]
    fixed = ask(db, "不对，事故是2021年发生的", fix, AS_OF)
    accidents = [e for e in fixed["facts"]["events"] if e["type"] == "accident"]
    assert len(accidents) == 1 and accidents[0]["date_from"].startswith("2021")
