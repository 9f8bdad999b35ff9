"""The `xinyi` command: thin commands over library calls; the contract's commands print one JSON document
(`xinyi sessions` prints text unless --json)."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

if __name__ == "__main__" or Path(sys.argv[0]).name in ("xinyi", "xinyi.exe"):
    # run as the program: a plain `xinyi check` is answered before typer (and pydantic) is imported
    from api.quick import run_quick
    run_quick(sys.argv[1:])

import typer  # noqa: E402

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="信易 xinyi — safety-production credit policies: ingest, export, check, ask, serve.")


from api.quick import emit, fail, parse_as_of  # noqa: E402 (one-line errors and dates, shared with the fast path)


DbOption = Annotated[Path, typer.Option("--db", help="SQLite knowledge base file")]
SessionsOption = Annotated[Optional[Path], typer.Option(
    "--sessions", envvar="XINYI_SESSIONS",
    help="SQLite file for chat sessions (default: <kb stem>.sessions.sqlite beside the KB)")]


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="files or folders (.txt .html .docx .pdf)")],
           db: DbOption, quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
           replaces: Annotated[Optional[str], typer.Option(
               "--replaces", help="the id of the document this one file is a new version of")] = None,
           max_file_mb: Annotated[Optional[float], typer.Option(
               "--max-file-mb", help="refuse a file larger than this (default 20, or XINYI_MAX_FILE_MB)")] = None
           ) -> None:
    """Read policy documents into the KB (idempotent); a revision becomes the next version of its document.
    A file over a limit (size, PDF pages, .docx declared size, time, memory: README "Limits") is refused.
    Example: xinyi ingest corpus/ --db kb.sqlite   ·   xinyi ingest new.txt --db kb.sqlite --replaces 003_x"""
    from knowledge.ingest import default_workers, ingest_paths
    from knowledge.db import KBError
    from nlp.budget import Limits
    from nlp.types import XinyiError
    try:
        limits = Limits.from_env(max_file_mb=max_file_mb)
        report = ingest_paths(paths, db, progress=not quiet and sys.stderr.isatty(), replaces=replaces,
                              limits=limits, workers=default_workers())
    except (XinyiError, KBError) as exc:
        fail(str(exc))
    emit(report)
    if not quiet:
        for d in report["documents"]:
            sys.stderr.write(f"xinyi: {d['source_file']}: {d['status']}, {d['measures']} measures, "
                             f"{d['conditions']} conditions ({d['attestation_only']} attestation-only)\n")
            if d.get("matched_by") and d["matched_by"] != "same_file" and d["status"] == "updated":
                where = "current" if d.get("current") else "an earlier"
                sys.stderr.write(f"xinyi: {d['source_file']}: version {d['version']} ({where}) of {d['document_id']}"
                                 f" (recognised by {d['matched_by']})\n")
            if d.get("ambiguous"):
                sys.stderr.write(f"xinyi: {d['source_file']}: might revise {' or '.join(d['ambiguous'])}; kept as "
                                 f"a new document {d['document_id']} — say which with --replaces DOC_ID\n")
            if d.get("retired"):
                sys.stderr.write(f"xinyi: {d['source_file']}: {d['document_id']} is retired (xinyi remove): kept, "
                                 f"not in answers\n")
            for w in d["warnings"]:
                sys.stderr.write(f"xinyi: {d['source_file']}: warning: {w}\n")
    if report["errors"]:
        for e in report["errors"]:
            sys.stderr.write(f"xinyi: {e}\n")
        done, names = len(report["documents"]), [e.split(": ", 1)[0] for e in report["errors"]]
        sys.stderr.write(f"xinyi: {done} file{'' if done == 1 else 's'} ingested; {len(names)} refused, each for "
                         f"the reason above: {', '.join(names)}\n")
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


@app.command()
def diff(document: Annotated[str, typer.Argument(help="document id (xinyi export / versions)")], db: DbOption,
         from_version: Annotated[Optional[int], typer.Option("--from", help="older version (default: the one before --to)")] = None,
         to_version: Annotated[Optional[int], typer.Option("--to", help="newer version (default: the current one)")] = None,
         as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of text")] = False) -> None:
    """What changed between two versions of a document: clauses, measures, conditions and rules added, removed and
    changed (matched by content, so renumbered articles are found), with a Chinese summary.
    Example: xinyi diff --db kb.sqlite 003_de71b19c54652fc1 --from 1 --to 2"""
    from knowledge.db import KBError, open_db
    from knowledge.diff import DiffError, document_diff
    try:
        d = document_diff(open_db(db, readonly=True), document, from_version, to_version)
    except (KBError, DiffError) as exc:
        fail(str(exc))
    if as_json:
        emit(d)
        return
    lines = [f"{document}: 第{d['from']['version']}版（{d['from']['source_file']}）→ 第{d['to']['version']}版"
             f"（{d['to']['source_file']}）", d["summary"]]
    for key, name in (("clauses", "条款"), ("measures", "措施"), ("conditions", "条件")):
        part = d[key]
        for a in part["added"]:
            lines.append(f"+ {name} {a['where']}: {a['text']}")
        for r in part["removed"]:
            lines.append(f"- {name} {r['where']}: {r['text']}")
        for c in part["changed"]:
            lines.append(f"~ {name} {c['old']['where']}→{c['new']['where']}: {c['old']['text']}\n    ⇒ {c['new']['text']}")
        for r in part.get("renumbered", []):
            lines.append(f"> {name} {r['old']['where']}→{r['new']['where']}")
    sys.stdout.write("\n".join(lines) + "\n")


@app.command()
def versions(document: Annotated[str, typer.Argument(help="document id")], db: DbOption) -> None:
    """A document's versions, oldest first, with validity (effective_from, expires, superseded_on, 试行).
    Example: xinyi versions --db kb.sqlite 003_de71b19c54652fc1"""
    from knowledge.db import KBError, open_db
    from knowledge.queries import list_versions
    try:
        rows = list_versions(open_db(db, readonly=True), document)
    except KBError as exc:
        fail(str(exc))
    if not rows:
        fail(f"no document with id {document!r}")
    emit(rows)


@app.command()
def remove(document: Annotated[str, typer.Argument(help="document id")], db: DbOption,
           as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of text")] = False) -> None:
    """Take a document out of answers (check, ask, search); every version stays in the KB for audit and export
    marks it retired_at. Example: xinyi remove --db kb.sqlite 003_de71b19c54652fc1"""
    from knowledge.db import KBError, open_db
    from knowledge.store import retire_document
    from nlp.types import XinyiError
    if not db.exists():
        fail(f"{db}: no knowledge base here")
    try:
        out = retire_document(open_db(db), document)
    except (KBError, XinyiError) as exc:
        fail(str(exc))
    if as_json:
        emit(out)
    else:
        sys.stdout.write(f"{document}: {'removed from answers' if out['changed'] else 'already removed'} "
                         f"at {out['retired_at']}; its versions are kept\n")


JsonFlagOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of text")]


@app.command()
def correct(db: DbOption,
            document: Annotated[Optional[str], typer.Argument(help="document id (xinyi export / review)")] = None,
            clause: Annotated[Optional[str], typer.Option("--clause", help="clause path, e.g. 第五条（二）, or its id")] = None,
            item: Annotated[Optional[str], typer.Option("--item", help="a measure or condition id (instead of --clause)")] = None,
            drop_measure: Annotated[bool, typer.Option("--drop-measure", help="the clause's measure is false: drop it")] = False,
            add_measure: Annotated[Optional[str], typer.Option("--add-measure", help="wording of a measure the clause has")] = None,
            measure: Annotated[Optional[str], typer.Option("--measure", help="which measure of the clause (its wording)")] = None,
            kind: Annotated[Optional[str], typer.Option("--kind", help="incentive, penalty or other")] = None,
            departments: Annotated[Optional[str], typer.Option("--departments", help="departments, 、 or , between")] = None,
            condition: Annotated[Optional[str], typer.Option("--condition", help="which condition of the clause (its wording)")] = None,
            role: Annotated[Optional[str], typer.Option("--role", help="incentive_eligibility, penalty_trigger, scope, other")] = None,
            predicate: Annotated[Optional[str], typer.Option("--predicate", help="the condition's predicate as JSON")] = None,
            attestation: Annotated[Optional[str], typer.Option("--attestation", help="the condition is asked in these words")] = None,
            by: Annotated[Optional[str], typer.Option("--by", help="who makes the correction")] = None,
            why: Annotated[Optional[str], typer.Option("--why", help="why")] = None,
            file: Annotated[Optional[Path], typer.Option("--file", help="a reviewed corrections file (YAML)")] = None,
            list_: Annotated[bool, typer.Option("--list", help="list corrections with their status (applied / stale)")] = False,
            as_json: JsonFlagOpt = False) -> None:
    """Staff corrections that survive re-ingest: drop a false measure, add a missed one, set a measure's departments
    or kind, set a condition's role, predicate or attestation wording — each with who and why. Kept apart from the
    extraction, keyed by the clause's content, applied after every re-ingest; stale when the clause changed.
    Example: xinyi correct --db kb.sqlite 003_de71b19c54652fc1 --clause 第五条（二） --drop-measure --by 王 --why 不是措施"""
    from knowledge.corrections import CorrectionError, apply_file, lines, list_corrections, record
    from knowledge.db import KBError, open_db
    if not db.exists():
        fail(f"{db}: no knowledge base here")
    try:
        kb = open_db(db, readonly=list_)
        if list_:
            rows = list_corrections(kb, document)
            if as_json:
                emit(rows)
            else:
                sys.stdout.write(lines(rows) or "no corrections\n")
            return
        if file is not None:
            out = apply_file(kb, file)
            if as_json:
                emit(out)
            else:
                sys.stdout.write(lines(out["corrections"]))
            for e in out["errors"]:
                sys.stderr.write(f"xinyi: {file.name}: entry {e['entry']}: {e['error']}\n")
            if out["errors"]:
                raise typer.Exit(1)
            return
        if not document:
            fail("say which document (DOC), or --file / --list", 2)
        spec = {"clause": clause, "item": item, "drop_measure": drop_measure, "add_measure": add_measure,
                "measure": measure, "kind": kind, "departments": departments, "condition": condition, "role": role,
                "predicate": predicate, "attestation": attestation}
        out = record(kb, document, spec, by, why)
    except CorrectionError as exc:
        fail(str(exc), 2)
    except KBError as exc:
        fail(str(exc))
    if as_json:
        emit(out)
    else:
        sys.stdout.write(("" if out["recorded"] else "already recorded: ") + lines([out]))


@app.command()
def review(db: DbOption, as_json: JsonFlagOpt = False,
           limit: Annotated[Optional[int], typer.Option("--limit", help="show at most this many")] = None) -> None:
    """What most needs a person's eye, worst first: documents with few findings, stale corrections, measures
    without departments, conditions only the enterprise can attest. Example: xinyi review --db kb.sqlite"""
    from knowledge.db import KBError, open_db
    from knowledge.review import lines, review as review_kb
    try:
        items = review_kb(open_db(db, readonly=True))
    except KBError as exc:
        fail(str(exc))
    items = items[:limit] if limit else items
    if as_json:
        emit(items)
    else:
        sys.stdout.write(lines(items) or "nothing to review\n")


@app.command()
def impact(document: Annotated[str, typer.Argument(help="document id")], db: DbOption,
           profiles: Annotated[Path, typer.Option("--profiles", help="profiles: JSONL, or CSV with profile keys as columns")],
           from_version: Annotated[Optional[int], typer.Option("--from", help="older version (default: the one before --to)")] = None,
           to_version: Annotated[Optional[int], typer.Option("--to", help="newer version (default: the current one)")] = None,
           as_of: Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM-DD the profiles are judged on, default today")] = None,
           as_json: JsonFlagOpt = False) -> None:
    """Which enterprises' results change between two versions of a document, and how: the measures each gains or
    loses and the condition that decided it. A bad profile row is reported with its line number and skipped.
    Example: xinyi impact --db kb.sqlite 003_de71b19c54652fc1 --profiles firms.csv --from 1 --to 2"""
    from knowledge.db import KBError, open_db
    from knowledge.impact import ImpactError, impact as impact_of, read_profiles
    day = parse_as_of(as_of)
    try:
        rows, errors, warnings = read_profiles(profiles)
        out = impact_of(open_db(db, readonly=True), document, rows, from_version, to_version, day)
    except (KBError, ImpactError) as exc:
        fail(str(exc))
    out["errors"], out["warnings"] = errors, warnings
    for w in warnings:
        sys.stderr.write(f"xinyi: {w}\n")
    for e in errors:
        sys.stderr.write(f"xinyi: {profiles.name}: line {e['line']}: {e['error']} (skipped)\n")
    if as_json:
        emit(out)
        return
    lines = [f"{document}: 第{out['from']['version']}版 → 第{out['to']['version']}版，{out['profiles']} 家企业，"
             f"{len(out['changed'])} 家结果有变化，{out['unchanged']} 家不变"]
    for c in out["changed"]:
        lines.append(f"第{c['line']}行 {c['name'] or ''}：{c['summary']}")
        for m in c["loses"]:
            lines.append(f"  - {m['where']} {m['text']}")
        for m in c["gains"]:
            lines.append(f"  + {m['where']} {m['text']}")
        for m in c["undetermined"]:
            lines.append(f"  ? {m['where']} {m['text']}")
    sys.stdout.write("\n".join(lines) + "\n")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("xinyi: interrupted\n")
        sys.exit(130)


@app.command()
def check(db: DbOption,
          profile: Annotated[Path, typer.Option("--profile", help="enterprise profile JSON (shared/contract/profile.md)")],
          as_of: Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM-DD, default today")] = None,
          full: Annotated[bool, typer.Option("--full", help="every rule of every document, none summarised")]
          = False) -> None:
    """Which measures apply to an enterprise, rule by rule, with reasons and citations (a document whose place or
    scope excludes the enterprise: one does_not_apply result per kind, citing why; one no stated fact can decide:
    one undetermined result per kind; --full lists every rule).
    Example: xinyi check --db kb.sqlite --profile company.json --as-of 2026-11-22"""
    from api.quick import check_command
    check_command(db, profile, as_of, full)


@app.command()
def match(db: DbOption,
          out: Annotated[Path, typer.Option("--out", help="folder for results, undetermined, push lists, summary.json")],
          profiles: Annotated[Optional[Path], typer.Option(
              "--profiles", help="profiles: .jsonl (one contract profile per line) or .parquet (one column per fact)")]
          = None,
          as_of: Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM-DD, default today")] = None,
          registry: Annotated[Optional[Path], typer.Option(
              "--registry", help="the enterprises of a registry file (xinyi registry import) instead of --profiles")]
          = None,
          record: Annotated[bool, typer.Option(
              "--record", help="also record the push items in the registry (xinyi feedback follows them)")] = False,
          due_days: Annotated[int, typer.Option("--due-days", help="days a department has for a recorded item")] = 30,
          rule: Annotated[Optional[list[str]], typer.Option("--rule", help="only this rule id (repeatable)")] = None,
          csv: Annotated[bool, typer.Option("--csv/--no-csv", help="also write CSV beside Parquet")] = True,
          as_json: JsonFlagOpt = False) -> None:
    """Every rule of every document in force, for every enterprise at once (compiled to DuckDB): who gets what,
    what stays undetermined, and one push list per implementing department.
    Example: xinyi match --db kb.sqlite --profiles enterprises.jsonl --as-of 2026-11-22 --out matches/
             xinyi match --db kb.sqlite --registry kb.registry.sqlite --record --out matches/"""
    import time
    from datetime import timedelta
    from knowledge.db import KBError, open_db
    from knowledge.match import MatchError, load_source, match_profiles, profiles_table, push_records
    from knowledge.queries import load_kb
    from knowledge.registry import RegistryError, record_push_items, registry_profiles
    day = parse_as_of(as_of)
    if (profiles is None) == (registry is None):
        fail("give either --profiles FILE or --registry FILE", 2)
    if record and registry is None:
        fail("--record needs --registry: push items are kept in the registry", 2)
    started = time.perf_counter()

    def progress(step: str) -> None:
        sys.stderr.write(f"xinyi: match: {time.perf_counter() - started:6.1f} s  {step}\n")
    refused: list[str] = []

    def refuse(line: int, reason: str) -> None:
        refused.append(f"{profiles.name}: line {line}: skipped — {reason}")
        sys.stderr.write(f"xinyi: {refused[-1]}\n")
    source_file = profiles or registry

    def source(con) -> str:
        if profiles is not None:
            return load_source(con, profiles, refuse)
        con.register("registry_profiles", profiles_table(registry_profiles(registry)))
        return "registry_profiles"
    recorded = None

    def keep(con) -> None:
        nonlocal recorded
        recorded = record_push_items(registry, push_records(con, day, day + timedelta(days=due_days)))
        progress(f"{recorded['pushed']} push items recorded in {registry.name} ({recorded['already']} already there)")
    try:
        kb = load_kb(open_db(db, readonly=True), day)
        summary = match_profiles(kb, source, day, out, set(rule) if rule else None,
                                 ("parquet", "csv") if csv else ("parquet",), progress, keep if record else None)
    except (MatchError, KBError, RegistryError) as exc:
        named = str(exc) if str(source_file) in str(exc) else f"{source_file}: {exc}"
        fail(named, 2 if isinstance(exc, MatchError) else 1)
    if recorded is not None:
        summary["recorded"] = recorded
    summary["skipped_lines"] = len(refused)
    if as_json:
        emit(summary)
    else:
        sys.stdout.write(f"{summary['profiles']} 家企业 × {summary['rules']} 条规则（{summary['as_of']}）：适用 "
                         f"{summary['applies']} 项，待确认 {summary['undetermined']} 项；推送清单 "
                         f"{len(summary['push_lists'])} 个部门 → {out}\n")
        for dep, info in list(summary["push_lists"].items())[:10]:
            sys.stdout.write(f"  {dep}: {info['items']} 项\n")
    if refused:
        sys.stderr.write(f"xinyi: {len(refused)} lines of {source_file.name} skipped\n")
        raise typer.Exit(1)


@app.command()
def serve(db: DbOption,
          host: Annotated[str, typer.Option("--host", help="interface to listen on (default loopback only; "
                                                           "0.0.0.0 for every interface)")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="TCP port")] = 8000,
          sessions: SessionsOption = None,
          registry: Annotated[Optional[Path], typer.Option(
              "--registry", envvar="XINYI_REGISTRY",
              help="enterprise registry file (default: <kb stem>.registry.sqlite beside the KB)")] = None,
          allow_uploads: Annotated[bool, typer.Option(
              "--allow-uploads", envvar="XINYI_ALLOW_UPLOADS",
              help="let staff upload documents into the KB (POST /v1/documents, with XINYI_TOKEN)")] = False) -> None:
    """Serve the KB read-only over HTTP (OpenAPI at /docs); chat sessions go to their own file, registry events
    and feedback to the registry's — written only with the bearer token in XINYI_TOKEN (unset: no writes).
    With --allow-uploads, staff may also upload documents into the KB (POST /v1/documents, the web page's
    工作人员 view), with the same token.
    Listens on 127.0.0.1 unless --host says otherwise. XINYI_READ_TOKEN_REQUIRED=1: reads, chat and check need
    the token too; XINYI_CHAT_RATE: chat turns a minute per client address (default 60, 0: off);
    XINYI_CORS_ORIGINS: origins allowed to call from a browser (comma-separated; default none).
    Example: XINYI_TOKEN=… xinyi serve --db kb.sqlite --port 8000 [--allow-uploads]"""
    import dataclasses
    import uvicorn
    from api.app import Settings, create_app
    from knowledge.db import KBError, open_db
    try:
        open_db(db, readonly=True).conn.close()
    except KBError as exc:
        fail(str(exc))
    try:
        settings = dataclasses.replace(Settings.from_env(), db_path=db, sessions_path=sessions,
                                       registry_path=registry, allow_uploads=allow_uploads)
    except ValueError as exc:
        fail(str(exc), 2)
    if settings.read_token_required and not settings.write_token:
        fail("XINYI_READ_TOKEN_REQUIRED is set but XINYI_TOKEN is not: set the token the clients will send", 2)
    if not settings.write_token:
        sys.stderr.write("xinyi: XINYI_TOKEN is not set: registry writes (events, feedback) are disabled"
                         + (" and so are uploads" if allow_uploads else "") + "\n")
    if host not in ("127.0.0.1", "localhost", "::1") and not settings.read_token_required:
        sys.stderr.write(f"xinyi: listening on {host}: the KB, chat and check are open to anyone who can reach it "
                         "(XINYI_READ_TOKEN_REQUIRED=1 closes them)\n")
    logger = logging.getLogger("xinyi")  # one line per answer: endpoint, KB stamp, status, ms — nothing asked
    if not logger.handlers and not logging.getLogger().handlers:
        handler = StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    # uvicorn's own access log is off: it would print each path and query string; the "xinyi" log replaces it
    uvicorn.run(create_app(settings), host=host, port=port, access_log=False)


class StderrHandler(logging.StreamHandler):
    """A log handler writing to whatever sys.stderr is when a line is written."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


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


