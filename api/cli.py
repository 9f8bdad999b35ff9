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
    if not quiet:
        for d in report["documents"]:
            sys.stderr.write(f"xinyi: {d['source_file']}: {d['status']}, {d['measures']} measures, "
                             f"{d['conditions']} conditions ({d['attestation_only']} attestation-only)\n")
            for w in d["warnings"]:
                sys.stderr.write(f"xinyi: {d['source_file']}: warning: {w}\n")
    if report["errors"]:
        for e in report["errors"]:
            sys.stderr.write(f"xinyi: {e}\n")
        raise typer.Exit(1)


@app.command("train-classifier")
def train_classifier(root: Annotated[Path, typer.Option("--root", help="project checkout (../shared beside it)")]
                     = Path(".")) -> None:
    """Rebuild the item classifier (nlp/data/item_classifier.json) from every gold annotation in reach and print
    its leave-one-document-out accuracy. Example: xinyi train-classifier"""
    from nlp.classifier import rebuild
    try:
        emit(rebuild(root.resolve()))
    except FileNotFoundError as exc:
        fail(str(exc))


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
        data = json.loads(profile.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        fail(f"{profile}: no such file", 2)
    except IsADirectoryError:
        fail(f"{profile}: is a folder; expected a profile JSON file", 2)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{profile}: not valid JSON ({exc})", 2)
    try:
        emit(check_profile(db, data, day))
    except ProfileError as exc:
        fail(f"{profile.name}: {exc}", 2)
    except KBError as exc:
        fail(str(exc))


@app.command()
def serve(db: DbOption,
          host: Annotated[str, typer.Option("--host", help="interface to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="TCP port")] = 8000) -> None:
    """Serve the KB read-only over HTTP (OpenAPI at /docs). Example: xinyi serve --db kb.sqlite --port 8000"""
    import uvicorn
    from api.app import Settings, create_app
    from knowledge.db import KBError, open_db
    try:
        open_db(db, readonly=True).conn.close()
    except KBError as exc:
        fail(str(exc))
    uvicorn.run(create_app(Settings(db_path=db)), host=host, port=port)


@app.command()
def measures(db: DbOption,
             department: Annotated[Optional[str], typer.Option("--department", help="fuzzy, e.g. 财政局")] = None,
             kind: Annotated[Optional[str], typer.Option("--kind", help="incentive, penalty, other")] = None,
             fmt: Annotated[str, typer.Option("--format", help="json or csv")] = "json") -> None:
    """The 措施清单, optionally by department and kind.
    Example: xinyi measures --db kb.sqlite --department 财政局 --format csv"""
    from knowledge.db import KBError, open_db
    from knowledge.search import list_measures, measures_csv
    if fmt not in ("json", "csv"):
        fail(f"--format: expected json or csv, got {fmt!r}", 2)
    try:
        if kind and kind not in ("incentive", "penalty", "other"):
            fail(f"--kind: expected incentive, penalty or other, got {kind!r}", 2)
        rows = list_measures(open_db(db, readonly=True), department=department, kind=kind)
    except KBError as exc:
        fail(str(exc))
    if fmt == "csv":
        sys.stdout.write(measures_csv(rows))
    else:
        emit(rows)


if __name__ == "__main__":
    main()


@app.command()
def ask(question: Annotated[str, typer.Argument(help="a question in Chinese")], db: DbOption,
        session: Annotated[Optional[str], typer.Option("--session", help="continue this conversation")] = None,
        as_of: Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM-DD, default today")] = None) -> None:
    """Chat: facts from Chinese text, cited answers, and the follow-up questions that decide them.
    Example: xinyi ask --db kb.sqlite "我们是无锡的危化品企业，标准化二级，能享受什么？\""""
    from knowledge.db import KBError
    from knowledge.dialogue import ask as ask_question
    day = parse_as_of(as_of)
    if not question.strip():
        fail("question: expected a non-empty Chinese question", 2)
    if not db.exists():
        fail(f"{db}: no knowledge base here; run `xinyi ingest corpus/ --db {db}` first")
    try:
        emit(ask_question(db, question, session, day))
    except KBError as exc:
        fail(str(exc))
