"""Print a `xinyi check` result (JSON on stdin) as a short Chinese summary: verdict per document and rule."""
import json
import sys

STATUS = {"applies": "适用", "does_not_apply": "不适用", "undetermined": "待确认"}
KIND = {"incentive": "激励", "penalty": "惩戒"}

out = json.load(sys.stdin)
for r in out["results"]:
    title = r.get("document_title") or r["source_file"]
    print(f"《{title}》 {KIND.get(r['kind'], r['kind'])}规则 {r['rule_id']}：{STATUS[r['status']]}")
    if r["status"] == "applies":
        for m in r["measures"][:5]:
            dept = "、".join(m["departments"]) or "—"
            print(f"    · {m['text'][:40]}（{dept}；{''.join(m['citation']['path'])}）")
        if len(r["measures"]) > 5:
            print(f"    … 共 {len(r['measures'])} 项措施")
