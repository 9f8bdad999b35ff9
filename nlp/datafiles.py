"""Loading the data files in nlp/data: every error names the file and the line."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, TypeVar

DATA = Path(__file__).parent / "data"
T = TypeVar("T")


class DataFileError(ValueError):
    pass


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
    pats = []
    for lineno, text in load_lines(path):
        try:
            pats.append(re.compile(text))
        except re.error as exc:
            raise DataFileError(f"{path}:{lineno}: bad pattern ({exc})") from None
    return tuple(pats)


def load_regex_map(path: Path) -> dict[str, re.Pattern]:
    """A JSON object of named regular expressions (keys starting with '_' are notes)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for key, value in raw.items():
        if key.startswith("_") or not isinstance(value, str):
            continue
        try:
            out[key] = re.compile(value)
        except re.error as exc:
            raise DataFileError(f"{path}: key '{key}': bad pattern ({exc})") from None
    return out
