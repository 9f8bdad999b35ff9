"""RawText → ParsedDocument: normalise, find the content and metadata, build the clause tree, extract."""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

from .canonical import PrintedMap, in_script_of
from .extract import extract
from .metadata import read_metadata, split_parts
from .normalize import normalize_lines
from .structure import build_tree
from .types import Clause, Condition, Measure, ParsedDocument, RawText, ReadError


@lru_cache(maxsize=1)
def extractor_version() -> str:
    """A fingerprint of the code and data that read documents: when it changes, stored texts are re-read."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*root.glob("*.py"), *root.glob("data/**/*")]):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def document_id(source_file: str) -> str:
    stem = source_file.rsplit(".", 1)[0]
    if re.fullmatch(r"[A-Za-z0-9_\-]{1,60}", stem):
        return stem
    return "d" + hashlib.sha1(source_file.encode("utf-8")).hexdigest()[:12]


def printed_map(lines) -> PrintedMap:
    return PrintedMap("\n".join(l.text for l in lines), "\n".join(l.printed or l.text for l in lines))


def as_printed(printed: PrintedMap, lines, clauses: list[Clause], measures: list[Measure],
               conditions: list[Condition]) -> None:
    """Everything the extractor read in canonical text is stored and quoted as printed (a traditional page
    is cited in traditional characters). Each clause is looked up at its own line first."""
    if printed.identity:
        return
    offset, at = {}, 0
    for line in lines:
        offset.setdefault(line.lineno, at)
        at += len(line.text) + 1
    paths: dict[str, list[str]] = {}
    for c in clauses:
        near = offset.get(c.lineno, 0)
        c.label, c.heading, c.text = printed(c.label, near), printed(c.heading, near), printed(c.text, near)
        c.path = (paths.get(c.parent_id, []) if c.parent_id else []) + ([c.label] if c.label else [])
        paths[c.id] = c.path
        c.body = [printed(b, near) for b in c.body]
        c.trailers = [printed(t, near) for t in c.trailers]
    near_of = {c.id: offset.get(c.lineno, 0) for c in clauses}
    for m in measures:
        near = near_of.get(m.clause_id, 0)
        m.path, m.text = paths.get(m.clause_id, m.path), printed(m.text, near)
        m.departments = [printed(d, near) for d in m.departments]
    for k in conditions:
        near = near_of.get(k.clause_id, 0)
        k.path, k.text = paths.get(k.clause_id, k.path), printed(k.text, near)
        quote_attestations(k.predicate, lambda t: printed(t, near))


def quote_attestations(node, quote) -> None:
    """An attestation asks in the clause's own words: its wording is quoted as printed (its key stays canonical)."""
    if not isinstance(node, dict):
        return
    if "attested" in node:
        node["text"] = quote(node["text"])
    for child in [*node.get("all", []), *node.get("any", []), node.get("not")]:
        quote_attestations(child, quote)


def jurisdiction_as_printed(jurisdiction: Optional[str], title: Optional[str]) -> Optional[str]:
    """A place is written as the document writes its title (遼寧省營口市 for a traditional page); 全国 is the
    contract's constant, not a place name. Matching regions reads either script."""
    if not jurisdiction or jurisdiction == "全国":
        return jurisdiction
    return in_script_of(jurisdiction, title)


def parse_document(raw: RawText) -> ParsedDocument:
    lines, warnings = normalize_lines(raw.text)
    if not lines:
        raise ReadError(raw.source_file, "no text left after removing page furniture")
    parts = split_parts(lines)
    doc_id = document_id(raw.source_file)
    clauses, tree_warnings = build_tree(parts.content, f"{doc_id}-")
    if not any(c.style != "preamble" for c in clauses):
        tree_warnings.append("no clause structure found (no 第X条, 一、, （一）, 1. labels): read as one passage")
    meta = read_metadata(lines, parts)
    try:
        measures, conditions, rules, extract_warnings = extract(doc_id, clauses)
    except Exception as exc:  # an unforeseen shape must not cost the document its text and clause tree
        measures, conditions, rules = [], [], []
        extract_warnings = [f"extraction failed ({type(exc).__name__}: {exc}); stored with its clauses only"]
    printed = printed_map(lines)
    as_printed(printed, lines, clauses, measures, conditions)
    warnings = [*raw.warnings, *warnings, *tree_warnings, *extract_warnings]
    if not measures:
        warnings.append("no measures found: ingested for its clauses only")
    return ParsedDocument(
        source_file=raw.source_file, title=printed(meta.title), doc_number=printed(meta.doc_number),
        issuer=printed(meta.issuer), jurisdiction=jurisdiction_as_printed(meta.jurisdiction, printed(meta.title)),
        issued_on=meta.issued_on,
        effective_from=meta.effective_from,
        clauses=clauses, measures=measures, conditions=conditions, rules=rules,
        text=raw.text, content_hash=hashlib.sha256(raw.text.encode("utf-8")).hexdigest(),
        format=raw.format, warnings=warnings)
