"""build_nlp(): spaCy's blank `zh` pipeline with the jieba segmenter and an EntityRuler whose patterns are data.

Registered as the factory `xinyi_entity_ruler_v1`; its patterns come from data/patterns/entities.jsonl and, for
DEPT, from the department gazetteer (data/departments.tsv). jieba gets data/jieba_userdict.txt.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from .datafiles import load_jsonl

DATA = Path(__file__).parent / "data"
FACTORY = "xinyi_entity_ruler_v1"  # spaCy factory names may not contain dots; the version is in the name


def department_patterns() -> list[dict]:
    from .departments import gazetteer
    names = {a for b in gazetteer() for a in (b.id, *b.aliases) if len(a) >= 3}
    return [{"label": "DEPT", "pattern": n} for n in sorted(names)]


@lru_cache(maxsize=1)
def shared_jieba():
    """The one jieba dictionary of the process (spaCy's segmenter uses it too), with the project's terms."""
    import jieba
    jieba.setLogLevel(logging.WARNING)
    jieba.load_userdict(str(DATA / "jieba_userdict.txt"))
    return jieba.dt


@lru_cache(maxsize=1)
def build_nlp():
    import spacy
    from spacy.language import Language

    shared_jieba()

    from spacy.pipeline import EntityRuler

    if FACTORY not in Language.factories:
        @Language.factory(FACTORY, default_config={"patterns_file": "patterns/entities.jsonl"})
        def make_ruler(nlp, name, patterns_file: str):
            ruler = EntityRuler(nlp, name=name, overwrite_ents=True)
            ruler.add_patterns(load_jsonl(DATA / patterns_file) + department_patterns())
            return ruler

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe(FACTORY)
    return nlp


def entities(text: str) -> list[tuple[str, str, int, int]]:
    """(label, text, start_char, end_char) of the entities the ruler finds."""
    doc = build_nlp()(text)
    return [(e.label_, e.text, e.start_char, e.end_char) for e in doc.ents]


def segment(text: str) -> str:
    """jieba tokens of the canonical text joined by spaces, for the FTS5 index (so 2-character words like 海关
    are whole tokens, and a traditional page is found by a simplified query and the other way round)."""
    from .canonical import canonical
    return " ".join(t for t in shared_jieba().cut_for_search(canonical(text)) if t.strip())
