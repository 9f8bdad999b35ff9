"""Profiles that exercise every predicate kind of a KB and every window boundary, for match = check.

sample(kb, as_of, n, seed) draws facts from each declared type (None included), regions inside, around and outside
the documents' jurisdictions, industries narrower / broader / unrelated to the rules', attestations of the KB's own
keys, and event histories (unknown, empty, recorded, or only told with denials) whose dates sit on the first and last
day of each window the KB uses, a day either side, or in date ranges straddling them.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from knowledge.evaluate import years_before
from nlp.profile_schema import event_fields, event_types, facts

REGIONS = ["江苏省无锡市江阴市", "江苏省无锡市", "无锡", "江苏省", "辽宁省营口市", "营口市鲅鱼圈区", "辽宁省大连市庄河市",
           "庄河市", "大连市", "辽宁省", "陈巴尔虎旗", "内蒙古自治区呼伦贝尔市", "安徽省淮南市", "淮南市潘集区",
           "浙江省湖州市安吉县", "北京市", "火星基地", "", None]
INDUSTRIES = ["危险化学品储存", "危险化学品", "化工", "钢铁冶金", "钢铁", "木质粉尘", "金属粉尘", "粉尘涉爆", "煤矿",
              "非煤矿山", "烟花爆竹", "建筑施工", "餐饮", "某新兴行业"]
AUTHORITIES = ["应急管理部门", "应急管理局", "安全监管监察部门", "市应急管理局", "公安局", "市场监督管理局"]


def predicates(kb: dict):
    def walk(n):
        if not n:
            return
        yield n
        for k in ("all", "any"):
            for x in n.get(k) or []:
                yield from walk(x)
        if "not" in n:
            yield from walk(n["not"])
    for c in kb["conditions"].values():
        yield from walk(c.get("predicate"))


def boundary_days(kb: dict, as_of: date) -> list[date]:
    """The first day of each window the KB's event conditions use, as_of, and a day either side of each."""
    years = {1, 3}
    for n in predicates(kb):
        w = n.get("within") or {}
        if "event" in n and w:
            years.add((w.get("years", 0), w.get("months", 0)))
    starts = {as_of}
    for y in years:
        yy, mm = (y, 0) if isinstance(y, int) else y
        starts.add(years_before(as_of, yy, mm))
    days = set()
    for d in starts:
        days |= {d - timedelta(days=1), d, d + timedelta(days=1)}
    return sorted(days)


def industry_words(kb: dict) -> list[str]:
    """The rules' own industry terms beside general ones, so every industry condition can be met."""
    return sorted({t for n in predicates(kb) for t in n.get("industry_any", [])} | set(INDUSTRIES))


def attestation_keys(kb: dict) -> list[str]:
    return sorted({n["attested"] for n in predicates(kb) if "attested" in n})


def value_of(rng: random.Random, name: str, decl: dict):
    kind = decl["type"]
    if rng.random() < 0.3:
        return None
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "count":
        return rng.choice([0, 1, 9, 10, 11, 49, 50, 51, 100, 300, 1000])
    if kind == "choice":
        return rng.choice(decl["choices"])
    if kind == "date":
        return (date(2020, 1, 1) + timedelta(days=rng.randint(0, 2500))).isoformat()
    return None


def event(rng: random.Random, days: list[date], as_of: date) -> dict:
    kind = rng.choice(sorted(event_types()))
    ev: dict = {"type": kind}
    shape = rng.random()
    if shape < 0.6:
        ev["date"] = rng.choice(days).isoformat()
    elif shape < 0.85:
        lo = rng.choice(days)
        ev["date_from"] = lo.isoformat()
        if rng.random() < 0.7:
            ev["date_to"] = (lo + timedelta(days=rng.choice([0, 1, 30, 400]))).isoformat()
    elif shape < 0.92:
        ev["date"] = (as_of - timedelta(days=rng.randint(0, 4000))).isoformat()
    for field, decl in event_fields().items():
        if field.startswith("date") or rng.random() < 0.45:
            continue
        if field == "authority":
            ev[field] = rng.choice(AUTHORITIES)
        elif decl["type"] == "count":
            ev[field] = rng.choice([0, 1, 3])
        elif decl["type"] == "boolean":
            ev[field] = rng.random() < 0.6
        elif decl["type"] == "choice":
            ev[field] = rng.choice(decl["choices"])
    return ev


