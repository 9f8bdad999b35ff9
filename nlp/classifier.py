"""A small learned reader of list items and sentences: measure / condition / neither, with polarity.

Multinomial naive Bayes over character uni- and bigrams of the canonical text, trained on every gold
annotation the project can read (the seeds' gold, ../shared/realdocs, tests/heldout*) plus the sentences of
those documents that no annotation covers ("neither"). The model is plain counts in data/item_classifier.json,
rebuilt by `xinyi train-classifier`; the extractor uses it as one signal beside its rules, never alone.
"""
from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

from .canonical import canonical

MODEL = Path(__file__).parent / "data" / "item_classifier.json"
LABEL = re.compile(r"^[（(]?[一二三四五六七八九十\d]+[)）、.．]\s*")
CLASSES = ("measure_incentive", "measure_penalty", "measure_other", "condition_incentive", "condition_penalty",
           "condition_scope", "condition_other", "neither")
ROLE_CLASS = {"incentive_eligibility": "condition_incentive", "penalty_trigger": "condition_penalty",
              "scope": "condition_scope", "other": "condition_other"}


def grams(text: str) -> list[str]:
    t = re.sub(r"[\s\u3000]+", "", LABEL.sub("", canonical(text)))
    t = re.sub(r"\d+", "0", t)
    return list(t) + [t[i:i + 2] for i in range(len(t) - 1)]


@dataclass
class Model:
    counts: dict[str, dict[str, int]]   # class → gram → count
    docs: dict[str, int]                # class → examples

    def scores(self, text: str) -> dict[str, float]:
        vocab = len({g for c in self.counts.values() for g in c}) or 1
        total_docs = sum(self.docs.values()) or 1
        out = {}
        for cls, grams_of in self.counts.items():
            size = sum(grams_of.values())
            lp = math.log((self.docs.get(cls, 0) + 1) / (total_docs + len(self.counts)))
            for g in grams(text):
                lp += math.log((grams_of.get(g, 0) + 1) / (size + vocab))
            out[cls] = lp
        return out

    def predict(self, text: str) -> tuple[str, float]:
        """(class, probability) — the probability is the softmax of the log scores."""
        s = self.scores(text)
        top = max(s, key=s.get)
        z = sum(math.exp(v - s[top]) for v in s.values())
        return top, 1 / z


def train(examples: Iterable[tuple[str, str, str]]) -> Model:
    """examples: (document, text, class)."""
    counts: dict[str, Counter] = defaultdict(Counter)
    docs: Counter = Counter()
    for _, text, cls in examples:
        counts[cls].update(grams(text))
        docs[cls] += 1
    return Model({c: dict(v) for c, v in counts.items()}, dict(docs))


@lru_cache(maxsize=1)
def model() -> Optional[Model]:
    if not MODEL.exists():
        return None
    raw = json.loads(MODEL.read_text(encoding="utf-8"))
    return Model(raw["counts"], raw["docs"])


def measure_kind(text: str, confidence: float = 0.8) -> Optional[str]:
    """incentive / penalty when the model reads `text` as a measure of that kind with this confidence."""
    m = model()
    if m is None:
        return None
    cls, p = m.predict(text)
    if p >= confidence and cls in ("measure_incentive", "measure_penalty"):
        return cls.split("_", 1)[1]
    return None


# ---- training data ---------------------------------------------------------------------------------

def gold_sets(root: Path) -> list[tuple[Path, Path]]:
    """(documents folder, gold file) pairs the project can read: its own held-out sets and ../shared."""
    shared = root.parent / "shared"
    pairs = [(shared / "seeds", shared / "eval" / "gold" / "seeds.json"),
             (shared / "realdocs" / "docs", shared / "realdocs" / "gold.json"),
             (root / "tests" / "heldout" / "docs", root / "tests" / "heldout" / "gold.json"),
             (root / "tests" / "heldout2" / "docs", root / "tests" / "heldout2" / "gold.json")]
    return [(d, g) for d, g in pairs if d.is_dir() and g.exists()]


def examples_of(docs_dir: Path, gold_path: Path) -> list[tuple[str, str, str]]:
    from .document import parse_document
    from .extract import segments, sentences
    from .readers import read_document
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    out: list[tuple[str, str, str]] = []
    for f in sorted(docs_dir.iterdir()):
        if f.name not in gold.get("documents", {}):
            continue
        doc_key = f"{docs_dir.name}/{f.name}"
        items = [(m["text"], f"measure_{m['kind']}") for m in gold["measures"] if m["source_file"] == f.name]
        items += [(c["text"], ROLE_CLASS.get(c["role"], "condition_other"))
                  for c in gold["conditions"] if c["source_file"] == f.name]
        out += [(doc_key, t, c) for t, c in items if t.strip()]
        known = [canonical(re.sub(r"\s+", "", t)) for t, _ in items]
        try:
            parsed = parse_document(read_document(f))
        except Exception:  # noqa: BLE001 — an unreadable training file is skipped, not fatal
            continue
        for clause in parsed.clauses:
            for para in clause.body:
                for sent in sentences(canonical(para)):
                    for seg in segments(sent):
                        s = re.sub(r"\s+", "", seg).strip("；;。")
                        if len(s) >= 6 and not any(s in k or k in s for k in known if k):
                            out.append((doc_key, s, "neither"))
    return out


def coarse(cls: str) -> str:
    return cls.split("_", 1)[0]


def leave_one_document_out(examples: list[tuple[str, str, str]]) -> tuple[float, float]:
    """(accuracy over the classes, accuracy over measure / condition / neither), each document held out in turn."""
    docs = sorted({d for d, _, _ in examples})
    right = right_coarse = total = 0
    for held in docs:
        m = train(e for e in examples if e[0] != held)
        for _, text, cls in (e for e in examples if e[0] == held):
            got = m.predict(text)[0]
            right += got == cls
            right_coarse += coarse(got) == coarse(cls)
            total += 1
    return right / max(total, 1), right_coarse / max(total, 1)


def rebuild(root: Path, out: Path = MODEL) -> dict:
    examples = [e for d, g in gold_sets(root) for e in examples_of(d, g)]
    if not examples:
        raise FileNotFoundError("no gold annotations found (../shared/eval/gold, ../shared/realdocs, tests/heldout*)")
    sys.stderr.write(f"training on {len(examples)} items from {len({e[0] for e in examples})} documents\n")
    acc, acc_coarse = leave_one_document_out(examples)
    m = train(examples)
    out.write_text(json.dumps({"_comment": "naive Bayes counts, rebuilt by `xinyi train-classifier`; "
                                           f"leave-one-document-out accuracy {acc:.3f} "
                                           f"(measure/condition/neither {acc_coarse:.3f})",
                               "docs": m.docs, "counts": m.counts}, ensure_ascii=False, separators=(",", ":")),
                   encoding="utf-8")
    model.cache_clear()
    return {"examples": len(examples), "documents": len({e[0] for e in examples}),
            "classes": dict(Counter(c for _, _, c in examples)), "lodo_accuracy": round(acc, 3),
            "lodo_accuracy_measure_condition_neither": round(acc_coarse, 3), "model": str(out)}
