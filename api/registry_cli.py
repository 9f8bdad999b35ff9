"""The registry commands: `xinyi registry import|event|show|push`, `xinyi notifications`, `xinyi feedback`.

Text for people by default, `--json` for machines; warnings and refused rows on stderr. The options of
`registry event` are the event fields declared in nlp/data/profile_schema.json (one option each).
"""
from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from nlp.profile_schema import event_fields, event_types

registry_app = typer.Typer(no_args_is_help=True,
                           help="Enterprises and their events (登记、事件), and the measures pushed to departments.")

RegistryOption = Annotated[Optional[Path], typer.Option(
    "--registry", envvar="XINYI_REGISTRY",
    help="SQLite file of the enterprise registry (default: <kb stem>.registry.sqlite beside the KB)")]
OptionalDb = Annotated[Optional[Path], typer.Option("--db", help="SQLite knowledge base file (the registry sits "
                                                                 "beside it unless --registry says otherwise)")]
Db = Annotated[Path, typer.Option("--db", help="SQLite knowledge base file")]
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON instead of text")]
AsOf = Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM-DD the policies are judged on, default today")]

ACTION_WORDS = {("stop", "incentive"): "停止激励", ("start", "incentive"): "给予激励",
                ("start", "penalty"): "实施惩戒", ("stop", "penalty"): "解除惩戒"}
KIND_WORDS = {"incentive": "激励", "penalty": "惩戒", "other": "其他"}
STATUS_WORDS = {"open": "未反馈", "withdrawn": "已撤回（措施已停止）", "executed": "已执行", "not_applicable": "不适用", "refused": "拒绝执行"}


def emit(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def fail(message: str, code: int = 1) -> None:
    sys.stderr.write(f"xinyi: {message}\n")
    raise typer.Exit(code)


def warn(message: str) -> None:
    sys.stderr.write(f"xinyi: {message}\n")


def day_option(name: str, value: Optional[str]):
    from datetime import date
    from knowledge.profile import FIRST_DAY, LAST_DAY
    if not value:
        return date.today()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: expected a date YYYY-MM-DD, got {value!r}", 2)
    if not FIRST_DAY <= day <= LAST_DAY:
        fail(f"{name}: expected a date between {FIRST_DAY} and {LAST_DAY}, got {value}", 2)
    return day


def open_registry(db: Optional[Path], registry: Optional[Path], create: bool = False):
    """The registry named by --registry, or the one beside --db; a missing file is refused unless `create`."""
    from knowledge.registry import Registry, RegistryError, resolve_path
    try:
        path = resolve_path(db, registry)
    except RegistryError as exc:
        fail(str(exc), 2)
    if not create and not path.exists():
        fail(f"{path}: no registry here; import enterprises first (xinyi registry import FILE --registry {path})")
    try:
        return Registry(path, create=create)
    except RegistryError as exc:
        fail(str(exc))


def load_kb(db: Path, as_of):
    from knowledge.db import KBError
    from knowledge.queries import cached_kb
    try:
        return cached_kb(db, as_of)
    except KBError as exc:
        fail(str(exc))


def where(citation: dict) -> str:
    return "".join(str(p) for p in citation.get("path") or [])


def cited(citation: dict) -> str:
    return f"《{citation.get('title') or citation.get('source_file')}》{where(citation)}"


def event_text(ev: dict) -> str:
    """2026-05-01 生产安全事故（死亡人数 1，是否为责任事故 是）"""
    from knowledge.evaluate import event_label
    when = ev.get("date") or "–".join(filter(None, (ev.get("date_from"), ev.get("date_to"))))
    details = []
    for key, decl in event_fields().items():
        value = ev.get(key)
        if value is None or decl["type"] == "date":
            continue
        if isinstance(value, bool):
            value = "是" if value else "否"
        value = decl.get("choice_labels", {}).get(str(value), value)
        details.append(f"{decl['label']} {value}")
    return f"{when} {event_label(ev['type'])}" + (f"（{'，'.join(details)}）" if details else "")


def fact_lines(profile: dict) -> list[str]:
    from knowledge.evaluate import show
    from knowledge.registry import stored_facts
    out = []
    for key, decl in stored_facts().items():
        if key in ("credit_code", "name") or profile.get(key) is None:
            continue
        value = profile[key]
        text = "、".join(value) if isinstance(value, list) else \
            json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else show(key, value)
        out.append(f"  {decl['label']}：{text}")
    return out


# ---- registry import ----------------------------------------------------------------------------

@registry_app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK), JSONL or Parquet; one enterprise a row")],
            registry: RegistryOption = None, db: OptionalDb = None,
            map_: Annotated[Optional[list[str]], typer.Option(
                "--map", help="HEADER=KEY: read column HEADER as profile key KEY (repeatable)")] = None,
            as_json: JsonFlag = False) -> None:
    """Add or update enterprises from a file: 统一社会信用代码 and the profile facts (所在地、所属行业、标准化等级、
    从业人员、是否重大危险源 …). A bad row is reported with its line number and skipped; the good rows are
    written in one transaction. Example: xinyi registry import firms.csv --db kb.sqlite --map 单位=name"""
    from knowledge.registry import RegistryError
    from knowledge.registry_import import ImportFileError, import_file, parse_map_options
    try:
        extra = parse_map_options(map_ or [])
    except ValueError as exc:
        fail(str(exc), 2)
    if not file.exists():
        fail(f"{file}: no such file", 2)
    with open_registry(db, registry, create=True) as reg:
        try:
            out = import_file(reg, file, extra)
        except ImportFileError as exc:
            fail(str(exc))
        except RegistryError as exc:
            fail(str(exc))
    for w in out["warnings"]:
        warn(w)
    for e in out["errors"]:
        warn(f"{file.name}: {out['unit']} {e['line']}: {e['error']} (skipped)")
    if as_json:
        emit(out)
    else:
        sys.stdout.write(f"{file.name}: imported {out['imported']} ({out['inserted']} new, {out['updated']} "
                         f"updated), skipped {out['skipped']}\n")
    if out["skipped"]:
        raise typer.Exit(1)


