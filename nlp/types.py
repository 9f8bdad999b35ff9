"""The structures the NLP layer produces: plain frozen dataclasses, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


class XinyiError(Exception):
    """An error a user can act on: one line naming the file (and line or field) and what was expected."""


class ReadError(XinyiError):
    def __init__(self, source: str, message: str, line: Optional[int] = None):
        self.source, self.line, self.message = source, line, message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class RawText:
    """Text read from a file: `text` is the document as a person would read it, one paragraph a line."""
    source_file: str
    format: str  # txt | html | docx | pdf
    text: str
    encoding: Optional[str] = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    """One logical line after normalisation: `text` in canonical form (nlp/canonical.py), `printed` the same
    line verbatim (same length), `lineno` 1-based in the source."""
    text: str
    lineno: int
    printed: str = ""


@dataclass
class Clause:
    id: str
    path: list[str]            # printed labels, outermost first
    label: str                 # printed label of this clause ("" for the preamble)
    style: str                 # heading style key (article, cn, paren_cn, num, paren_num, shi, ...)
    heading: str               # the short title after the label when the clause is a heading
    text: str                  # verbatim text of the clause itself (label included), children excluded
    lineno: int
    parent_id: Optional[str] = None
    children: list["Clause"] = field(default_factory=list)
    body: list[str] = field(default_factory=list)      # own paragraphs after the label, trailers excluded
    trailers: list[str] = field(default_factory=list)  # 实施单位：… lines that close the clause

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass
class Measure:
    id: str
    clause_id: str
    path: list[str]
    kind: str                  # incentive | penalty | other
    text: str
    departments: list[str]
    department_ids: list[str] = field(default_factory=list)


@dataclass
class Condition:
    id: str
    clause_id: str
    path: list[str]
    role: str                  # incentive_eligibility | penalty_trigger | scope | other
    text: str
    predicate: Optional[dict[str, Any]]
    group: str = ""            # conditions read from one list share a group


@dataclass
class Rule:
    id: str
    kind: str                  # incentive | penalty
    combinator: str            # all | any
    condition_ids: list[str]
    measure_ids: list[str]
    clause_id: str = ""
    note: str = ""


@dataclass
class ParsedDocument:
    source_file: str
    title: Optional[str]
    doc_number: Optional[str]
    issuer: Optional[str]
    jurisdiction: Optional[str]
    issued_on: Optional[str]
    effective_from: Optional[str]
    clauses: list[Clause]       # flat, in document order (the tree is in parent_id/children)
    measures: list[Measure]
    conditions: list[Condition]
    rules: list[Rule]
    text: str                   # the normalised text the clauses were read from
    content_hash: str = ""
    format: str = "txt"
    warnings: list[str] = field(default_factory=list)
