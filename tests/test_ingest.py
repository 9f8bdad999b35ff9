"""xinyi ingest: idempotent, versioned, and bad input refused by name with the KB untouched."""
import json
import subprocess
import sys

from conftest import CORPUS, ROOT

XINYI = [sys.executable, "-c", "from api.cli import main; main()"]


def run(*args):
    return subprocess.run([*XINYI, *map(str, args)], capture_output=True, text=True, cwd=ROOT)


def export(db):
    p = run("export", "--db", db)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_ingest_twice_changes_nothing(tmp_path):
    db = tmp_path / "kb.sqlite"
    first = run("ingest", CORPUS, "--db", db)
    assert first.returncode == 0, first.stderr
    before = export(db)
    second = run("ingest", CORPUS, "--db", db)
    assert {d["status"] for d in json.loads(second.stdout)["documents"]} == {"unchanged"}
    assert export(db) == before
    assert len(before["documents"]) == 5


def test_revised_document_becomes_next_version(tmp_path):
    db = tmp_path / "kb.sqlite"
    src = tmp_path / "003_de71b19c54652fc1.txt"
    text = (CORPUS / src.name).read_text(encoding="utf-8")
    src.write_text(text, encoding="utf-8")
    assert run("ingest", src, "--db", db).returncode == 0
    src.write_text(text.replace("（四）作为安全生产典型示范企业加以宣传推广。", "（四）作为安全生产典型示范企业加以宣传推广，优先推荐评优。"),
                   encoding="utf-8")
    assert run("ingest", src, "--db", db).returncode == 0
    kb = export(db)
    assert kb["documents"][0]["version"] == 2
    assert sum("优先推荐评优" in m["text"] for m in kb["measures"]) == 1
    assert len({m["id"] for m in kb["measures"]}) == len(kb["measures"])


def bad_files(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "noise.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "notes.xyz").write_text("第一条 测试。", encoding="utf-8")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    return ["empty.txt", "noise.txt", "notes.xyz", "broken.docx", "broken.pdf"]


def test_bad_input_is_refused_by_name_and_kb_untouched(tmp_path):
    db = tmp_path / "kb.sqlite"
    assert run("ingest", CORPUS / "003_de71b19c54652fc1.txt", "--db", db).returncode == 0
    before = export(db)
    for name in bad_files(tmp_path):
        p = run("ingest", tmp_path / name, "--db", db)
        assert p.returncode != 0, name
        assert "Traceback" not in p.stderr
        assert name in p.stderr.strip().splitlines()[0]
    assert export(db) == before


def test_text_without_clause_labels_is_kept_with_a_warning(tmp_path):
    """A fragment or a page whose structure is only inline is ingested, never refused, and says so."""
    src = tmp_path / "flat.txt"
    src.write_text("对列入黑名单的企业，要实施停产整顿，在停产整顿期间不得进行生产经营活动。", encoding="utf-8")
    db = tmp_path / "kb.sqlite"
    p = run("ingest", src, "--db", db)
    assert p.returncode == 0, p.stderr
    assert "no clause structure" in p.stderr
    kb = export(db)
    assert kb["documents"][0]["title"] is None
    assert any("停产整顿" in c["text"] for c in kb["clauses"])


def test_docx_and_gb18030_inputs_ingest(tmp_path):
    import docx
    text = (CORPUS / "003_de71b19c54652fc1.txt").read_text(encoding="utf-8")
    d = docx.Document()
    for line in text.splitlines():
        d.add_paragraph(line)
    d.save(tmp_path / "wuxi.docx")
    (tmp_path / "wuxi_gb.txt").write_bytes(text.replace("[bookmark: _GoBack]", "").encode("gb18030"))
    db = tmp_path / "kb.sqlite"
    p = run("ingest", tmp_path / "wuxi.docx", tmp_path / "wuxi_gb.txt", "--db", db)
    assert p.returncode == 0, p.stderr
    kb = export(db)
    counts = {d["source_file"]: sum(m["document_id"] == d["id"] for m in kb["measures"]) for d in kb["documents"]}
    assert counts["wuxi.docx"] == counts["wuxi_gb.txt"] >= 25


def test_check_refuses_bad_profiles_by_field(tmp_path):
    db = tmp_path / "kb.sqlite"
    assert run("ingest", CORPUS / "003_de71b19c54652fc1.txt", "--db", db).returncode == 0
    cases = {
        '{"events": [{"type": "accident", "date": "2025-02-01", "fatalities": "1"}]}': "events[0].fatalities",
        '{"events": [{"type": "accident", "severity": "很大"}]}': "events[0].severity",
        '{"events": [{"type": "accident", "date": "2024-02-30"}]}': "events[0].date",
        '{"employees": "many"}': "employees",
    }
    for text, field in cases.items():
        p = tmp_path / "p.json"
        p.write_text(text, encoding="utf-8")
        out = run("check", "--db", db, "--profile", p)
        assert out.returncode == 2 and field in out.stderr and "Traceback" not in out.stderr, out.stderr
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database", encoding="utf-8")
    p.write_text("{}", encoding="utf-8")
    out = run("check", "--db", junk, "--profile", p)
    assert out.returncode != 0 and "Traceback" not in out.stderr and "junk.sqlite" in out.stderr


def test_hard_wrapped_pdf_reads_like_the_text(tmp_path):
    """A PDF whose lines wrap every 36 characters (as printed pages do) yields the same conditions and measures."""
    import textwrap
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    from nlp.document import parse_document
    from nlp.readers import read_document

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    src = CORPUS / "000_f2471d76c145893c.txt"
    pdf = tmp_path / "000_f2471d76c145893c.pdf"
    c = canvas.Canvas(str(pdf), pagesize=A4)
    y, page = 800, 1
    for para in src.read_text(encoding="utf-8").split("\n"):
        for line in textwrap.wrap(para.strip(), 36) or [""]:
            c.setFont("STSong-Light", 11)
            c.drawString(40, y, line)
            y -= 16
            if y < 60:
                c.drawString(280, 30, f"— {page} —")
                c.showPage()
                y, page = 800, page + 1
    c.save()
    from_pdf, from_txt = parse_document(read_document(pdf)), parse_document(read_document(src))
    assert [c.path for c in from_pdf.conditions] == [c.path for c in from_txt.conditions]
    assert len(from_pdf.measures) == len(from_txt.measures)
    assert from_pdf.title == from_txt.title


def test_the_same_file_name_from_two_folders_is_refused_saying_which(tmp_path):
    from knowledge.ingest import ingest_paths
    text = "某市安全生产守信激励办法\n第一条 对守信企业，减少执法检查频次。\n"
    for folder, extra in (("a", ""), ("b", "第二条 对失信企业，加大执法检查频次。\n")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notice.txt").write_text(text + extra, encoding="utf-8")
    report = ingest_paths([tmp_path / "a", tmp_path / "b"], tmp_path / "kb.sqlite")
    assert [d["source_file"] for d in report["documents"]] == ["notice.txt"]
    assert report["documents"][0]["version"] == 1
    [refused] = report["errors"]
    assert str(tmp_path / "b" / "notice.txt") in refused and str(tmp_path / "a" / "notice.txt") in refused
