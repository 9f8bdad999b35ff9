"""Loading the data files in nlp/data: every error names the file and the line."""
from __future__ import annotations

import json
import re
from pathlib import Path
from functools import lru_cache
from typing import Callable, TypeVar

DATA = Path(__file__).parent / "data"
T = TypeVar("T")


class DataFileError(ValueError):
    pass


VOCAB_REF = re.compile(r"\{\{([A-Z_]+)\}\}")


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, list[str]]:
    """The word classes of data/vocabulary.json: a synonym is defined there once."""
    raw = json.loads((DATA / "vocabulary.json").read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def expand_vocabulary(pattern: str, where: str = "") -> str:
    """`{{FOLLOWING}}` → `(?:下列|以下|如下|下述|…)`, longest word first so 其中之一 wins over 之一."""
    def one(m: re.Match) -> str:
        words = vocabulary().get(m.group(1))
        if words is None:
            raise DataFileError(f"{where}: unknown word class {{{{{m.group(1)}}}}} (not in vocabulary.json)")
        return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"
    return VOCAB_REF.sub(one, pattern)


def compile_pattern(pattern: str, where: str = "") -> re.Pattern:
    try:
        return re.compile(expand_vocabulary(pattern, where))
    except re.error as exc:
        raise DataFileError(f"{where}: bad pattern ({exc})") from None


def load_jsonl(path: Path, build: Callable[[dict], T] = lambda row: row) -> list[T]:
    """One JSON object a line; the `_comment` line carries provenance. `build` turns a row into a value."""
    rows = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
            if "_comment" not in row:
                rows.append(build(row))
        except (json.JSONDecodeError, KeyError, TypeError, re.error) as exc:
            raise DataFileError(f"{path}:{lineno}: {type(exc).__name__}: {exc}") from None
    return rows


def load_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of a line-based data file, without `#` comment lines and blanks."""
    return [(n, raw.strip()) for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if raw.strip() and not raw.startswith("#")]


def load_regex_lines(path: Path) -> tuple[re.Pattern, ...]:
    return tuple(compile_pattern(text, f"{path}:{lineno}") for lineno, text in load_lines(path))


def load_regex_map(path: Path) -> dict[str, re.Pattern]:
    """A JSON object of named regular expressions (keys starting with '_' are notes)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for key, value in raw.items():
        if key.startswith("_") or not isinstance(value, str):
            continue
        out[key] = compile_pattern(value, f"{path}: key '{key}'")
    return out
