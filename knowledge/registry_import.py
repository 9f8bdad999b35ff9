"""Read a registry file — CSV (UTF-8, GBK/GB18030, … as nlp/readers.py decodes), JSONL or Parquet — into
enterprise rows for knowledge/registry.py.

Columns are profile keys (nlp/data/profile_schema.json), their Chinese labels, or the usual headers of a
register listed in knowledge/data/registry_columns.json (统一社会信用代码, 企业名称, 所在地, 所属行业,
标准化等级, 从业人员, 是否重大危险源, …); `--map HEADER=KEY` adds one. Cells are read as the key's declared
type (是/否, 一级/二级/三级, 120人, a、b lists); an empty cell is an unknown fact and leaves a stored one as it is.

A row without a valid 统一社会信用代码 (18 characters, check digit per GB 32100-2015) or with a value its key's
type cannot hold is reported with its line number and skipped; a credit code met twice in one file is too.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Optional

from .profile import ProfileError, validate_profile
from .registry import Registry, stored_facts

COLUMNS_FILE = Path(__file__).parent / "data" / "registry_columns.json"
CSV_SUFFIXES, JSONL_SUFFIXES, PARQUET_SUFFIXES = (".csv", ".tsv", ".txt"), (".jsonl", ".ndjson", ".json"), \
    (".parquet", ".pq")
EMPTY = {"", "-", "—", "--", "/", "null", "none", "nan", "n/a", "na"}
# GB 32100-2015: the 31 characters a code may hold, and the weights of its first 17 for the check character
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
CODE_VALUE = {c: i for i, c in enumerate(CODE_CHARS)}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (missing, not a table, no credit-code column): one line."""


class RowError(ValueError):
    """One row cannot be imported: the message says which column and why."""


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    return json.loads(COLUMNS_FILE.read_text(encoding="utf-8"))


# ---- headers ------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def header_key(header: str) -> str:
    """A header as compared: full-width folded (NFKC), spaces and a trailing * or （必填） removed, lower case."""
    h = unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "")
    h = re.sub(r"\s+", "", h)
    h = re.sub(r"(?:\*|\(必填\)|\(选填\))$", "", h)
    return h.lower()


