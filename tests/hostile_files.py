"""A hostile-file corpus: each function writes one file (or a few) into `folder` and returns its path.

    python tests/hostile_files.py OUT_DIR        # writes the whole corpus (the 50 MB text too) into OUT_DIR

Every file is small on disk except the big text; what makes each hostile is what a reader would do with it.
`HOSTILE` maps each writer to the outcome `xinyi ingest` must reach: ("refused", words the refusal says) or
("read", None).
"""
from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

POLICY = ("某市安全生产守信联合激励办法\n"
          "第一条 为加强安全生产领域信用管理，制定本办法。\n"
          "第二条 对守信企业，减少执法检查频次。\n"
          "第三条 对失信企业，加大执法检查频次，依法实施联合惩戒。\n")


# ---------------------------------------------------------------- PDF

def _pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF with a correct cross-reference table: object i+1 is objects[i]."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


_CONTENT = b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def cyclic_pdf(folder: Path) -> Path:
    """The catalog's /Pages is object 2, which is a reference to 3, which is a reference to 2: pdfminer's
    resolve1 follows references in a `while` loop and never returns (pdfplumber hangs, CPU-bound, forever)."""
    f = Path(folder) / "cyclic.pdf"
    f.write_bytes(_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"3 0 R",
        b"2 0 R",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R "
        b"/Resources << /Font << /F1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(_CONTENT), _CONTENT),
        _FONT,
    ]))
    return f


def many_pages_pdf(folder: Path, pages: int = 100_000, declared: int | None = None,
                   name: str = "many_pages.pdf", lines: int = 1) -> Path:
    """`pages` pages sharing one content stream (about 8 MB for 100,000: under the per-file size limit, so the
    page count is what refuses it) of `lines` lines. `declared`: the /Count the page tree claims, if not the
    truth."""
    content = b"BT /F1 12 Tf 72 720 Td " + b"(Hello) Tj 0 -1 Td " * lines + b"ET"
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> >>"
        % (kids, pages if declared is None else declared),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        _FONT,
    ]
    page = b"<< /Type /Page /Parent 2 0 R /Contents 3 0 R >>"  # MediaBox and Resources are inherited
    objects += [page] * pages
    f = Path(folder) / name
    f.write_bytes(_pdf(objects))
    return f


# ---------------------------------------------------------------- DOCX

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '</Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/></Relationships>')


def _document_xml(body: str, doctype: str = "") -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + doctype +
            f'<w:document xmlns:w="{_W}"><w:body>{body}</w:body></w:document>')


def _paragraphs(text: str) -> str:
    return "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in text.splitlines())


def _docx(path: Path, document: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        if document is not None:
            z.writestr("word/document.xml", document)
    return path


def plain_docx(folder: Path) -> Path:
    """A well-formed .docx (the control: it must be read)."""
    return _docx(Path(folder) / "plain.docx", _document_xml(_paragraphs(POLICY)))


def docx_zip_bomb(folder: Path, gigabytes: float = 2.2, level: int = 1) -> Path:
    """A valid .docx whose word/document.xml is `gigabytes` of blanks inside the body (legal XML), deflated
    about 230:1 at `level` 1 (10 MB on disk, 5 s) or 1000:1 at 9 (2 MB, 12 s). Written through zipfile in 16 MB
    chunks, so never held in memory."""
    f = Path(folder) / "bomb.docx"
    _docx(f)
    head = _document_xml(_paragraphs(POLICY)).rsplit("</w:body>", 1)[0] + "<w:p><w:r><w:t>"
    tail = "</w:t></w:r></w:p></w:body></w:document>"
    chunk = b" " * (16 << 20)
    with zipfile.ZipFile(f, "a", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        with z.open("word/document.xml", "w", force_zip64=True) as out:
            out.write(head.encode())
            left = int(gigabytes * (1 << 30))
            while left > 0:
                out.write(chunk[:left])
                left -= len(chunk)
            out.write(tail.encode())
    return f


def billion_laughs_docx(folder: Path) -> Path:
    """word/document.xml declares ten nested entities, each ten of the one before: &lol9; is 10^9 "lol"s."""
    ents = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    doctype = f"<!DOCTYPE w:document [{ents}]>\n"
    body = _paragraphs(POLICY) + "<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>"
    return _docx(Path(folder) / "laughs.docx", _document_xml(body, doctype))


def external_entity_docx(folder: Path) -> Path:
    """word/document.xml pulls /etc/passwd in through an external entity (XXE)."""
    doctype = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    body = _paragraphs(POLICY) + "<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>"
    return _docx(Path(folder) / "xxe.docx", _document_xml(body, doctype))


# ---------------------------------------------------------------- text and paths

def big_text(folder: Path, megabytes: int = 50) -> Path:
    """A policy text repeated to `megabytes` MB (UTF-8), written in 1 MB pieces."""
    f = Path(folder) / "big.txt"
    piece = POLICY.encode("utf-8")
    block = piece * ((1 << 20) // len(piece))
    with f.open("wb") as out:
        out.write(piece)
        while out.tell() < megabytes << 20:
            out.write(block)
    return f


def symlink_loop(folder: Path) -> Path:
    """loop.txt is a link to itself."""
    f = Path(folder) / "loop.txt"
    f.symlink_to(f.name)
    return f


def big5_text(folder: Path) -> Path:
    f = Path(folder) / "big5.txt"
    f.write_bytes("無錫市安全生產領域信用管理暫行辦法\n第一條 為了加強安全生產領域信用管理，制定本辦法。\n"
                  "第二條 對守信企業，減少執法檢查頻次。\n".encode("big5"))
    return f


def utf16_without_bom(folder: Path) -> Path:
    f = Path(folder) / "utf16.txt"
    f.write_bytes(POLICY.replace("某市", "某县").encode("utf-16-le"))
    return f


def same_name_in_two_folders(folder: Path) -> Path:
    """a/notice.txt and b/notice.txt: the second of the same name in one batch is refused, saying which."""
    for sub, extra in (("a", ""), ("b", "第四条 本办法自印发之日起施行。\n")):
        (Path(folder) / sub).mkdir(exist_ok=True)
        (Path(folder) / sub / "notice.txt").write_text(POLICY.replace("某市", f"{sub}市") + extra, encoding="utf-8")
    return Path(folder) / "b" / "notice.txt"


# writer -> (outcome, words the refusal names)
HOSTILE = {
    cyclic_pdf: ("refused", "loop"),
    many_pages_pdf: ("refused", "100000 pages"),
    docx_zip_bomb: ("refused", "declared uncompressed size"),
    billion_laughs_docx: ("refused", "entity"),
    external_entity_docx: ("refused", "entity"),
    big_text: ("refused", "MB limit per file"),
    symlink_loop: ("refused", "cannot be followed"),
    same_name_in_two_folders: ("refused", "same file name"),
    plain_docx: ("read", None),
    big5_text: ("read", None),
    utf16_without_bom: ("read", None),
}


def write_all(folder: Path, big: bool = True, bomb_gb: float = 2.2) -> dict[str, tuple[str, str | None]]:
    """Every file of the corpus into `folder` (`big`: the 50 MB text too); returns {file name: (outcome, words)}."""
    out = {}
    for writer, expected in HOSTILE.items():
        if writer is big_text and not big:
            continue
        path = writer(Path(folder), gigabytes=bomb_gb) if writer is docx_zip_bomb else writer(Path(folder))
        out[path.name] = expected
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile")
    target.mkdir(parents=True, exist_ok=True)
    for name, (outcome, words) in write_all(target).items():
        print(f"{target / name}: {outcome}" + (f" ({words})" if words else ""))
