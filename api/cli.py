"""The `xinyi` command: thin commands over library calls; every command prints one JSON document."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="信易 xinyi — safety-production credit policies: ingest, export, check, ask, serve.")


def emit(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def fail(message: str, code: int = 1) -> None:
    sys.stderr.write(f"xinyi: {message}\n")
    raise typer.Exit(code)


DbOption = Annotated[Path, typer.Option("--db", help="SQLite knowledge base file")]


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="files or folders (.txt .html .docx .pdf)")],
           db: DbOption, quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Read policy documents into the KB (idempotent). Example: xinyi ingest corpus/ --db kb.sqlite"""
    from knowledge.ingest import ingest_paths
    from knowledge.db import KBError
    from nlp.types import XinyiError
    try:
        report = ingest_paths(paths, db, progress=not quiet and sys.stderr.isatty())
    except (XinyiError, KBError) as exc:
        fail(str(exc))
    emit(report)
    if report["errors"]:
        for e in report["errors"]:
            sys.stderr.write(f"xinyi: {e}\n")
        raise typer.Exit(1)


@app.command()
def export(db: DbOption) -> None:
    """Print the whole KB in the contract shape. Example: xinyi export --db kb.sqlite"""
    from knowledge.db import KBError, open_db
    from knowledge.queries import export_kb
    try:
        emit(export_kb(open_db(db, readonly=True)))
    except KBError as exc:
        fail(str(exc))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("xinyi: interrupted\n")
        sys.exit(130)


def parse_as_of(value: Optional[str]):
    from datetime import date
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of: expected a date YYYY-MM-DD, got {value!r}", 2)


@app.command()
def check(db: DbOption,
          profile: Annotated[Path, typer.Option("--profile", help="enterprise profile JSON (shared/contract/profile.md)")],
          as_of: Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM-DD, default today")] = None) -> None:
    """Which measures apply to an enterprise, rule by rule, with reasons and citations.
    Example: xinyi check --db kb.sqlite --profile company.json --as-of 2026-11-22"""
    from knowledge.check import check_profile, ProfileError
    from knowledge.db import KBError
    day = parse_as_of(as_of)
    try:
        data = json.loads(profile.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{profile}: no such file", 2)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{profile}: not valid JSON ({exc})", 2)
    try:
        emit(check_profile(db, data, day))
    except ProfileError as exc:
        fail(f"{profile.name}: {exc}", 2)
    except KBError as exc:
        fail(str(exc))