def rule_event(rng: random.Random, wants: list[dict], days: list[date]) -> list[dict]:
    """Events shaped like one a rule names (its type and qualifiers), as often as it counts, on boundary days."""
    node = rng.choice(wants)
    want = node["event"]
    ev: dict = {"type": want["type"]}
    for k, v in want.items():
        if k == "type" or rng.random() < 0.15:  # now and then a qualifier is left out: the match is unknown
            continue
        if isinstance(v, dict):
            v = v.get("at_least") or next(iter(v.values()))
        ev[k] = v
    def day() -> date:  # on a window's edge, or well inside the shortest window
        return rng.choice(days) if rng.random() < 0.5 else days[-2] - timedelta(days=rng.randint(1, 300))
    return [{**ev, "date": day().isoformat()} for _ in range(node.get("at_least", 1) + rng.choice([-1, 0, 0, 1]))]


def denial(rng: random.Random) -> dict:
    d: dict = {"type": rng.choice(sorted(event_types())), "within_years": rng.choice([None, 1, 2, 3, 5])}
    for key, choices in (("fatal", [True]), ("major", [True, False]), ("severity", ["一般", "较大"]),
                         ("responsible", [True]), ("subject", ["unit", "principal"]),
                         ("authority", ["应急管理部门", "公安局"])):
        if rng.random() < 0.12:
            d[key] = rng.choice(choices)
    return d


def profile(rng: random.Random, as_of: date, days: list[date], keys: list[str], industries: list[str],
            wants: list[dict], regions: list, i: int) -> dict:
    p: dict = {"credit_code": f"T{i:07d}", "name": f"测试企业{i}"}
    for name, decl in facts().items():
        if name in ("name", "credit_code", "events", "attested", "region", "industries"):
            continue
        v = value_of(rng, name, decl)
        if v is not None:
            p[name] = v
    region = rng.choice(regions)
    if region is not None:
        p["region"] = region
    if rng.random() < 0.8:
        p["industries"] = rng.sample(industries, rng.choice([0, 1, 1, 2]))
    if keys and rng.random() < 0.6:
        p["attested"] = {k: rng.random() < 0.5 for k in rng.sample(keys, rng.randint(1, min(5, len(keys))))}
    history = rng.random()
    if history < 0.55:
        p["events"] = [event(rng, days, as_of) for _ in range(rng.choice([0, 1, 2, 3, 5]))]
        if wants and rng.random() < 0.5:
            p["events"] += rule_event(rng, wants, days)
        if rng.random() < 0.15:
            p["events"].append({"type": "credit_repaired", "date": rng.choice(days).isoformat()})
    elif history < 0.85:
        if rng.random() < 0.6:
            p["stated_events"] = [event(rng, days, as_of) for _ in range(rng.randint(1, 2))]
        if rng.random() < 0.8:
            p["absent_events"] = [denial(rng) for _ in range(rng.randint(1, 4))]
    return p


def sample(kb: dict, as_of: date, n: int = 2000, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    days, keys, industries = boundary_days(kb, as_of), attestation_keys(kb), industry_words(kb)
    wants = [n for n in predicates(kb) if "event" in n]
    # the documents' own jurisdictions too, so every jurisdiction gate is met by someone
    regions = REGIONS + sorted({d["jurisdiction"] for d in kb["documents"].values() if d.get("jurisdiction")})
    return [profile(rng, as_of, days, keys, industries, wants, regions, i) for i in range(n)]
