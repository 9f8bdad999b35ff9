"""The .pdf and .docx parsers, run in a child process under a budget (see nlp/budget.py, which starts it).

    python -P nlp/isolated.py < HEADER_LINE + FILE_BYTES  ->  {"text": …, "warnings": […]} | {"error": "…"}

The header line is JSON {"kind": "pdf"|"docx", "name": …, "limits": {…}}; the rest of stdin is the file. Before
parsing, the child limits its own address space (RLIMIT_AS) and CPU time. This file imports only the standard
library and the parsers: nothing of the `nlp` package (whose import costs jieba's).

A .docx is refused from its zip directory — the uncompressed sizes it declares, summed, a member's compression
ratio, the number of members — before anything is decompressed (zipfile never returns more than a member's
declared size), and every XML part is then parsed by defusedxml, which refuses a DTD, so entity expansion (billion
laughs) and external entities never reach python-docx's lxml. In a .pdf, a reference that leads back to itself
is refused (pdfminer would follow it forever), and the page count is read from the page tree before any page is.
"""
from __future__ import annotations

import io
import json
import re
import sys
import zipfile


class Refused(Exception):
    """A one-line reason, shown after the file's name."""


def _mb(n: float) -> str:
    mb = n / (1 << 20)
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.1f} MB"


# ---------------------------------------------------------------- DOCX

def check_zip(zf: zipfile.ZipFile, limits: dict) -> None:
    """Refuse a zip bomb from what its central directory declares; nothing is decompressed here."""
    members = zf.infolist()
    if len(members) > limits["max_docx_members"]:
        raise Refused(f"refused — {len(members)} members in the zip exceed the {limits['max_docx_members']} limit "
                      f"for a .docx")
    declared = sum(m.file_size for m in members)
    if declared > limits["max_docx_mb"] * (1 << 20):
        raise Refused(f"refused — declared uncompressed size {_mb(declared)} exceeds the {limits['max_docx_mb']:g} MB "
                      f"limit for a .docx (XINYI_MAX_DOCX_MB)")
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > 5 << 20 and ratio > limits["max_docx_ratio"]:
            raise Refused(f"refused — {m.filename} declares {_mb(m.file_size)} compressed {ratio:.0f}:1, over the "
                          f"{limits['max_docx_ratio']:g}:1 limit for a .docx member (a zip bomb?)")


def _looks_like_xml(head: bytes) -> bool:
    # BOMs and NULs stripped, so UTF-16/32 XML is recognised too; images and fonts start otherwise
    return head.lstrip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe").startswith(b"<")


def check_xml_parts(zf: zipfile.ZipFile) -> None:
    """Every member that is XML (by its first bytes, whatever its name) through defusedxml, no DTD allowed."""
    import xml.sax
    from defusedxml import DefusedXmlException, DTDForbidden
    from defusedxml.sax import parseString

    for m in zf.infolist():
        if m.is_dir():
            continue
        with zf.open(m) as fh:
            head = fh.read(64)
        if not _looks_like_xml(head):
            continue
        try:
            parseString(zf.read(m), xml.sax.ContentHandler(), forbid_dtd=True)
        except DTDForbidden:
            raise Refused(f"refused — {m.filename} declares a DTD (<!DOCTYPE …>: entity expansion, billion "
                          f"laughs, external entities); a Word document has none") from None
        except DefusedXmlException as e:
            raise Refused(f"refused — {m.filename}: {type(e).__name__} (entity expansion or an external "
                          f"reference)") from None
        except xml.sax.SAXParseException as e:
            raise Refused(f"not a readable .docx: {m.filename} is not well-formed XML ({e.getMessage()}, "
                          f"line {e.getLineNumber()})") from None


def read_docx(data: bytes, name: str, limits: dict) -> tuple[str, list[str]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        check_zip(zf, limits)
        check_xml_parts(zf)
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        doc = docx.Document(io.BytesIO(data))
        lines: list[str] = []

        def walk(parent_el, parent) -> None:
            # Body XML children in order, so tables stay where they are in the document.
            for el in parent_el.iterchildren():
                tag = el.tag.rsplit("}", 1)[-1]
                if tag == "p":
                    lines.append(Paragraph(el, parent).text)
                elif tag == "tbl":
                    for row in Table(el, parent).rows:
                        last, cells = None, []
                        for cell in row.cells:
                            if cell._tc is last:  # merged cells repeat the same <w:tc>
                                continue
                            last = cell._tc
                            cells.append(" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
                        lines.append("\t".join(cells))  # one row a line, cells separated by tabs
                elif tag == "sdt":  # content controls wrap ordinary paragraphs/tables
                    for content in el.iterchildren("{*}sdtContent"):
                        walk(content, parent)

        walk(doc.element.body, doc)
    except (Refused, MemoryError, RecursionError):
        raise
    except Exception as e:  # zipfile.BadZipFile, KeyError, lxml errors, PackageNotFoundError...
        if "NO_MEMORY" in str(getattr(e, "error_log", "")):  # libxml2 out of memory, told as a syntax error
            raise MemoryError from None
        raise Refused(f"not a readable .docx file ({type(e).__name__}); "
                      "expected a Word 2007+ document (save old .doc files as .docx)") from None
    text = "\n".join(lines)
    if not text.strip():
        raise Refused("the .docx has no text; expected a document with paragraphs")
    return text, []


# ---------------------------------------------------------------- PDF

def _refuse_reference_loops() -> None:
    """pdfminer resolves a reference with `while isinstance(x, PDFObjRef): x = x.resolve()`: an object that is
    a reference to another that refers back never ends. Make one resolve follow the whole chain, and refuse a
    loop. (This patches pdfminer in this child process only.)"""
    from pdfminer.pdftypes import PDFObjRef

    plain = PDFObjRef.resolve
    if getattr(plain, "refuses_loops", False):
        return

    def resolve(self, default=None):
        chain = [self.objid]
        x = plain(self, default)
        while isinstance(x, PDFObjRef):
            if x.objid in chain:
                loop = " → ".join(map(str, chain[chain.index(x.objid):] + [x.objid]))
                raise Refused(f"refused — its objects refer to each other in a loop (object {loop}); "
                              "a well-formed PDF has none")
            chain.append(x.objid)
            x = plain(x, default)
        return x

    resolve.refuses_loops = True
    PDFObjRef.resolve = resolve


def _refusal_inside(exc: BaseException):
    """pdfplumber wraps what pdfminer raises (PdfminerException(e)): find our own refusal in the chain."""
    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, (Refused, MemoryError)):
            return e
        stack += [x for x in (e.__cause__, e.__context__, *e.args) if isinstance(x, BaseException)]
    return None


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z0-9])")


