"""Personal data in chat text (脱敏): found, and masked in what is stored and echoed.

    find("王芳经理的手机是13812345678")   → [Found(0, 2, "name", "王芳", "王**"), Found(8, 19, "mobile", …, "138****5678")]
    mask("王芳经理的手机是13812345678")   → "王**经理的手机是138****5678"
    mask_echo(reply, message)           → the reply with the personal data of `message` masked wherever the reply
                                          repeats it, and every mobile number masked (a quoted clause may hold one)

Kinds (KINDS) and how each is masked:
- `mobile`: 1[3-9]x…, with +86 and spaces or hyphens → the middle four digits: 138****5678;
- `landline`: (0411)87654321, 0411-87654321, 400-123-4567, or seven or eight digits after a phone cue
  (电话：…) → all digits but the area code (or first group) and the last four: 0411-****4321;
- `id_card`: 18 characters, region + birth date + sequence + check character → 3202**********1234;
- `email` → the first character of the local part: w***@example.com;
- `name`: a surname with up to two given-name characters before a title (王芳经理, 张三局长, 李总, 陈經理),
  or after a label (联系人：王某某) → the surname and two stars: 王**经理, 联系人：王**.

The phone, 身份证 and e-mail patterns are jionlp's (`jionlp/rule/rule_pattern.py`, applied as jionlp's
`Extractor` applies them: the text padded, group 1 taken); they are read from jionlp's source rather than
imported, because importing jionlp loads all its dictionaries (about 2 s) and prints a banner on stdout.
Surnames are jionlp's 百家姓 lists; titles, labels and the other words are data
(`nlp/data/privacy_patterns.json`). A name needs more than a surname character before a title: the surname
must begin a jieba token, and the words it would be part of must not be dictionary words that are not names
(安全主任, 车间主任, 项目经理, 应急办主任, 班主任 and 全年总产值 stay as they are) — jieba's dictionary and its
part-of-speech tags (nr: a person's name) decide, not a list of exceptions.

Never masked: a 统一社会信用代码 (18 characters valid under GB 32100, or after 信用代码/注册号…), dates,
amounts and counts (a number followed by 元/万/人/次…), article numbers, 文号 (〔2017〕22号).

Text is matched in its canonical form (simplified, full-width digits folded: same length), so traditional
text and full-width digits are found too, and the mask keeps the printed characters it does not hide
(陳經理 → 陳**經理). Masking is idempotent: a masked text has nothing left to find.

Masking is on unless XINYI_PRIVACY is set to off / 0 / false (for a test of what is stored unmasked).
"""
from __future__ import annotations

import ast
import importlib.util
import json
import mmap
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

from .canonical import simplified

DATA = Path(__file__).parent / "data" / "privacy_patterns.json"
KINDS = ("email", "id_card", "mobile", "landline", "name")  # the order overlapping finds are preferred in
CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
DIGIT = re.compile(r"\d")
LONG_NUMBER = re.compile(r"[0-9０-９][0-9０-９ \-－—()（）]{5,}[0-9０-９]")  # what a number to mask needs at least
# GB 32100-2015 (as knowledge/registry_import.py checks it on import)
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_WEIGHTS = [pow(3, i, 31) for i in range(17)]
ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # GB 11643-1999, ISO 7064 MOD 11-2


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    kind: str
    text: str      # as printed
    masked: str    # what replaces it


def enabled() -> bool:
    return os.environ.get("XINYI_PRIVACY", "on").strip().lower() not in ("off", "0", "false", "no")


# ---- data ------------------------------------------------------------------------------------

