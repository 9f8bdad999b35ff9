import json, re, html
from pathlib import Path
from collections import Counter
H = Path(__file__).resolve().parent
g = json.loads((H / "gold.json").read_text(encoding="utf-8"))
def text(p):
    if p.suffix == ".docx":
        import docx
        return "\n".join(x.text for x in docx.Document(p).paragraphs)
    b = p.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try: t = b.decode(enc); break
        except UnicodeDecodeError: pass
    if p.suffix == ".html":
        t = re.sub(r"<script.*?</script>", "", t, flags=re.S)
        t = html.unescape(re.sub(r"<[^>]+>", "\n", t))
    return t
T = {f: text(H / "docs" / f) for f in g["documents"]}
bad = 0
for f, t in T.items():
    body = re.sub(r"\s", "", t)
    print(f, "chars", len(t), "nonspace", len(body))
    for k in ("title", "doc_number", "issuer"):
        v = g["documents"][f][k]
        if v and v not in t: print("  META MISSING", k, v); bad += 1
for key in ("measures", "conditions"):
    for it in g[key]:
        t = T[it["source_file"]]
        if it["text"] not in t:
            print("  TEXT MISSING", key, it["text"]); bad += 1; continue
        # every path label must be printed as a label at a line/paragraph start (or inline for （n）)
        for lab in it["path"]:
            pat = r"(^|\n)[ \t　]*" + re.escape(lab) + r"[、.．\s　）)]?" 
            if not re.search(pat, t) and lab not in t:
                print("  LABEL MISSING", it["path"], lab); bad += 1
        for d in it.get("departments", []):
            if d not in t: print("  DEPT MISSING", d); bad += 1
        # the text must follow its last label somewhere
        last = it["path"][-1]
        if not any(last in t[:m.start()] for m in re.finditer(re.escape(it["text"]), t)): print("  LABEL NOT BEFORE", it["path"], it["text"][:20]); bad += 1
print("measures", Counter(m["source_file"] for m in g["measures"]))
print("conditions", Counter(m["source_file"] for m in g["conditions"]))
print("kinds", Counter(m["kind"] for m in g["measures"]), Counter(c["role"] for c in g["conditions"]))
print("problems", bad)
