"""`xinyi check` without the CLI framework: the command's body, and a fast path that runs it before typer (and
the pydantic it brings) is imported, so a cold `check` loads only what checking needs.

api/cli.py calls run_quick() first when it runs as the program; a call it does not recognise as a plain
`check --db P --profile P [--as-of D] [--full]` (help, a missing or unknown option) goes on to typer, which says what is
wrong exactly as before.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

OPTIONS = {"--db": "db", "--profile": "profile", "--as-of": "as_of"}
FLAGS = {"--full": "full"}


class Failed(SystemExit):
    """A one-line error on stderr, then this exit status."""


def fail(message: str, code: int = 1) -> None:
    sys.stderr.write(f"xinyi: {message}\n")
    raise Failed(code)


def emit(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def parse_as_of(value: Optional[str]):
    from datetime import date
    if not value:
        return date.today()
    from knowledge.profile import FIRST_DAY, LAST_DAY
    try:
        day = date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of: expected a date YYYY-MM-DD, got {value!r}", 2)
    if not FIRST_DAY <= day <= LAST_DAY:
        fail(f"--as-of: expected a date between {FIRST_DAY} and {LAST_DAY}, got {value}", 2)
    return day


def check_command(db: Path, profile: Path, as_of: Optional[str], full: bool = False) -> None:
    """Which measures apply to an enterprise: the body of `xinyi check` (prints the answer, or fails)."""
    from knowledge.check import ProfileError, check_profile
    from knowledge.db import KBError
    day = parse_as_of(as_of)
    try:
        data = json.loads(profile.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        fail(f"{profile}: no such file", 2)
    except IsADirectoryError:
        fail(f"{profile}: is a folder; expected a profile JSON file", 2)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{profile}: not valid JSON ({exc})", 2)
    try:
        emit(check_profile(db, data, day, full=full))
    except ProfileError as exc:
        fail(f"{profile.name}: {exc}", 2)
    except KBError as exc:
        fail(str(exc))


def plain_check(argv: list[str]) -> Optional[dict]:
    """The options of a plain `check` call, or None for anything else (left to typer)."""
    if not argv or argv[0] != "check":
        return None
    got: dict[str, str] = {}
    args = iter(argv[1:])
    for arg in args:
        if arg in FLAGS and FLAGS[arg] not in got:
            got[FLAGS[arg]] = True
            continue
        name, eq, value = arg.partition("=")
        key = OPTIONS.get(name)
        if key is None or key in got:
            return None
        if not eq:
            value = next(args, None)
            if value is None or value.startswith("--"):
                return None
        got[key] = value
    if "db" not in got or "profile" not in got:
        return None
    return got


def run_quick(argv: list[str]) -> None:
    """Run a plain `check` and exit; return for anything else."""
    got = plain_check(argv)
    if got is None:
        return
    try:
        check_command(Path(got["db"]), Path(got["profile"]), got.get("as_of"), bool(got.get("full")))
    except KeyboardInterrupt:
        sys.stderr.write("xinyi: interrupted\n")
        sys.exit(130)
    sys.stdout.flush()
    sys.exit(0)
