"""Logical lines → clause tree, for every heading style in data/heading_styles.jsonl.

Labels are kept exactly as printed; numbering that skips or repeats (营口 prints （十） where
（十三） belongs) is kept in order and reported as a warning.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

from .datafiles import load_regex_lines
from .labels import Label, match_label, style_rank
from .types import Clause, Line

DATA = Path(__file__).parent / "data"
HEADING_MAX = 40
ITEM_STYLES = ("num", "paren_num", "circled", "shi", "row")
BRACKET_TITLE = re.compile(r"^【([^】]{1,20})】\s*")


@lru_cache(maxsize=1)
def trailer_patterns() -> tuple[re.Pattern, ...]:
    return load_regex_lines(DATA / "trailers.txt")


def trailer_departments(line: str) -> Optional[str]:
    line = re.sub(r"^[（(](.*?)(?:[）)]。?)?$", r"\1", line.strip())  # a copy may lose the closing bracket
    for p in trailer_patterns():
        m = p.match(line)
        if m:
            return m.group("depts")
    return None


def heading_of(rest: str) -> str:
    """The short title a clause starts with: 【适用范围】, a heading-only line, or a short first sentence."""
    m = BRACKET_TITLE.match(rest)
    if m:
        return m.group(1)
    if len(rest) <= HEADING_MAX and not re.search(r"[。；;，,：:]", rest):
        return rest
    first = re.match(r"^([^。；;，,：:]{2,30})。", rest)
    return first.group(1) if first else ""


class TreeBuilder:
    def __init__(self, id_prefix: str):
        self.id_prefix = id_prefix
        self.clauses: list[Clause] = []
        self.stack: list[Clause] = []
        self.warnings: list[str] = []
        self.last_number: dict[tuple[Optional[str], str], int] = {}

    def new_clause(self, path: list[str], label: str, style: str, lineno: int, parent: Optional[Clause]) -> Clause:
        c = Clause(id=f"{self.id_prefix}c{len(self.clauses):04d}", path=path, label=label, style=style,
                   heading="", text="", lineno=lineno, parent_id=parent.id if parent else None)
        self.clauses.append(c)
        if parent:
            parent.children.append(c)
        return c

    def accepts(self, lab: Label) -> bool:
        if not lab.continuation_only:
            return True
        # "3 将…" (a digit with no dot) is a label only where it continues a running 1. 2. list
        for c in reversed(self.stack):
            if c.style == lab.style:
                return self.last_number.get((c.parent_id, c.style)) == (lab.number or 0) - 1
        return False

    def check_number(self, parent: Optional[Clause], lab: Label, lineno: int) -> None:
        key = (parent.id if parent else None, lab.style)
        prev = self.last_number.get(key)
        if lab.number is not None and prev is not None and lab.number != prev + 1:
            expected = prev + 1
            self.warnings.append(f"line {lineno}: label {lab.text} out of sequence (expected number {expected}); kept as printed")
        if lab.number is not None:
            self.last_number[key] = lab.number

    def close_for(self, lab: Label) -> None:
        """Close the open clauses a new label ends: its own style and, for a ranked heading (编/章/节/条),
        every open heading of the same or a deeper rank with whatever items hang below it."""
        cut = next((i for i, c in enumerate(self.stack) if c.style == lab.style), len(self.stack))
        if lab.rank is not None:
            deeper = next((i for i, c in enumerate(self.stack)
                           if (r := style_rank(c.style)) is not None and r >= lab.rank), len(self.stack))
            cut = min(cut, deeper)
        del self.stack[cut:]
        if lab.rank is not None:
            # a list item that is a sentence ("（二）被告人上诉的，……。") holds no articles or chapters; only a
            # heading-only item ("一、总则") may stand above ranked headings
            while self.stack and style_rank(self.stack[-1].style) is None and not self.heading_only(self.stack[-1]):
                self.stack.pop()

    @staticmethod
    def heading_only(c: Clause) -> bool:
        own = "".join(c.body)
        return bool(c.heading) and own in (c.heading, f"【{c.heading}】")

    def open_label(self, lab: Label, line: Line) -> Clause:
        self.close_for(lab)
        parent = self.stack[-1] if self.stack else None
        self.check_number(parent, lab, line.lineno)
        path = (parent.path if parent else []) + [lab.text]
        c = self.new_clause(path, lab.text, lab.style, line.lineno, parent)
        rest = line.text[lab.end:].lstrip("、．. \u3000")
        c.text = line.text
        c.heading = heading_of(rest)
        rest = BRACKET_TITLE.sub("", rest)
        c.body = [rest] if rest else []
        self.stack.append(c)
        return c

    def by_id_parent(self, clause: Clause) -> Clause:
        return next(c for c in self.stack if c.id == clause.parent_id)

    @staticmethod
    def owns_trailer(c: Clause) -> bool:
        """实施单位：… closes the nearest titled section, not a one-sentence list item inside it."""
        if not c.heading:
            return False
        own = "".join(c.body)
        one_sentence_item = c.style in ITEM_STYLES and len(re.findall(r"[。；;]", own)) <= 1 and own != c.heading
        return not one_sentence_item

    @staticmethod
    def closes_list(cur: Clause, text: str) -> bool:
        """An unlabeled paragraph after a one-sentence list item speaks for the whole list, not the item."""
        own = "".join(cur.body)
        return (cur.parent_id is not None and len(cur.body) == 1 and len(own) <= HEADING_MAX
                and own.endswith("。") and len(text) > len(own) and style_rank(cur.style) is None)

    def add_line(self, line: Line) -> None:
        if not self.stack:
            pre = self.clauses[0] if self.clauses and self.clauses[0].style == "preamble" else None
            if pre is None:
                pre = Clause(id=f"{self.id_prefix}c0000", path=[], label="", style="preamble", heading="",
                             text="", lineno=line.lineno)
                self.clauses.insert(0, pre)
            pre.text = f"{pre.text}\n{line.text}" if pre.text else line.text
            pre.body.append(line.text)
            return
        if trailer_departments(line.text) is not None:
            owner = next((c for c in reversed(self.stack) if self.owns_trailer(c)), self.stack[-1])
            owner.trailers.append(line.text)
            owner.text = f"{owner.text}\n{line.text}"
            return
        cur = self.stack[-1]
        if self.closes_list(cur, line.text):
            cur = self.by_id_parent(cur)
        cur.text = f"{cur.text}\n{line.text}"
        cur.body.append(line.text)


INLINE = re.compile(r"(?:(?<=[：:；;。，,])|^)\s*([（(]\d{1,2}[）)]|[（(][一二三四五六七八九十]+[）)]|[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳]|[一二三四五六七八九十]+是"
                    r"|\d{1,2}[.．、](?!\d))")
INLINE_NUM = re.compile(r"^(\d{1,2})[.．、]")


def inline_items(text: str) -> list[tuple[int, Label]]:
    """Positions of an inline enumeration （1）…（2）… / 一是…二是… that runs 1, 2, 3 in one style."""
    found: list[tuple[int, Label]] = []
    for m in INLINE.finditer(text):
        lab = match_label(text[m.start(1):], inline=True)
        num = INLINE_NUM.match(m.group(1))
        if lab is None and num and text[max(0, m.start(1) - 1):m.start(1)] in "：:；;。":
            # 1.…；2.…；3.… run on inside a paragraph (never after a comma: 1、2项)
            n = int(num.group(1))
            lab = Label("num", num.group(1), n, len(num.group(0)))
        if lab is None:
            continue
        if lab.style == "shi" or text[max(0, m.start(1) - 1):m.start(1)] not in "，,":
            found.append((m.start(1), lab))
    for start_i, (pos, lab) in enumerate(found):
        if lab.number != 1:
            continue
        run = [(pos, lab)]
        for p2, l2 in found[start_i + 1:]:
            if l2.style == lab.style and l2.number == run[-1][1].number + 1:
                run.append((p2, l2))
        # a page cut after its first item still shows the run beginning right after a lead-in's colon
        if len(run) >= 2 or text[max(0, pos - 1):pos] in "：:":
            return run
    return []


def split_inline(builder: TreeBuilder, clause: Clause) -> None:
    for i, para in enumerate(list(clause.body)):
        run = inline_items(para)
        if not run:
            continue
        intro = para[:run[0][0]].rstrip()
        clause.body[i] = intro
        # this paragraph's own place in the text (the same words may be printed again further on): the
        # paragraphs come in the text in order, so it is the first occurrence after those before it
        at = 0
        for before in clause.body[:i]:
            found = clause.text.find(before, at)
            at = found + len(before) if found >= 0 else at
        k = clause.text.find(para, at)
        if k < 0:
            k = clause.text.find(para)
        if k >= 0:
            clause.text = clause.text[:k] + intro + clause.text[k + len(para):]
        clause.heading = clause.heading or heading_of(intro)
        for j, (pos, lab) in enumerate(run):
            end = run[j + 1][0] if j + 1 < len(run) else len(para)
            seg = para[pos:end].strip()
            child = builder.new_clause(clause.path + [lab.text], lab.text, lab.style, clause.lineno, clause)
            child.text = seg
            rest = seg[lab.end:].lstrip("、．. \u3000")
            child.body = [rest]
            child.heading = heading_of(rest)
        return


def build_tree(lines: list[Line], id_prefix: str = "") -> tuple[list[Clause], list[str]]:
    """Clauses in document order (a preamble clause with path [] first when text precedes any label)."""
    b = TreeBuilder(id_prefix)
    for line in lines:
        lab = match_label(line.text)
        if lab and b.accepts(lab):
            b.open_label(lab, line)
        else:
            b.add_line(line)
    for c in list(b.clauses):
        # a preamble's enumeration counts when a lead-in announces it (…享受以下9项激励措施：一是…)
        if c.style != "preamble" or any(re.search(r"[：:]\s*(?:[一二三四五六七八九十]+是|[（(][一二三四五六七八九十\d]+[）)])", p)
                                        for p in c.body):
            split_inline(b, c)
    for c in b.clauses:
        # items split out of a paragraph come before a later line that continues their run ("（5）" wrapped
        # onto a line of its own); the sort is stable, so items of one paragraph keep their order
        c.children.sort(key=lambda ch: ch.lineno)
    ordered = order_clauses(b.clauses)
    for n, c in enumerate(ordered):
        c.id = f"{id_prefix}c{n:04d}"
    for c in ordered:
        for ch in c.children:
            ch.parent_id = c.id
    return ordered, b.warnings


def order_clauses(clauses: list[Clause]) -> list[Clause]:
    roots = [c for c in clauses if c.parent_id is None]
    return [c for r in roots for c in r.walk()]