def jionlp_source() -> Path:
    """jionlp's rule_pattern.py, found without importing jionlp."""
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("jionlp is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "rule" / "rule_pattern.py"


@lru_cache(maxsize=1)
def jionlp_constants() -> dict[str, list[str]]:
    """Every string constant rule_pattern.py assigns at top level, in order (a name assigned twice, like the
    full and the unambiguous 百家姓, keeps both values)."""
    tree = ast.parse(jionlp_source().read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            out.setdefault(node.targets[0].id, []).append(node.value.value)
    return out


def jionlp_pattern(name: str) -> re.Pattern:
    return re.compile(jionlp_constants()[name][-1])


@lru_cache(maxsize=1)
def vocab() -> dict:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    consts = jionlp_constants()
    single = set("".join(consts["SINGLE_CHINESE_FAMILY_NAME"])) | set(raw["extra_surnames"])
    double = set(consts["TWO_CHAR_CHINESE_FAMILY_NAME"][-1].split("|"))
    titles = sorted({p + t for t in raw["titles"] for p in ["", *raw["title_prefixes"]]}, key=len, reverse=True)
    alt = lambda words: "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
    return {**raw, "single": single, "double": double, "titles": titles,
            "title_re": re.compile(alt(titles)),
            "title_set": frozenset(titles),
            "label_re": re.compile(f"(?:{alt(raw['labels'])})[：:\\s]*(?:{alt(raw['label_links'])})?[：:\\s]*"),
            "cue_re": re.compile(f"(?:{alt(raw['phone_cues'])})(?:号码|号)?[：:\\s]*", re.I),
            "credit_cue_re": re.compile(f"(?:{alt(raw['credit_code_cues'])})[：:\\s]*(?:为|是)?[：:\\s]*$"),
            "unit_re": re.compile(f"\\s*(?:{alt(raw['number_units'])})"),
            "stop_re": re.compile(alt([*raw["name_stops"], *titles]))}


# ---- jieba: token boundaries and part-of-speech tags ------------------------------------------

def tokenizer():
    from .pipeline import shared_jieba
    return shared_jieba()


@lru_cache(maxsize=1)
def _jieba_dict() -> Optional[mmap.mmap]:
    import jieba
    path = Path(jieba.__file__).parent / "dict.txt"
    if not path.exists():
        return None
    with open(path, "rb") as fh:
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def dict_tag(word: str) -> Optional[str]:
    """The part-of-speech tag jieba's dictionary file gives a word, None when it has no line for it."""
    table = _jieba_dict()
    if table is None:
        return None
    key = word.encode("utf-8") + b" "
    if table[:len(key)] == key:
        start = 0
    else:
        i = table.find(b"\n" + key)
        if i < 0:
            return None
        start = i + 1
    fields = table[start:table.find(b"\n", start)].decode("utf-8").split(" ")
    return fields[2] if len(fields) > 2 else None


@lru_cache(maxsize=8192)
def word_tag(word: str) -> Optional[str]:
    """A word's part-of-speech tag in jieba's dictionary ('nr': a person's name); 'x' for a word only the
    project's vocabulary adds; None when it is not a word."""
    if len(word) < 2 or not tokenizer().FREQ.get(word):
        return None
    return dict_tag(word) or "x"


@lru_cache(maxsize=1024)
def function_char(ch: str) -> bool:
    """A surname character that is first of all a function word (和, 于, 向, 对: a conjunction, preposition…)."""
    return (dict_tag(ch) or "") in vocab()["function_tags"]


def not_a_name(word: str) -> bool:
    tag = word_tag(word)
    return tag is not None and not tag.startswith("nr")


class Tokens:
    """jieba's tokens of a text, computed once and only when a name is looked for."""

    def __init__(self, text: str):
        self.text = text
        self._starts: Optional[dict[int, str]] = None

    @property
    def starts(self) -> dict[int, str]:
        if self._starts is None:
            self._starts, at = {}, 0
            for tok in tokenizer().cut(self.text):
                self._starts[at] = tok
                at += len(tok)
        return self._starts

    def token_at(self, i: int) -> Optional[str]:
        return self.starts.get(i)

    def covering(self, i: int) -> tuple[int, str]:
        """The token holding position i: (its start, the token)."""
        j = i
        while j > 0 and j not in self.starts:
            j -= 1
        return j, self.starts.get(j, "")


# ---- masks -----------------------------------------------------------------------------------

def mask_digits(text: str, head: int, tail: int) -> str:
    """Every digit of `text` but the first `head` and the last `tail` as '*'; other characters kept."""
    at = [i for i, ch in enumerate(text) if ch.isdigit()]
    hide = set(at[head:len(at) - tail if tail else None])
    return "".join("*" if i in hide else ch for i, ch in enumerate(text))


def mask_mobile(text: str) -> str:
    m = re.match(r"\s*\+?\s*86", text)
    return mask_digits(text, 3 + (2 if m else 0), 4)


def mask_landline(text: str) -> str:
    area = re.match(r"[\(（]?(\d{3,4})[\)）\s—\-－]", text)
    return mask_digits(text, len(area.group(1)) if area else 0, 4)


def mask_id(text: str) -> str:
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_email(text: str) -> str:
    local, _, domain = text.partition("@")
    return f"{local[:1]}***@{domain}"


# ---- finding -----------------------------------------------------------------------------------

def fold(text: str) -> str:
    """Full-width ASCII (digits, letters, ＠, －) to half width, one character for one."""
    return "".join(chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch for ch in text)


def _jionlp_finds(name: str, text: str, pad: str = "#") -> Iterable[tuple[int, int]]:
    """What jionlp's Extractor returns with detail=True: group 1 of the pattern on the padded text."""
    for m in jionlp_pattern(name).finditer(pad + text + pad):
        yield m.start(1) - len(pad), m.end(1) - len(pad)


def credit_code_ok(code: str) -> bool:
    code = code.upper()
    if len(code) != 18 or any(c not in CODE_CHARS for c in code) or not code[2:8].isdigit():
        return False
    total = sum(CODE_CHARS.index(c) * w for c, w in zip(code, CODE_WEIGHTS))
    return code[17] == CODE_CHARS[(31 - total % 31) % 31]


def id_check_ok(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(number, ID_WEIGHTS))
    return number[17].upper() == "10X98765432"[total % 11]


def credit_codes(view: str) -> list[tuple[int, int]]:
    """Spans of 统一社会信用代码 (never personal data): valid under GB 32100 and not a valid 身份证 number, or
    written after a cue (统一社会信用代码：…)."""
    out = []
    for m in re.finditer(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])", view):
        code = m.group(0)
        cued = vocab()["credit_cue_re"].search(view[max(0, m.start() - 16):m.start()])
        if cued or (credit_code_ok(code) and not id_check_ok(code)):
            out.append(m.span())
    return out


def number_finds(printed: str, view: str, kinds: tuple[str, ...] = KINDS) -> list[Found]:
    v = vocab()
    protected = credit_codes(view)
    out: list[Found] = []

    def inside_code(s: int, e: int) -> bool:
        return any(a <= s and e <= b for a, b in protected)

    def a_quantity(e: int) -> bool:  # 13500000000元: an amount, not a number to call
        return bool(v["unit_re"].match(view, e))

    for s, e in _jionlp_finds("EMAIL_PATTERN", view, "龥") if "email" in kinds else ():
        out.append(Found(s, e, "email", printed[s:e], mask_email(printed[s:e])))
    for s, e in _jionlp_finds("ID_CARD_PATTERN", view) if "id_card" in kinds else ():
        if not inside_code(s, e):
            out.append(Found(s, e, "id_card", printed[s:e], mask_id(printed[s:e])))
    for s, e in _jionlp_finds("CELL_PHONE_PATTERN", view) if "mobile" in kinds else ():
        s += len(view[s:e]) - len(view[s:e].lstrip())
        if not inside_code(s, e) and not a_quantity(e):
            out.append(Found(s, e, "mobile", printed[s:e], mask_mobile(printed[s:e])))
    if "landline" not in kinds:
        return out
    for s, e in _jionlp_finds("LANDLINE_PHONE_PATTERN", view):
        if not inside_code(s, e) and not a_quantity(e):
            out.append(Found(s, e, "landline", printed[s:e], mask_landline(printed[s:e])))
    for m in v["cue_re"].finditer(view):  # 电话：87654321, a number without its area code
        n = re.compile(r"(?<!\d)\d{7,8}(?!\d)").match(view, m.end())
        if n and not a_quantity(n.end()):
            out.append(Found(n.start(), n.end(), "landline", printed[n.start():n.end()],
                             mask_landline(printed[n.start():n.end()])))
    return out


def surname_at(view: str, i: int) -> int:
    """The length of the surname starting at i (2 for 欧阳, 1 for 王), 0 when none does."""
    v = vocab()
    if view[i:i + 2] in v["double"]:
        return 2
    return 1 if view[i:i + 1] in v["single"] else 0


def plausible_given(view: str, s: int, e: int) -> bool:
    return all(CJK_CHAR.match(ch) and ch not in vocab()["not_in_given_names"] for ch in view[s:e])


def title_finds(printed: str, view: str, tokens: Tokens) -> list[Found]:
    """王芳经理, 张三局长, 李总: a surname and up to two characters right before a title."""
    v = vocab()
    out = []
    for m in v["title_re"].finditer(view):
        p, title = m.start(), m.group(0)
        following = tokens.token_at(p)
        if following and len(following) > len(title) and following not in v["title_set"] \
                and not_a_name(following):
            continue  # 全年总产值, 总局: the title is the start of another word
        best = None
        for n in range(1, 5):  # the name's length: surname and 0–2 given characters
            i = p - n
            if i < 0:
                break
            k = surname_at(view, i)
            if not k or k > n or n - k > 2 or not plausible_given(view, i + k, p):
                continue
            if i not in tokens.starts:
                continue  # the surname character is inside another word (办公室主任: 公)
            first = tokens.token_at(i)
            if len(first) > k and not_a_name(first):
                continue  # 安全主任, 车间主任, 项目经理, 班主任: a word, not a name (欧阳 alone is a surname)
            w_start, word = tokens.covering(p)
            if i <= w_start < p and not_a_name(word):
                continue  # a word running from the name into the title
            # the longest name, unless its surname is first of all a function word (请和王经理联系: 王)
            rank = (k == 1 and function_char(view[i]), -n)
            if best is None or rank < best[0]:
                best = (rank, i, k)
        if best:
            _, i, k = best
            out.append(Found(i, p, "name", printed[i:p], printed[i:i + k] + "**"))
    return out


def label_finds(printed: str, view: str, tokens: Tokens) -> list[Found]:
    """联系人：王某某 / 负责人张三: a name after a label."""
    v = vocab()
    out = []
    for m in v["label_re"].finditer(view):
        i = m.end()
        k = surname_at(view, i)
        if not k:
            continue
        e = i + k
        while e < i + k + 2 and e < len(view) and plausible_given(view, e, e + 1) and not v["stop_re"].match(view, e):
            e += 1
        if e == i + k and not v["title_re"].match(view, e):
            continue  # a surname character alone, not before a title: not a name
        first = tokens.token_at(i)
        if first and len(first) > k and not_a_name(first):
            continue  # 联系人：安全科
        if e > i + k:
            out.append(Found(i, e, "name", printed[i:e], printed[i:i + k] + "**"))
    return out


def find(text: str, kinds: Iterable[str] = KINDS) -> list[Found]:
    """The personal data in a text, in order, none overlapping (an e-mail or 身份证 number before a phone
    number inside it, a longer find before a shorter one)."""
    if not text:
        return []
    kinds = tuple(kinds)
    if "name" not in kinds and not (LONG_NUMBER.search(text) or ("email" in kinds and "@" in fold(text))):
        return []  # nothing a phone, 身份证 or e-mail could be (the quick path for text from the documents)
    view = fold(simplified(text))
    found: list[Found] = []
    if DIGIT.search(view) or "@" in view:
        found += number_finds(text, view, kinds)
    if "name" in kinds and CJK_CHAR.search(view):
        v = vocab()
        if v["title_re"].search(view) or v["label_re"].search(view):
            tokens = Tokens(view)
            found += title_finds(text, view, tokens) + label_finds(text, view, tokens)
    found.sort(key=lambda f: (KINDS.index(f.kind), -(f.end - f.start), f.start))
    kept: list[Found] = []
    for f in found:
        if all(f.end <= k.start or k.end <= f.start for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def mask(text: str, kinds: Iterable[str] = KINDS) -> str:
    """The text with its personal data masked (unchanged when masking is off)."""
    if not text or not enabled():
        return text
    out, at = [], 0
    for f in find(text, kinds):
        out += [text[at:f.start], f.masked]
        at = f.end
    return "".join(out) + text[at:]


def mask_echo(text: str, source: str) -> str:
    """`text` (a reply) with the personal data found in `source` (what the user typed) masked wherever the
    text repeats it, as typed or in canonical form, and every mobile number masked. The rest of a reply —
    the documents' own words, office phone numbers and officials' names in a quoted clause — stays as it is."""
    if not text or not enabled():
        return text
    pairs = set()
    for f in find(source or ""):
        plain, masked = f.text, f.masked
        if f.kind == "name":  # a name before a title is replaced with its title, so a namesake elsewhere is left
            title = vocab()["title_re"].match(fold(simplified(source[f.end:f.end + 6])))
            if title:
                plain, masked = plain + source[f.end:f.end + title.end()], masked + source[f.end:f.end + title.end()]
        pairs.add((plain, masked))
        pairs.add((simplified(plain), simplified(masked)))
    for plain, masked in sorted(pairs, key=lambda p: -len(p[0])):
        if plain and plain != masked:
            text = text.replace(plain, masked)
    return mask_mobiles(text)


def mask_mobiles(text: str) -> str:
    """Only the mobile numbers masked: what an answer does to the documents' own words it quotes."""
    return mask(text, kinds=("mobile",))


def mask_deep(value: Any, masker=mask) -> Any:
    """Every string in a JSON-like value masked (dict keys kept)."""
    if isinstance(value, str):
        return masker(value)
    if isinstance(value, dict):
        return {k: mask_deep(v, masker) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_deep(v, masker) for v in value]
    return value