@app.command()
def ask(question: Annotated[str, typer.Argument(help="a question in Chinese")], db: DbOption,
        session: Annotated[Optional[str], typer.Option("--session", help="continue this conversation")] = None,
        as_of: Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM-DD, default today")] = None,
        sessions: SessionsOption = None) -> None:
    """Chat: facts from Chinese text, cited answers, and the follow-up questions that decide them. The KB is
    only read; the conversation is kept in the sessions file.
    Example: xinyi ask --db kb.sqlite "我们是无锡的危化品企业，标准化二级，能享受什么？\""""
    from knowledge.db import KBError
    from knowledge.dialogue import ask as ask_question
    from knowledge.sessions import SessionConflict, SessionError, UnknownSession
    day = parse_as_of(as_of)
    if not question.strip():
        fail("question: expected a non-empty Chinese question", 2)
    if not db.exists():
        fail(f"{db}: not found; run `xinyi ingest corpus/ --db {db}` first")
    try:
        emit(ask_question(db, question, session, day, sessions_path=sessions))
    except (KBError, SessionError) as exc:
        fail(str(exc))
    except SessionConflict:
        fail(f"session {session}: too many turns at once; send this one again")
    except UnknownSession:
        fail(f"unknown session {session!r}: use the session_id an earlier answer gave, or leave --session out to "
             "start a conversation")