# ---- registry event: one option per declared event field ------------------------------------------

def field_option(key: str, decl: dict):
    """The typer parameter for one declared event field."""
    flag = "--" + key.replace("_", "-")
    label = decl["label"]
    if decl["type"] == "boolean":
        ann = Annotated[Optional[bool], typer.Option(f"{flag}/--not-{key.replace('_', '-')}", help=label)]
    elif decl["type"] == "count":
        ann = Annotated[Optional[int], typer.Option(flag, help=label)]
    elif decl["type"] == "choice":
        names = [f"{c}（{decl['choice_labels'][str(c)]}）" if str(c) in decl.get("choice_labels", {}) else str(c)
                 for c in decl["choices"]]
        ann = Annotated[Optional[str], typer.Option(flag, help=f"{label}: {', '.join(names)}")]
    elif decl["type"] == "date":
        ann = Annotated[Optional[str], typer.Option(flag, help=f"{label} YYYY-MM-DD")]
    else:
        ann = Annotated[Optional[str], typer.Option(flag, help=label)]
    return inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ann)


def choice_value(decl: dict, value: Any) -> Any:
    """A choice given by its label (本单位) as its value (unit)."""
    if decl["type"] != "choice" or value is None:
        return value
    by_label = {label: c for c, label in decl.get("choice_labels", {}).items()}
    return by_label.get(value, value)


def record_event_command(code: str, event_type: str, db: Path, registry: Optional[Path], as_of: Optional[str],
                         by: Optional[str], note: Optional[str], as_json: bool, fields: dict) -> None:
    from knowledge.registry import RegistryError, RegistryInputError
    from knowledge.registry_import import normalize_code
    day = day_option("--as-of", as_of)
    event = {"type": event_type, **{k: choice_value(event_fields()[k], v) for k, v in fields.items()}}
    with open_registry(db, registry) as reg:
        code = normalize_code(code)
        kb = load_kb(db, day)
        try:
            out = reg.record_event(code, event, kb, day, by=by, note=note)
        except RegistryInputError as exc:
            option = "--type" if exc.field == "type" else f"--{exc.field.replace('_', '-')}" if exc.field else ""
            fail(f"{option + ': ' if option else ''}{exc}", 2)
        except LookupError:
            fail(f"no enterprise with 统一社会信用代码 {code} in {reg.path}; import it first (xinyi registry import)")
        except RegistryError as exc:
            fail(str(exc))
        name = (reg.enterprise_row(code) or {}).get("name") or ""
    if as_json:
        emit(out)
        return
    sys.stdout.write("\n".join(event_reply_lines(out, code, name)) + "\n")


