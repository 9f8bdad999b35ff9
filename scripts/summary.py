"""Print a `xinyi check` result (JSON on stdin) as a short Chinese summary: a verdict per document and kind,
the applying measures with their departments and clauses."""
import json
import sys
from collections import OrderedDict

KIND = {"incentive": "激励", "penalty": "惩戒"}
RANK = {"applies": 0, "undetermined": 1, "does_not_apply": 2}

out = json.load(sys.stdin)
verdicts: "OrderedDict[tuple, dict]" = OrderedDict()
for r in out["results"]:
    key = (r.get("document_title") or r["source_file"], r["kind"])
    best = verdicts.get(key)
    if best is None or RANK[r["status"]] < RANK[best["status"]]:
        verdicts[key] = {"status": r["status"], "measures": []}
    if r["status"] == "applies":
        verdicts[key]["measures"] += r["measures"]
print(f"评估日期：{out['as_of']}")
for (title, kind), v in verdicts.items():
    if v["status"] == "applies":
        print(f"《{title}》{KIND[kind]}：适用 {len(v['measures'])} 项措施")
        for m in v["measures"][:4]:
            print(f"    · {m['text'][:36]}（{'、'.join(m['departments'][:2]) or '—'}；{''.join(m['citation']['path'])}）")
    elif v["status"] == "undetermined":
        print(f"《{title}》{KIND[kind]}：待补充信息")
excluded = sum(v["status"] == "does_not_apply" for v in verdicts.values())
print(f"另有 {excluded} 项（文件×激励/惩戒）不适用，原因见 xinyi check 的 conditions。")
