"""Read .txt/.html/.docx/.pdf files into `RawText`: the document's text, one paragraph a line.

Nothing here interprets the text: furniture removal, width folding and line joining happen later.
"""
from __future__ import annotations

import codecs
import functools
import os
import re
import unicodedata
from pathlib import Path
from typing import Iterator, Optional, Union

from .budget import Limits, read_file_bytes, run_isolated
from .types import RawText, ReadError

SUPPORTED = (".txt", ".html", ".htm", ".docx", ".pdf")

PathLike = Union[str, Path]

_BOMS = (  # checked in order; each codec is applied to the bytes after the BOM
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# ---------------------------------------------------------------- public API

def read_document(path: PathLike, limits: Optional[Limits] = None) -> RawText:
    """Read one file under `limits` (default: `Limits.from_env()`); every failure, a refusal by a limit among
    them, is a one-line `ReadError` naming the file."""
    p = Path(path)
    name = p.name or str(p)
    ext = p.suffix.lower()
    if ext not in SUPPORTED:
        shown = ext or "(none)"
        raise ReadError(name, f"unsupported file type {shown}; expected one of {' '.join(SUPPORTED)}")
    if p.is_dir():
        raise ReadError(name, "is a folder; expected a file")
    limits = limits or Limits.from_env()
    data = read_file_bytes(p, name, limits)
    if not data.strip():
        raise ReadError(name, "file is empty; expected a document with text")

    if ext == ".txt":
        text, enc = _decode(data, name)
        _check_readable(text, name)
        return RawText(name, "txt", text, enc)
    if ext in (".html", ".htm"):
        text, enc = _read_html(data, name)
        return RawText(name, "html", text, enc)
    if ext == ".docx":  # parsed in a child process, under the time and memory budget (nlp/budget.py)
        text, _ = run_isolated("docx", data, name, limits)
        return RawText(name, "docx", text)
    text, warnings = run_isolated("pdf", data, name, limits)
    return RawText(name, "pdf", text, None, warnings)


def iter_input_files(paths: list[PathLike], refused: Optional[list[str]] = None) -> list[Path]:
    """Expand folders (recursively, sorted, hidden entries skipped, supported types only); keep named files.
    A path that cannot be used (missing, unreadable folder, a link that loops) raises ReadError — or, when
    `refused` is given, is told there in one line naming it, and the others go on."""
    out: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        try:
            if p.is_dir():
                found = _walk_folder(p, refused)
            elif p.exists():
                found = [p]  # an explicitly named file is kept even if unsupported: read_document explains why
            elif p.is_symlink():
                raise ReadError(printable(p), "cannot be followed (a link that loops or points nowhere)")
            else:
                raise ReadError(p.name or str(p), "no such file or folder")
        except ReadError as exc:
            if refused is None:
                raise
            refused.append(str(exc))
            continue
        for f in found:
            try:
                key = f.resolve(strict=True)
            except (OSError, RuntimeError):  # a link that loops or points nowhere
                exc = ReadError(printable(f), "cannot be followed (a link that loops or points nowhere)")
                if refused is None:
                    raise exc from None
                refused.append(str(exc))
                continue
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def printable(path: Path) -> str:
    """A path as a one-line message can show it, even when its name is not valid UTF-8."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def _walk_folder(root: Path, refused: Optional[list[str]] = None) -> list[Path]:
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        if refused is not None:
            refused.append(f"{printable(Path(exc.filename or root))}: cannot be read ({exc.strerror})")
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for fn in filenames:
            if not fn.startswith(".") and Path(fn).suffix.lower() in SUPPORTED:
                found.append(Path(dirpath) / fn)
    return sorted(found, key=lambda f: f.relative_to(root).parts)


# ---------------------------------------------------------------- decoding

def _decode(data: bytes, name: str, declared: Optional[str] = None) -> tuple[str, str]:
    """Bytes -> (text with "\\n" line endings, codec name). BOM, then `declared`, UTF-8, GB18030, charset-normalizer."""
    text, enc = None, None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text, enc = data[len(bom):].decode(codec), codec
            except UnicodeDecodeError:
                raise ReadError(name, f"bytes are not valid {codec} despite the byte-order mark") from None
            break
    if text is None and b"\x00" in data:
        text, enc = _utf16_without_bom(data)
        if text is None:
            raise ReadError(name, "looks like binary data (NUL bytes); expected a text document")
    if text is None:
        # Big5 bytes (Taiwan/Hong Kong copies) also decode as GB18030, into noise: a decoding that reads as
        # noise is not taken, and the next is tried
        for codec in filter(None, (declared, "utf-8", "gb18030", "big5")):
            try:
                candidate = data.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
            if codec in ("utf-8", declared) or not _noisy(candidate):
                text, enc = candidate, codec
                break
    if text is None:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise ReadError(name, "cannot determine the text encoding; expected UTF-8 or GB18030/GBK text")
        text, enc = str(best), best.encoding
    return text.replace("\r\n", "\n").replace("\r", "\n"), enc


def _utf16_without_bom(data: bytes) -> tuple[Optional[str], Optional[str]]:
    """UTF-16 text without a byte-order mark: NUL bytes on one side of the pairs only (from ASCII and line
    ends), and a decoding that reads as Chinese text; None when the bytes are not that."""
    even, odd = data[0::2].count(0), data[1::2].count(0)
    pairs = max(1, len(data) // 2)
    for codec, zeros in (("utf-16-le", odd), ("utf-16-be", even)):
        if len(data) % 2 == 0 and zeros > 0 and min(even, odd) < 0.05 * pairs:
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            if not _noisy(text) and _cjk_count(text) > 0.3 * len(text.strip() or "x"):
                return text, codec
    return None, None


_NOISE_CATEGORIES = ("Cc", "Co", "Cn", "Cs")


@functools.cache
def _plain_class() -> re.Pattern:
    """Runs of characters that are neither space nor noise, from the ranges text is mostly made of (checked
    one by one here, so the class holds no unassigned or control character of this Python's Unicode)."""
    ranges = ((0x21, 0x7E), (0xA1, 0x24F), (0x2010, 0x2027), (0x2030, 0x205E), (0x2100, 0x22FF),
              (0x2460, 0x27BF), (0x3001, 0x303F), (0x3040, 0x30FF), (0x3400, 0x9FFF), (0xF900, 0xFAFF),
              (0xFE30, 0xFE4F), (0xFF01, 0xFFEF))
    keep = [c for lo, hi in ranges for c in map(chr, range(lo, hi + 1))
            if not c.isspace() and unicodedata.category(c) not in _NOISE_CATEGORIES]
    spans: list[list[str]] = []
    for c in keep:
        if spans and ord(c) == ord(spans[-1][1]) + 1:
            spans[-1][1] = c
        else:
            spans.append([c, c])
    return re.compile("[" + "".join(re.escape(a) if a == b else f"{re.escape(a)}-{re.escape(b)}"
                                    for a, b in spans) + "]+")


_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def _visible_and_noise(text: str) -> tuple[int, int]:
    """(characters that are not space, those of them that are control, private-use, unassigned, surrogate or
    replacement ones) — the common characters counted in runs by a regex, only the rest one by one (linear,
    and fast on megabytes)."""
    rest = _plain_class().sub("", text)
    visible = len(text) - len(rest)
    noise = 0
    for c in rest:
        if not c.isspace():
            visible += 1
            noise += c == "\ufffd" or unicodedata.category(c) in _NOISE_CATEGORIES
    return visible, noise


def _noisy(text: str) -> bool:
    """More than 5 % of the visible characters are control, private-use, unassigned or replacement ones."""
    visible, noise = _visible_and_noise(text)
    return bool(visible) and noise > 0.05 * visible


def _cjk_count(text: str) -> int:
    return len(text) - len(_CJK.sub("", text))


def _check_readable(text: str, name: str) -> None:
    visible, noise = _visible_and_noise(text)
    if not visible:
        raise ReadError(name, "file has no text; expected a document with text")
    if noise > 0.05 * visible:
        raise ReadError(name, "looks like binary data (mostly non-printable characters); expected a text document")
    if not _CJK.search(text):
        readable = sum(1 for c in text if c.isalnum() or c in ".,;:!?'\"()-")
        if readable < 0.5 * visible:
            raise ReadError(name, "no Chinese or other readable text found; expected a text document")


# ---------------------------------------------------------------- HTML

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_JUNK_WORDS = ("nav", "menu", "breadcrumb", "footer", "header", "share", "toolbar")
_MAIN_WORDS = ("content", "article", "zoom", "trs_editor")
_BLOCK_TAGS = frozenset(
    "p div li ul ol dl dt dd h1 h2 h3 h4 h5 h6 tr table thead tbody tfoot caption section article main aside "
    "blockquote pre center address figure figcaption hr body".split()
)
_CELL_TAGS = frozenset(("td", "th"))
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")  # only these collapse in HTML; \xa0 and \u3000 are content


def _declared_charset(data: bytes) -> Optional[str]:
    m = _META_CHARSET.search(data[:4096])
    if not m:
        return None
    try:
        codec = codecs.lookup(m.group(1).decode("ascii")).name
    except LookupError:
        return None
    # Pages labelled gb2312/gbk routinely contain GBK/GB18030-only characters; GB18030 is a superset of both.
    return "gb18030" if codec in ("gb2312", "gbk", "hz") else codec


def _read_html(data: bytes, name: str) -> tuple[str, str]:
    from selectolax.lexbor import LexborHTMLParser  # selectolax >= 1.0 dropped the Modest `parser.HTMLParser`

    html, enc = _decode(data, name, _declared_charset(data))
    try:
        tree = LexborHTMLParser(html)
        root = tree.body or tree.root
        if root is None:
            raise ReadError(name, "no <body> found; expected an HTML page with text")
        _drop(root.css("script, style, noscript, template, iframe"))
        root = _main_container(root)
        total = _text_len(root)

        def furniture(n) -> bool:
            if n.tag in ("nav", "header", "footer"):
                return True
            # ASP.NET-style pages wrap the whole page in one <form>; class names like "content-header-wrap"
            # can sit on a wrapper: never drop an element holding most of the text.
            return (n.tag == "form" or _is_junk(n)) and _text_len(n) <= total / 2

        _drop([n for n in root.css("nav, header, footer, form, [id], [class]") if n is not root and furniture(n)])
        text = _block_text(root)
    except ReadError:
        raise
    except Exception as e:
        raise ReadError(name, f"cannot parse HTML ({type(e).__name__}); expected a well-formed page") from None
    if not text.strip():
        raise ReadError(name, "no text found in the page body; expected an HTML page with text")
    _check_readable(text, name)
    return text, enc


def _drop(nodes: list) -> None:
    """Decompose nodes, skipping those inside another doomed node (touching a destroyed node is use-after-free)."""
    doomed = {n.mem_id for n in nodes}
    keep = []
    for n in nodes:
        p = n.parent
        while p is not None and p.mem_id not in doomed:
            p = p.parent
        if p is None:
            keep.append(n)
    for n in keep:
        n.decompose()


def _attr_words(node) -> str:
    a = node.attributes
    return f"{a.get('id') or ''} {a.get('class') or ''}".lower()


def _is_junk(node) -> bool:
    words = _attr_words(node)
    return any(w in words for w in _JUNK_WORDS)


def _text_len(node) -> int:
    return len(_HTML_SPACE.sub("", node.text(deep=True) or ""))


def _main_container(body):
    """The largest article/main/content-like element, if it holds a fair share of the body's text."""
    cands = [n for n in body.css("article, main, [id], [class]")
             if n.tag in ("article", "main") or any(w in _attr_words(n) for w in _MAIN_WORDS)]
    cands = [n for n in cands if not _is_junk(n)]
    if not cands:
        return body
    best = max(cands, key=_text_len)
    return best if _text_len(best) >= 0.3 * _text_len(body) else body


def _iter_events(root) -> Iterator[tuple[str, object]]:
    """Depth-first ("open"|"close"|"text", node) events without recursion (pages nest deeply)."""
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            yield "close", node
            continue
        if node.tag == "-text":
            yield "text", node
            continue
        if node.tag.startswith("-") or node.tag.startswith("_"):
            continue  # comments, doctype
        yield "open", node
        stack.append((node, True))
        kids = []
        c = node.child
        while c is not None:
            kids.append(c)
            c = c.next
        stack.extend((k, False) for k in reversed(kids))


def _block_text(root) -> str:
    lines: list[str] = []
    cur: list[str] = []
    pre = 0

    def add(s: str) -> None:
        if s.startswith(" ") and (not cur or cur[-1].endswith(" ")):
            s = s[1:]  # adjacent collapsible spaces across inline boundaries render as one
        if s:
            cur.append(s)

    def end_line(force: bool) -> None:
        line = "".join(cur).strip(" \t\n\r\f")
        cur.clear()
        if line or force:
            lines.append(line)

    for kind, node in _iter_events(root):
        tag = node.tag
        if kind == "text":
            s = node.text(deep=False) or ""
            if pre:
                parts = s.replace("\r\n", "\n").split("\n")
                for i, part in enumerate(parts):
                    if i:
                        end_line(True)
                    cur.append(part)
            else:
                add(_HTML_SPACE.sub(" ", s))
        elif tag == "br":
            if kind == "open":
                end_line(True)
        elif tag in _CELL_TAGS:
            # cells of a row stay on one line, separated by a tab, so a table reads as rows of columns
            if kind == "open" and cur and "".join(cur).strip(" \t"):
                while cur and cur[-1].endswith(" "):
                    cur[-1] = cur[-1].rstrip(" ")
                cur.append("\t")
        elif tag in _BLOCK_TAGS:
            end_line(False)
            if tag == "pre":
                pre += 1 if kind == "open" else -1
    end_line(False)

    out: list[str] = []
    for line in lines:
        if not line.strip():
            if out and out[-1] != "":
                out.append("")
        else:
            out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)