def event_reply_lines(out: dict, code: str, name: str) -> list[str]:
    ev, notes = out["event"], out["notifications"]
    lines = [f"已记录事件 #{ev['id']}：{code} {name}，{event_text(ev)}"]
    if not notes:
        lines.append(f"按 {out['as_of']} 施行的政策判断，适用的措施没有变化，无需通知部门。")
        return lines
    by_rule: dict[tuple, dict[str, list[dict]]] = {}
    for n in notes:
        by_rule.setdefault((n["action"], n["rule_id"]), {}).setdefault(n["measure_id"], []).append(n)
    counts: dict[str, int] = {}
    for (action, _), measures in by_rule.items():
        word = action_word(action, next(iter(measures.values()))[0]["kind"])
        counts[word] = counts.get(word, 0) + len(measures)
    departments = {n["department"] for n in notes if n["department"]}
    lines.append(f"按 {out['as_of']} 施行的政策判断：" + "，".join(f"{w} {c} 项" for w, c in counts.items()) +
                 f"；通知 {len(departments)} 个部门（共 {len(notes)} 条）。")
    for (action, _), measures in by_rule.items():
        first = next(iter(measures.values()))[0]
        title = first["citation"].get("title") or first["citation"]["source_file"]
        lines.append(f"{action_word(action, first['kind'])} {len(measures)} 项（《{title}》）" +
                     (f"，因：{first['because']}" if first["because"] else ""))
        for group in measures.values():
            n = group[0]
            lines.append(f"  {where(n['citation'])} {n['measure_text']}")
            lines.append("      → " + "、".join(g["department"] or "（条款未写明实施部门）" for g in group))
    return lines


def action_word(action: str, kind: str) -> str:
    return ACTION_WORDS.get((action, kind), {"stop": "停止", "start": "开始"}.get(action, action))


def make_event_command():
    def command(code: str, event_type: str, db: Path, registry: Optional[Path] = None, as_of: Optional[str] = None,
                by: Optional[str] = None, note: Optional[str] = None, as_json: bool = False, **fields) -> None:
        record_event_command(code, event_type, db, registry, as_of, by, note, as_json, fields)
    kw = inspect.Parameter.KEYWORD_ONLY
    types = ", ".join(event_types())
    params = [
        inspect.Parameter("code", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          annotation=Annotated[str, typer.Argument(help="统一社会信用代码")]),
        inspect.Parameter("event_type", kw, annotation=Annotated[str, typer.Option("--type", help=types)]),
        inspect.Parameter("db", kw, annotation=Db),
        inspect.Parameter("registry", kw, default=None, annotation=RegistryOption),
        inspect.Parameter("as_of", kw, default=None, annotation=Annotated[Optional[str], typer.Option(
            "--as-of", help="YYYY-MM-DD the policies are judged on (default today, the day it is recorded)")]),
        inspect.Parameter("by", kw, default=None, annotation=Annotated[Optional[str], typer.Option(
            "--by", help="who records it")]),
        inspect.Parameter("note", kw, default=None, annotation=Annotated[Optional[str], typer.Option(
            "--note", help="a remark kept with the event")]),
        inspect.Parameter("as_json", kw, default=False, annotation=JsonFlag),
        *[field_option(k, d) for k, d in event_fields().items()],
    ]
    command.__signature__ = inspect.Signature(params)
    command.__doc__ = ("Append an event (事故、处罚、失信行为、列入名单、信用修复 …) to an enterprise's history and "
                       "tell each department what it changes: the measures that stop applying at once and those "
                       "that now apply (营口 动态管理). Example: xinyi registry event 91320281MA1X00010R --db "
                       "kb.sqlite --type accident --date 2026-05-01 --fatalities 1 --responsible --by 王芳")
    return command


registry_app.command("event")(make_event_command())


# ---- registry show / push --------------------------------------------------------------------------

@registry_app.command("show")
def show(code: Annotated[str, typer.Argument(help="统一社会信用代码")], registry: RegistryOption = None,
         db: OptionalDb = None, as_json: JsonFlag = False) -> None:
    """An enterprise: its facts and every event recorded, i.e. its profile (events complete; [] when none).
    Example: xinyi registry show 91320281MA1X00010R --db kb.sqlite"""
    from knowledge.registry import enterprise_profile
    from knowledge.registry_import import normalize_code
    code = normalize_code(code)
    with open_registry(db, registry) as reg:
        row = reg.enterprise_row(code)
        if row is None:
            fail(f"no enterprise with 统一社会信用代码 {code} in {reg.path}")
        profile = enterprise_profile(reg, code)
        events = reg.events_of(code)
        open_items = len(reg.push_items(open_only=True, credit_code=code))
        open_notes = len(reg.notifications(open_only=True, credit_code=code))
    if as_json:
        emit({"credit_code": code, "name": row.get("name"), "profile": profile, "events": events,
              "created_at": row["created_at"], "updated_at": row["updated_at"], "source": row.get("source")})
        return
    lines = [f"{code} {row.get('name') or '（未登记名称）'}", *fact_lines(profile),
             f"  登记于 {row['created_at']}，更新于 {row['updated_at']}" + (f"（{row['source']}）" if row.get("source") else "")]
    lines.append(f"事件（{len(events)} 件）：" if events else "事件：无记录（视为未发生事故、处罚或失信行为）")
    for ev in events:
        who = f"{ev['recorded_by']} " if ev.get("recorded_by") else ""
        lines.append(f"  #{ev['id']} {event_text(ev)} — {who}{ev['recorded_at'][:10]} 记录"
                     + (f"；{ev['note']}" if ev.get("note") else ""))
    if open_notes or open_items:
        lines.append(f"待办：{open_notes} 条通知未确认，{open_items} 项推送未反馈")
    sys.stdout.write("\n".join(lines) + "\n")