def header_map(extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """Compared header → profile key: each key itself, its declared label, the headers of registry_columns.json,
    then `extra` (from --map), which wins."""
    out: dict[str, str] = {}
    for key, decl in stored_facts().items():
        out.setdefault(header_key(key), key)
        out.setdefault(header_key(decl["label"]), key)
    for key, headers in vocabulary()["headers"].items():
        for h in headers:
            out.setdefault(header_key(h), key)
    for h, key in (extra or {}).items():
        out[header_key(h)] = key
    return out


def parse_map_options(items: list[str]) -> dict[str, str]:
    """`企业名称=name` … → {header: key}; ValueError naming the item that is not HEADER=KEY of a known key."""
    out = {}
    for item in items:
        header, sep, key = item.partition("=")
        header, key = header.strip(), key.strip()
        if not sep or not header or not key:
            raise ValueError(f"--map {item!r}: expected HEADER=KEY, e.g. 企业名称=name")
        if key not in stored_facts():
            raise ValueError(f"--map {item!r}: {key!r} is not a profile key (one of {', '.join(stored_facts())})")
        out[header] = key
    return out


# ---- credit codes -------------------------------------------------------------------------------

def normalize_code(raw: Any) -> str:
    """A credit code as written, full-width folded, without spaces, in capitals."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(raw))).upper()


def check_character(first17: str) -> str:
    total = sum(CODE_VALUE[c] * w for c, w in zip(first17, CODE_WEIGHTS))
    return CODE_CHARS[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> Optional[str]:
    """Why a 统一社会信用代码 is not one (GB 32100-2015), or None when it is."""
    if len(code) != 18:
        return f"统一社会信用代码 {code!r} has {len(code)} characters; expected 18"
    bad = sorted({c for c in code if c not in CODE_CHARS})
    if bad:
        return (f"统一社会信用代码 {code!r}: {'、'.join(bad)} cannot appear in a code (GB 32100: digits and "
                f"{CODE_CHARS[10:]})")
    if not code[2:8].isdigit():
        return f"统一社会信用代码 {code!r}: characters 3–8 must be the 6-digit region code"
    want = check_character(code[:17])
    if code[17] != want:
        return f"统一社会信用代码 {code!r}: check character is {code[17]}, expected {want} (GB 32100)"
    return None


# ---- cells --------------------------------------------------------------------------------------

def is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return isinstance(raw, str) and raw.strip().lower() in EMPTY


def choice_words(decl: dict) -> str:
    names = [str(decl.get("choice_labels", {}).get(str(c), c)) for c in decl["choices"]]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


def as_count(raw: Any) -> Optional[int]:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw >= 0 else None
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() and raw >= 0 else None
    text = str(raw).strip().replace(",", "").replace("，", "").rstrip(vocabulary()["count_units"]).strip()
    if text.isdigit():
        return int(text)
    if text and all("\u4e00" <= c <= "\u9fff" for c in text):
        import cn2an
        try:
            n = cn2an.cn2an(text, "normal")
        except (ValueError, KeyError):
            return None
        return int(n) if float(n).is_integer() and n >= 0 else None
    return None


def as_boolean(raw: Any) -> Optional[bool]:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in vocabulary()["true"]:
        return True
    if text in vocabulary()["false"]:
        return False
    return None


def as_choice(key: str, decl: dict, raw: Any) -> Any:
    choices = decl["choices"]
    if not isinstance(raw, bool) and raw in choices:
        return raw
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    words = {str(c): c for c in choices}
    for c in choices:
        label = decl.get("choice_labels", {}).get(str(c))
        if label:
            words[str(label)] = c
    words.update(vocabulary()["choices"].get(key, {}))
    for candidate in (text, text.upper(), text.lower(), text.rstrip("级"), text.upper().rstrip("级")):
        if candidate in words:
            return words[candidate]
    return None


def as_list(raw: Any) -> Optional[list[str]]:
    if isinstance(raw, (list, tuple)):
        return [str(x).strip() for x in raw if str(x).strip()]
    text = str(raw).strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        return as_list(value) if isinstance(value, list) else None
    seps = re.escape(vocabulary()["list_separators"])
    return [x.strip() for x in re.split(f"[{seps}]", text) if x.strip()]


def cell_value(key: str, raw: Any) -> Any:
    """A cell as the key's declared type; None for an empty cell; RowError naming the column otherwise."""
    if is_empty(raw):
        return None
    decl = stored_facts()[key]
    kind, shown = decl["type"], f"{decl['label']} ({key}) {raw!r}"
    if isinstance(raw, str):
        raw = raw.strip()
    if kind == "string":
        return str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw)
    if kind == "string_list":
        value = as_list(raw)
        if value is None:
            raise RowError(f"{shown}: expected a list (a、b or a JSON list)")
        return value
    if kind == "count":
        value = as_count(raw)
        if value is None:
            raise RowError(f"{shown}: expected a non-negative whole number")
        return value
    if kind == "boolean":
        value = as_boolean(raw)
        if value is None:
            raise RowError(f"{shown}: expected 是 or 否")
        return value
    if kind == "choice":
        value = as_choice(key, decl, raw)
        if value is None:
            raise RowError(f"{shown}: expected {choice_words(decl)}")
        return value
    if kind == "date":
        try:
            return date.fromisoformat(str(raw)[:10]).isoformat()
        except ValueError:
            raise RowError(f"{shown}: expected a date YYYY-MM-DD") from None
    if kind == "attestations":
        value = json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw
        if not isinstance(value, dict):
            raise RowError(f"{shown}: expected a JSON object of condition keys and true/false")
        return value
    return raw


def row_facts(record: dict, mapping: dict[str, str]) -> dict:
    """One record's enterprise facts: credit_code checked, each mapped column as its key's type (the first
    non-empty column of a key wins), the whole validated as a profile. RowError for a row to skip."""
    facts: dict[str, Any] = {}
    for header, raw in record.items():
        key = mapping.get(header_key(header))
        if key is None or key in facts or is_empty(raw):
            continue
        facts[key] = normalize_code(raw) if key == "credit_code" else cell_value(key, raw)
    code = facts.get("credit_code")
    if not code:
        raise RowError("no 统一社会信用代码 (credit_code)")
    problem = credit_code_problem(code)
    if problem:
        raise RowError(problem)
    facts = {k: v for k, v in facts.items() if v is not None}
    try:
        return validate_profile(facts)
    except ProfileError as exc:
        raise RowError(str(exc)) from None


# ---- files --------------------------------------------------------------------------------------

def decode(data: bytes, name: str) -> str:
    from nlp.readers import _decode  # BOM, UTF-8, GB18030 unless it reads as noise, Big5, charset-normalizer
    from nlp.types import XinyiError
    try:
        return _decode(data, name)[0]
    except XinyiError as exc:
        raise ImportFileError(str(exc)) from None