def read_pdf(data: bytes, name: str, limits: dict) -> tuple[str, list[str]]:
    warnings: list[str] = []
    pages: list[str] = []
    most = limits["max_pdf_pages"]
    try:
        import pdfplumber
        from pdfminer.pdfpage import PDFPage
        from pdfminer.pdftypes import resolve1
        from pdfplumber.page import Page

        # page objects written out plainly, counted in the bytes: a huge page tree is refused before pdfminer
        # parses it (its /Kids array alone takes seconds); pages inside object streams are counted below
        plain = len(_PAGE_OBJECT.findall(data))
        if plain > most:
            raise Refused(f"refused — {plain} pages exceed the {most}-page limit for a .pdf (XINYI_MAX_PDF_PAGES)")
        _refuse_reference_loops()
        pdf = pdfplumber.open(io.BytesIO(data))  # not `with`: PDF.close() would build every page
        tree = resolve1(pdf.doc.catalog.get("Pages"))
        declared = resolve1(tree.get("Count")) if isinstance(tree, dict) else None
        if isinstance(declared, int) and declared > most:
            raise Refused(f"refused — {declared} pages exceed the {most}-page limit for a .pdf (XINYI_MAX_PDF_PAGES)")
        doctop = 0
        # pages one at a time (pdfplumber's `pdf.pages` builds them all first), so a page tree holding more
        # pages than it declares is stopped at the limit
        for i, page in enumerate(PDFPage.create_pages(pdf.doc), 1):
            if i > most:
                raise Refused(f"refused — more than {most} pages (the limit for a .pdf, XINYI_MAX_PDF_PAGES)")
            p = Page(pdf, page, page_number=i, initial_doctop=doctop)
            t = p.extract_text() or ""
            doctop += p.height
            p.close()
            if not t.strip():
                warnings.append(f"{name}: page {i} has no extractable text (scanned image?)")
            pages.append(t)
    except Exception as e:  # pdfminer PDFSyntaxError, PSEOF, password errors, pdfplumber wrappers...
        own = _refusal_inside(e)
        if own is not None:
            raise own from None
        if isinstance(e, RecursionError):
            raise
        raise Refused(f"not a readable PDF ({type(e).__name__}); expected an unencrypted PDF file") from None
    text = "\n".join(pages).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise Refused("the PDF has no extractable text (scanned images?); run OCR first")
    if text.count("(cid:") > 10:
        # pdfminer prints (cid:N) for glyphs whose font has no Unicode mapping.
        warnings.append(f"{name}: some characters could not be mapped to Unicode and appear as (cid:N)")
    return text, warnings


# ---------------------------------------------------------------- the child

READERS = {"pdf": read_pdf, "docx": read_docx}
IMPORTS = {"pdf": ("pdfplumber", "pdfminer.pdfpage"), "docx": ("docx", "defusedxml.sax", "xml.sax")}


def _limit_self(limits: dict) -> None:
    import math
    import resource

    mem = int(limits["memory_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    # the parent kills at the deadline; this ends the child even if the parent is gone
    cpu = math.ceil(limits["timeout_s"]) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def main() -> int:
    import importlib

    stdin = sys.stdin.buffer
    header = json.loads(stdin.readline())
    data = stdin.read()
    kind, name, limits = header["kind"], header["name"], header["limits"]
    for module in IMPORTS[kind]:  # imported before the memory limit: their cost is not the file's
        importlib.import_module(module)
    _limit_self(limits)
    try:
        text, warnings = READERS[kind](data, name, limits)
        answer = {"text": text, "warnings": warnings}
    except Refused as e:
        answer = {"error": str(e)}
    except MemoryError:
        text = warnings = None
        answer = {"error": f"refused — reading it needs more than the {limits['memory_mb']:g} MB memory limit for "
                           f"a .{kind} (XINYI_READ_MEMORY_MB)"}
    except RecursionError:
        answer = {"error": f"refused — its structure nests too deeply to read (RecursionError); expected an "
                           f"ordinary .{kind} file"}
    sys.stdout.buffer.write(json.dumps(answer, ensure_ascii=False).encode("utf-8"))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