@registry_app.command("push")
def push(db: Db, registry: RegistryOption = None, as_of: AsOf = None,
         due_days: Annotated[int, typer.Option("--due-days", min=0, help="days a department has to answer")] = 30,
         as_json: JsonFlag = False) -> None:
    """Push to each department the measures that apply to the registry's enterprises (庄河 发起), each with its
    clause and a due day; an item pushed before is not pushed again. Example: xinyi registry push --db kb.sqlite"""
    from knowledge.registry import RegistryError, push_all
    day = day_option("--as-of", as_of)
    kb = load_kb(db, day)
    with open_registry(db, registry) as reg:
        try:
            out = push_all(reg, kb, day, due_days)
        except RegistryError as exc:
            fail(str(exc))
    if as_json:
        emit(out)
        return
    sys.stdout.write(f"按 {out['as_of']} 施行的政策，{out['enterprises']} 家企业：新推送 {out['pushed']} 项措施"
                     f"（涉及 {len(out['departments'])} 个部门），已推送过的 {out['already']} 项未重复；"
                     f"反馈期限 {out['due_on']}\n")


# ---- notifications ---------------------------------------------------------------------------------

def notification_lines(rows: list[dict]) -> list[str]:
    by_dept: dict[str, list[dict]] = {}
    for n in rows:
        by_dept.setdefault(n["department"] or "（条款未写明实施部门）", []).append(n)
    lines = []
    for dept, group in by_dept.items():
        waiting = sum(1 for n in group if not n["acknowledged_at"])
        lines.append(f"{dept}（{len(group)} 条，{waiting} 条待确认）")
        for n in group:
            done = f"，{n['acknowledged_at'][:10]} 已确认" if n["acknowledged_at"] else ""
            lines.append(f"  #{n['id']} {action_word(n['action'], n['kind'])} "
                         f"{n['credit_code']} {n['enterprise_name'] or ''}：{n['measure_text']}")
            lines.append(f"      依据{cited(n['citation'])}；事件 #{n['event_id']}（{n['event_date'] or ''} "
                         f"{event_label_of(n['event_type'])}）{done}")
    return lines


def event_label_of(kind: Optional[str]) -> str:
    from knowledge.evaluate import event_label
    return event_label(kind) if kind else ""


def notifications(department: Annotated[Optional[str], typer.Option(
                      "--department", help="fuzzy, e.g. 财政局 (as measures --department)")] = None,
                  open_: Annotated[bool, typer.Option("--open", help="only those not yet acknowledged")] = False,
                  enterprise: Annotated[Optional[str], typer.Option("--enterprise", help="统一社会信用代码")] = None,
                  ack: Annotated[Optional[int], typer.Option("--ack", help="acknowledge notification ID (acted on)")] = None,
                  by: Annotated[Optional[str], typer.Option("--by", help="who acknowledges")] = None,
                  registry: RegistryOption = None, db: OptionalDb = None, as_json: JsonFlag = False) -> None:
    """What each department must act on after recorded events: incentives to stop, penalties to start (and the
    reverse after a repair), each with its clause. Example: xinyi notifications --db kb.sqlite --department 财政局 --open"""
    from knowledge.registry import RegistryError
    from knowledge.registry_import import normalize_code
    with open_registry(db, registry) as reg:
        if ack is not None:
            try:
                found = reg.acknowledge(ack, by)
            except RegistryError as exc:
                fail(str(exc))
            if found is None:
                fail(f"no notification #{ack} in {reg.path}")
            if as_json:
                emit(found)
            else:
                sys.stdout.write(f"通知 #{ack} 已确认（{found['acknowledged_at']}"
                                 f"{'，' + found['acknowledged_by'] if found['acknowledged_by'] else ''}）\n")
            return
        rows = reg.notifications(department, open_, normalize_code(enterprise) if enterprise else None)
    if as_json:
        emit(rows)
        return
    if not rows:
        sys.stdout.write("没有" + ("待确认的" if open_ else "") + "通知" + (f"（{department}）" if department else "")
                         + "\n")
        return
    sys.stdout.write("\n".join(notification_lines(rows)) + "\n")