def csv_records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line, {header: cell}) for each data row; (line, RowError) for a row of the wrong width."""
    text = decode(path.read_bytes(), path.name)
    sample = text[:4096]
    delimiter = "\t" if path.suffix.lower() == ".tsv" or sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ImportFileError(f"{path.name}: empty file; expected a header row (统一社会信用代码, 企业名称, …)")
    header = [h.strip() for h in header]
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            yield line, RowError(f"{len(row)} cells for {len(header)} columns")
            continue
        yield line, dict(zip(header, row))


def jsonl_records(path: Path) -> Iterator[tuple[int, Any]]:
    text = decode(path.read_bytes(), path.name)
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield line, RowError(f"not valid JSON ({exc.msg})")
            continue
        yield line, value if isinstance(value, dict) else RowError("expected a JSON object")


def parquet_records(path: Path) -> Iterator[tuple[int, Any]]:
    import pyarrow.parquet as pq
    try:
        table = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
        raise ImportFileError(f"{path.name}: not a readable Parquet file ({exc})") from None
    n = 0
    for batch in table.iter_batches(batch_size=10_000):
        for record in batch.to_pylist():
            n += 1
            yield n, record


def records(path: Path) -> tuple[Iterator[tuple[int, Any]], str]:
    """The file's records and what their numbers count ("line", or "row" for Parquet)."""
    if not path.exists():
        raise ImportFileError(f"{path}: no such file")
    if path.is_dir():
        raise ImportFileError(f"{path}: is a folder; expected a .csv, .jsonl or .parquet file")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return parquet_records(path), "row"
    if suffix in JSONL_SUFFIXES:
        return jsonl_records(path), "line"
    if suffix in CSV_SUFFIXES:
        return csv_records(path), "line"
    raise ImportFileError(f"{path.name}: unsupported file type {suffix or '(none)'}; expected .csv, .jsonl or "
                          ".parquet")


def read_registry_file(path: Path, extra_map: Optional[dict[str, str]] = None) -> dict:
    """{"rows": [(n, facts)], "errors": [{"line", "error"}], "warnings": [...], "unit": "line" | "row"}."""
    mapping = header_map(extra_map)
    items, unit = records(path)
    rows, errors, warnings = [], [], []
    seen: dict[str, int] = {}
    headers_seen: list[str] = []
    for n, record in items:
        if isinstance(record, RowError):
            errors.append({"line": n, "error": str(record)})
            continue
        for h in record:
            if h not in headers_seen:
                headers_seen.append(h)
        try:
            facts = row_facts(record, mapping)
        except RowError as exc:
            errors.append({"line": n, "error": str(exc)})
            continue
        code = facts["credit_code"]
        if code in seen:
            errors.append({"line": n, "error": f"统一社会信用代码 {code} again (first at {unit} {seen[code]}); "
                                               "a file holds each enterprise once"})
            continue
        seen[code] = n
        rows.append((n, facts))
    keys = [mapping.get(header_key(h)) for h in headers_seen]
    if headers_seen and "credit_code" not in keys:
        raise ImportFileError(f"{path.name}: no column for 统一社会信用代码 (credit_code); name it with "
                              "--map HEADER=credit_code")
    unmapped = [h for h, k in zip(headers_seen, keys) if k is None]
    if "events" in unmapped:
        warnings.append(f"{path.name}: column events not imported; record events with `xinyi registry event`")
        unmapped.remove("events")
    if unmapped:
        warnings.append(f"{path.name}: columns not read (no profile key; --map HEADER=KEY names one): "
                        f"{', '.join(unmapped)}")
    doubled = sorted({k for k in keys if k and keys.count(k) > 1})
    for k in doubled:
        cols = [h for h, kk in zip(headers_seen, keys) if kk == k]
        warnings.append(f"{path.name}: {', '.join(cols)} all give {k}; the first non-empty one is taken")
    return {"rows": rows, "errors": errors, "warnings": warnings, "unit": unit}


def import_file(reg: Registry, path: Path, extra_map: Optional[dict[str, str]] = None) -> dict:
    """Read a registry file and upsert its good rows, all in one transaction. Returns {"file", "imported",
    "inserted", "updated", "skipped", "errors", "warnings", "unit"}."""
    plan = read_registry_file(path, extra_map)
    written = reg.upsert_enterprises([facts for _, facts in plan["rows"]], source=path.name) \
        if plan["rows"] else {"inserted": 0, "updated": 0}
    return {"file": str(path), "imported": len(plan["rows"]), **written, "skipped": len(plan["errors"]),
            "errors": plan["errors"], "warnings": plan["warnings"], "unit": plan["unit"]}
