"""Tests for nlp.readers: fixtures are built here from the real seed documents in corpus/."""
from __future__ import annotations

import html
import random
import re
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # pytest's default rootdir handling does not put the project on sys.path
    sys.path.insert(0, str(ROOT))

from nlp.readers import SUPPORTED, iter_input_files, read_document
from nlp.types import RawText, ReadError

CORPUS = ROOT / "corpus"
SEED_003 = "003_de71b19c54652fc1.txt"
SEED_004 = "004_c1031d100ed34c3a.txt"
ALL_SEEDS = sorted(p.name for p in CORPUS.glob("*.txt"))


def seed(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


# ---------------------------------------------------------------- .txt

@pytest.mark.parametrize("name", ALL_SEEDS)
@pytest.mark.parametrize("codec, prefix, expected", [
    ("utf-8", b"", "utf-8"),
    ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
    ("utf-16-le", b"\xff\xfe", "utf-16-le"),
    ("utf-16-be", b"\xfe\xff", "utf-16-be"),
    ("gb18030", b"", "gb18030"),
])
def test_txt_round_trips_every_seed(tmp_path, name, codec, prefix, expected):
    original = seed(name)
    f = tmp_path / name
    f.write_bytes(prefix + original.replace("\n", "\r\n").encode(codec))
    rt = read_document(f)
    assert isinstance(rt, RawText)
    assert rt.text == original
    assert "\r" not in rt.text and "\ufeff" not in rt.text
    assert (rt.encoding, rt.format, rt.source_file) == (expected, "txt", name)


def test_txt_gbk_bytes_read_as_gb18030(tmp_path):
    original = seed(SEED_003)
    f = tmp_path / "gbk.txt"
    f.write_bytes(original.encode("gbk"))  # raises if the seed is not GBK-encodable
    rt = read_document(f)
    assert rt.text == original
    assert rt.encoding == "gb18030"


def test_txt_keeps_special_brackets_and_fullwidth_digits(tmp_path):
    text = "淮安办﹝2021﹞73号\n庄政发〔2017〕22号\n（一）“信用”１２３　全角\n"
    for codec in ("utf-8", "gb18030"):
        f = tmp_path / f"{codec}.txt"
        f.write_bytes(text.encode(codec))
        assert read_document(f).text == text


def test_txt_lone_cr_line_endings(tmp_path):
    f = tmp_path / "mac.TXT"  # extension match is case-insensitive
    f.write_bytes("第一条 甲\r第二条 乙\r\n第三条 丙".encode("utf-8"))
    assert read_document(f).text == "第一条 甲\n第二条 乙\n第三条 丙"


def test_txt_falls_back_to_charset_normalizer(tmp_path):
    text = "Съешь же ещё этих мягких французских булок, да выпей чаю. В чащах юга жил бы цитрус?\n" * 3
    f = tmp_path / "ru.txt"
    f.write_bytes(text.encode("cp1251"))  # neither UTF-8 nor GB18030
    rt = read_document(f)
    assert rt.text == text
    assert rt.encoding == "cp1251"


# ---------------------------------------------------------------- .html

def _seed_004_page() -> tuple[bytes, str, list[str]]:
    """A government-style page around seed 004: returns (GB18030 bytes, title, expected body paragraphs)."""
    lines = [l for l in seed(SEED_004).split("\n") if l.strip()]
    assert lines[:4] == ["走进庄河", "互动交流", "应急文件", "庄河市人民政府关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的实施意见"]
    title, body = lines[3], lines[4:]
    parts, names = [], []
    for line in body:  # the appendix name list is one <p> broken by <br>, as such pages usually are
        if line.startswith("    "):
            names.append(html.escape(line, quote=False))
            continue
        if names:
            parts.append("<p>" + "<br>\n".join(names) + "</p>")
            names = []
        parts.append(f"<p>{html.escape(line, quote=False)}</p>")
    assert not names
    page = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<meta charset="gb2312"><title>{title}_庄河市人民政府</title>
<style>.menu {{ color: red }}</style>
<script>var 统计代码 = "脚本内容";</script></head>
<body>
<div class="top-header"><img src="logo.png">欢迎访问本站</div>
<nav><ul><li><a href="/">走进庄河</a></li><li><a href="/hd">互动交流</a></li></ul></nav>
<div id="MainMenu"><a href="/yj">应急文件</a></div>
<div class="breadcrumb">首页 &gt; 政务公开 &gt; 应急文件</div>
<div class="main-content">
  <h1>{title}</h1>
  <div class="share-bar">分享到：微信 微博</div>
  <div id="zoom" class="TRS_Editor">
{chr(10).join(parts)}
  </div>
</div>
<div class="sidebar"><ul><li>相关链接</li></ul></div>
<footer>版权所有：庄河市人民政府 辽ICP备00000000号</footer>
<script>document.write("页脚脚本");</script>
</body></html>"""
    # HTML collapses runs of ASCII whitespace (not \xa0 or \u3000) into one space
    return page.encode("gb18030"), title, [re.sub(r"[ \t\n\r\f]+", " ", l).strip() for l in body]


def test_html_gov_page_keeps_content_drops_furniture(tmp_path):
    data, title, paragraphs = _seed_004_page()
    f = tmp_path / "page.html"
    f.write_bytes(data)
    rt = read_document(f)
    assert (rt.format, rt.encoding, rt.source_file) == ("html", "gb18030", "page.html")

    for gone in ("走进庄河", "互动交流", "应急文件", "统计代码", "脚本内容", "页脚脚本", "版权所有",
                 "欢迎访问", "首页", "分享到", "相关链接"):
        assert gone in data.decode("gb18030") and gone not in rt.text, gone
    lines = [l.strip() for l in rt.text.split("\n")]
    assert lines == [title] + paragraphs  # each paragraph, and each <br> line, on its own line
    assert "庄政发〔2017〕22号" in lines
    assert any(l.startswith("(三)探索建立行政审批“绿色通道”") for l in lines)
    assert "\xa0" in rt.text  # a character outside GBK/GB2312 survived the gb2312 label


def test_html_without_container_drops_furniture_and_honours_meta_charset(tmp_path):
    paragraphs = ["第一條　為推進安全生產領域信用體系建設，制定本辦法。", "第二條　本辦法適用於本市。"]
    page = f"""<html><head><meta charset="big5"></head><body>
<header>網站首頁</header><nav><a>走進本市</a></nav><div class="TopMenu"><a>互動交流</a></div>
<div class="toolbar">【字體：大 中 小】</div>
{"".join(f"<p>{p}</p>" for p in paragraphs)}
<div id="Footer">聯繫我們</div><footer>版權所有</footer></body></html>"""
    data = page.encode("big5")
    assert data.decode("gb18030") != page  # Big5 bytes also decode as (garbled) GB18030: the label must win
    f = tmp_path / "big5.html"
    f.write_bytes(data)
    rt = read_document(f)
    assert rt.encoding == "big5"
    assert rt.text.split("\n") == paragraphs


def test_html_inline_markup_tables_and_utf8_without_meta(tmp_path):
    page = """<html><body><form id="form1" action="x.aspx">
<div><div><p>第一条　<b>【制定依据】</b>为推进<a href="#">安全生产</a>工作，制定本办法。</p></div></div>
<p>第二条<br>本办法适用于本市。</p><p>&nbsp;</p><p>&nbsp;</p>
<table><tr><td>组长</td><td>张三</td></tr><tr><th>副组长</th><td>李四</td></tr></table>
<ul><li>（一）甲</li><li>（二）乙</li></ul>
<pre>保留  空格
第二行</pre>
</form></body></html>"""
    f = tmp_path / "inline.HTM"
    f.write_bytes(page.encode("utf-8"))
    rt = read_document(f)
    assert rt.encoding == "utf-8"
    assert rt.text.split("\n") == [
        "第一条　【制定依据】为推进安全生产工作，制定本办法。",
        "第二条",
        "本办法适用于本市。",
        "",  # visually blank paragraphs collapse to one blank line
        "组长\t张三",  # a table row stays one line, its cells separated by tabs
        "副组长\t李四",
        "（一）甲",
        "（二）乙",
        "保留  空格",
        "第二行",
    ]


# ---------------------------------------------------------------- .docx

def test_docx_paragraphs_and_table_in_body_order(tmp_path):
    import docx

    paragraphs = [l for l in seed(SEED_003).split("\n") if l.strip()]
    d = docx.Document()
    for p in paragraphs[:5]:
        d.add_paragraph(p)
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "信用等级", "认定部门"
    table.cell(1, 0).merge(table.cell(1, 1)).text = "应急管理部门"
    for p in paragraphs[5:]:
        d.add_paragraph(p)
    f = tmp_path / "seed003.docx"
    d.save(str(f))

    rt = read_document(f)
    assert (rt.format, rt.source_file, rt.encoding) == ("docx", "seed003.docx", None)
    assert rt.text.split("\n") == paragraphs[:5] + ["信用等级\t认定部门", "应急管理部门"] + paragraphs[5:]


# ---------------------------------------------------------------- .pdf

def _make_pdf(path: Path, lines: list[str]) -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    c.setFont("STSong-Light", 10)
    y = 800
    for line in lines:
        while line:  # break long lines mid-sentence, as Chinese PDFs do
            c.drawString(30, y, line[:45])
            line, y = line[45:], y - 14
        if y < 60:
            c.showPage()
            c.setFont("STSong-Light", 10)
            y = 800
    c.save()


def test_pdf_cid_font_round_trips(tmp_path):
    lines = [l for l in seed(SEED_003).split("\n") if l.strip()][:15]
    f = tmp_path / "seed003.pdf"
    _make_pdf(f, lines)
    rt = read_document(f)
    assert (rt.format, rt.source_file) == ("pdf", "seed003.pdf")
    assert "第四条" in rt.text
    assert "纳入安全生产守信联合激励对象的生产经营单位，须同时符合下列条件：" in squash(rt.text)
    assert squash(rt.text) == squash("".join(lines))
    assert "(cid:" not in rt.text


def test_pdf_pages_joined_and_blank_pages_warned(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    f = tmp_path / "three.pdf"
    c = canvas.Canvas(str(f))
    for i, text in enumerate(("第一页内容", None, "第三页内容")):
        if text:
            c.setFont("STSong-Light", 12)
            c.drawString(50, 700, text)
        c.showPage()
    c.save()
    rt = read_document(f)
    assert rt.text == "第一页内容\n\n第三页内容"
    assert len(rt.warnings) == 1 and "page 2" in rt.warnings[0]


def test_pdf_without_text_is_refused(tmp_path):
    from reportlab.pdfgen import canvas

    f = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(f))
    c.rect(100, 100, 200, 200, fill=1)  # an image-like page: drawing, no text
    c.showPage()
    c.save()
    with pytest.raises(ReadError, match=r"^scan\.pdf: .*no extractable text"):
        read_document(f)


# ---------------------------------------------------------------- errors

def _noise(n: int = 4096) -> bytes:
    return random.Random(20240601).randbytes(n)


def _zip_without_word_parts() -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a word document")
    return buf.getvalue()


@pytest.mark.parametrize("name, data, expect", [
    ("empty.txt", b"", "empty"),
    ("blank.txt", b" \r\n\t\n", "empty"),
    ("empty.pdf", b"", "empty"),
    ("noise.txt", _noise() + b"\x00\x00", "binary"),
    ("noise_no_nul.txt", _noise().replace(b"\x00", b"\x01"), "encoding|binary|readable"),
    ("controls.txt", bytes(range(1, 32)) * 50, "binary|readable"),
    ("noise.html", _noise() + b"\x00", "binary"),
    ("notes.xyz", "第一条 内容".encode("utf-8"), r"unsupported file type \.xyz; expected one of \.txt \.html \.htm \.docx \.pdf"),
    ("README", b"hello", "unsupported file type"),
    ("corrupt.docx", _noise(), r"\.docx"),
    ("notword.docx", _zip_without_word_parts(), r"\.docx"),
    ("corrupt.pdf", b"%PDF-1.4\n" + _noise(), "PDF"),
    ("script.html", b"<html><body><script>var a = 1;</script></body></html>", "no text"),
])
def test_bad_files_raise_read_error_naming_the_file(tmp_path, name, data, expect):
    f = tmp_path / name
    f.write_bytes(data)
    with pytest.raises(ReadError) as exc:
        read_document(f)
    msg = str(exc.value)
    assert msg.startswith(f"{name}: ")
    assert "\n" not in msg
    assert re.search(expect, msg), msg
    assert exc.value.source == name


def test_missing_file_and_folder_raise_read_error(tmp_path):
    with pytest.raises(ReadError, match=r"^gone\.txt: no such file or folder$"):
        read_document(tmp_path / "gone.txt")
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(ReadError, match=r"^dir\.txt: "):
        read_document(tmp_path / "dir.txt")


# ---------------------------------------------------------------- iter_input_files

def test_iter_input_files_expands_folders_sorted(tmp_path):
    root = tmp_path / "in"
    files = ["b.txt", "a.html", "sub/c.docx", "sub/Z.htm", "sub/deeper/d.PDF", "sub.txt",
             ".hidden.txt", ".git/e.txt", "sub/.cache/f.pdf", "x.xyz", "sub/notes.md"]
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("正文", encoding="utf-8")
    explicit = tmp_path / "loose.xyz"
    explicit.write_text("x")

    got = iter_input_files([str(root), explicit, root / "b.txt"])  # b.txt twice: listed once
    assert got == [root / "a.html", root / "b.txt", root / "sub/Z.htm", root / "sub/c.docx",
                   root / "sub/deeper/d.PDF", root / "sub.txt", explicit]
    assert all(p.suffix.lower() in SUPPORTED for p in got[:-1])

    with pytest.raises(ReadError, match=r"^nope: no such file or folder$"):
        iter_input_files([root, tmp_path / "nope"])


def test_big5_and_utf16_without_bom_are_read(tmp_path):
    text = "無錫市安全生產領域信用管理暫行辦法\n第一條 為了加強安全生產領域信用管理，制定本辦法。\n"
    big5 = tmp_path / "big5.txt"
    big5.write_bytes(text.encode("big5"))
    u16 = tmp_path / "u16.txt"
    u16.write_bytes(text.encode("utf-16-le"))
    for f in (big5, u16):
        assert "信用管理暫行辦法" in read_document(f).text, f


def test_one_bad_path_does_not_stop_the_others(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.txt").write_text("某市安全生产守信激励办法\n第一条 对守信企业，减少执法检查频次。\n", encoding="utf-8")
    (root / "loop").symlink_to(root / "loop")  # a link to itself
    refused: list[str] = []
    got = iter_input_files([root, tmp_path / "nope.txt"], refused)
    assert got == [root / "a.txt"]
    assert any("nope.txt: no such file or folder" in r for r in refused)
    assert all("\n" not in r for r in refused)