from .registry_cli import register as register_registry  # noqa: E402 (xinyi registry, notifications, feedback)

register_registry(app)

sessions_app = typer.Typer(no_args_is_help=True, help="Chat sessions kept beside the KB: show or delete one.")
app.add_typer(sessions_app, name="sessions")


def open_sessions(db: Optional[Path], sessions: Optional[Path]):
    from knowledge.sessions import SessionError, SessionStore, resolve_path
    if db is None and sessions is None:
        fail("--db or --sessions: say which knowledge base (or sessions file) the session belongs to", 2)
    try:
        path = resolve_path(db, sessions) if db else sessions
        return SessionStore(path, create=False)
    except SessionError as exc:
        fail(str(exc))


OptionalDb = Annotated[Optional[Path], typer.Option("--db", help="SQLite knowledge base file the chat used")]
SessionId = Annotated[str, typer.Argument(help="the session_id of a chat answer")]
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON instead of text")]


@sessions_app.command("delete")
def sessions_delete(session_id: SessionId, db: OptionalDb = None, sessions: SessionsOption = None,
                    as_json: JsonFlag = False) -> None:
    """Forget a conversation and its turns; a later turn with this id starts empty.
    Example: xinyi sessions delete --db kb.sqlite 3351144337fd"""
    from knowledge.sessions import SessionError
    with open_sessions(db, sessions) as store:
        try:
            found = store.get(session_id)
            deleted = found is not None and store.delete(session_id)
        except SessionError as exc:
            fail(str(exc))
    if not deleted:
        fail(f"no session with id {session_id!r} in {store.path}")
    if as_json:
        emit({"session_id": session_id, "deleted": True, "turns": len(found["turns"]),
              "sessions_path": str(store.path)})
    else:
        sys.stdout.write(f"deleted session {session_id} ({len(found['turns'])} turns) from {store.path}\n")


@sessions_app.command("show")
def sessions_show(session_id: SessionId, db: OptionalDb = None, sessions: SessionsOption = None,
                  as_json: JsonFlag = False) -> None:
    """A conversation: the facts gathered so far and every turn.
    Example: xinyi sessions show --db kb.sqlite 3351144337fd --json"""
    from knowledge.dialogue import public_facts
    with open_sessions(db, sessions) as store:
        found = store.get(session_id)
    if found is None:
        fail(f"no session with id {session_id!r} in {store.path}")
    facts = public_facts(found["facts"])
    if as_json:
        emit({"session_id": session_id, "facts": facts, "created_at": found["created_at"],
              "updated_at": found["updated_at"], "turns": found["turns"]})
        return
    lines = [f"session {session_id}: {len(found['turns'])} turns, {found['created_at']} – {found['updated_at']}",
             "facts: " + json.dumps(facts, ensure_ascii=False)]
    for t in found["turns"]:
        lines.append(f"{t['n']}. {t['message']}")
        lines.extend("   " + line for line in t["reply"].get("reply", "").splitlines())
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