# ---- feedback --------------------------------------------------------------------------------------

def push_item_lines(rows: list[dict]) -> list[str]:
    by_dept: dict[str, list[dict]] = {}
    for p in rows:
        by_dept.setdefault(p["department"] or "（条款未写明实施部门）", []).append(p)
    lines = []
    for dept, group in by_dept.items():
        late = sum(1 for p in group if p["overdue"])
        lines.append(f"{dept}（{len(group)} 项" + (f"，{late} 项逾期" if late else "") + "）")
        for p in group:
            state = "逾期" if p["overdue"] else STATUS_WORDS.get(p["status"], p["status"])
            lines.append(f"  #{p['id']} [{state}] {p['credit_code']} {p['enterprise_name'] or ''} "
                         f"{KIND_WORDS.get(p['kind'], '')}：{p['measure_text']}")
            lines.append(f"      依据{cited(p['citation'])}，期限 {p['due_on'] or '未定'}")
    return lines


def feedback(item: Annotated[Optional[int], typer.Argument(help="push item id (xinyi feedback --open)")] = None,
             status: Annotated[Optional[str], typer.Option("--status", help="executed, not_applicable or refused")] = None,
             day: Annotated[Optional[str], typer.Option("--date", help="YYYY-MM-DD the department acted")] = None,
             note: Annotated[Optional[str], typer.Option("--note", help="what was done, or why not")] = None,
             by: Annotated[Optional[str], typer.Option("--by", help="who answers")] = None,
             open_: Annotated[bool, typer.Option("--open", help="list items without feedback")] = False,
             department: Annotated[Optional[str], typer.Option("--department", help="fuzzy, e.g. 财政局")] = None,
             overdue: Annotated[bool, typer.Option("--overdue", help="only open items past their due day")] = False,
             as_of: AsOf = None, registry: RegistryOption = None, db: OptionalDb = None,
             as_json: JsonFlag = False) -> None:
    """A department's answer on a pushed measure (庄河 响应-反馈), or the open and overdue items per department.
    Example: xinyi feedback 12 --status executed --date 2026-12-10 --by 财政局张三 --db kb.sqlite
             xinyi feedback --open --department 财政局 --overdue --as-of 2027-02-01 --db kb.sqlite"""
    from knowledge.registry import FEEDBACK_LABELS, FEEDBACK_STATUSES, RegistryError, RegistryInputError
    if item is None:
        if status or day or note or by:
            fail("--status/--date/--note/--by need the push item id: xinyi feedback ITEM --status …", 2)
        when = day_option("--as-of", as_of)
        with open_registry(db, registry) as reg:
            rows = reg.push_items(department, open_only=open_, overdue=overdue, as_of=when)
        if as_json:
            emit(rows)
        elif not rows:
            sys.stdout.write(("没有逾期未反馈的推送事项" if overdue else "没有未反馈的推送事项" if open_ else "没有推送事项") +
                             (f"（{department}）" if department else "") + "\n")
        else:
            sys.stdout.write("\n".join(push_item_lines(rows)) + "\n")
        return
    if open_ or overdue or department:
        fail("--open/--overdue/--department list items; give either ITEM with --status or the listing options", 2)
    if status not in FEEDBACK_STATUSES:
        fail(f"--status: expected {', '.join(FEEDBACK_STATUSES)}, got {status!r}", 2)
    if not day:
        fail("--date: say when the department acted (YYYY-MM-DD)", 2)
    when = day_option("--date", day)
    with open_registry(db, registry) as reg:
        try:
            found = reg.record_feedback(item, status, when, note, by)
        except RegistryInputError as exc:
            fail(f"--{exc.field}: {exc}", 2)
        except RegistryError as exc:
            fail(str(exc))
    if found is None:
        fail(f"no push item #{item}")
    if as_json:
        emit(found)
        return
    sys.stdout.write(f"推送事项 #{item}（{found['credit_code']} {found['enterprise_name'] or ''}，"
                     f"{found['department'] or '未写明部门'}：{found['measure_text']}）反馈：{FEEDBACK_LABELS[status]}"
                     f"（{when}{'，' + by if by else ''}）\n")


def register(app: typer.Typer) -> None:
    """Add the registry commands to the `xinyi` app."""
    app.add_typer(registry_app, name="registry")
    app.command("notifications")(notifications)
    app.command("feedback")(feedback)
