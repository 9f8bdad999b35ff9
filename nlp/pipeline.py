"""jieba for the project, and build_nlp(): spaCy's blank `zh` pipeline with the jieba segmenter and an EntityRuler
whose patterns are data.

shared_jieba() is the one jieba dictionary of the process, with data/jieba_userdict.txt; its prefix dictionary
(jieba's own plus the project's words) is kept pickled in a cache folder that survives the process
(XINYI_CACHE_DIR, else $XDG_CACHE_HOME/xinyi or ~/.cache/xinyi), so a cold `xinyi ask` loads it instead of
rebuilding it. Segmenter: the FTS5 tokens of a document's clauses, each text block segmented once.

The EntityRuler (factory `xinyi_entity_ruler_v1`, patterns from data/patterns/entities.jsonl and, for DEPT, the
department gazetteer data/departments.tsv) is built only when entities() is called: nothing in ingest, check or
chat reads its entities, so ingest no longer runs it (the `entities` table of older KBs is left as it was).
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
from functools import lru_cache
from math import log
from pathlib import Path

from .datafiles import load_jsonl

DATA = Path(__file__).parent / "data"
FACTORY = "xinyi_entity_ruler_v1"  # spaCy factory names may not contain dots; the version is in the name
USERDICT = DATA / "jieba_userdict.txt"


def department_patterns() -> list[dict]:
    from .departments import gazetteer
    names = {a for b in gazetteer() for a in (b.id, *b.aliases) if len(a) >= 3}
    return [{"label": "DEPT", "pattern": n} for n in sorted(names)]


def cache_dir() -> Path:
    """Where derived data that outlives a process is kept (the jieba dictionary, …)."""
    env = os.environ.get("XINYI_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xinyi"


def _import_jieba():
    """jieba, imported without pkg_resources (jieba._compat uses it only to open its own data files, and falls
    back to plain open() without it; importing pkg_resources costs a third of a second)."""
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba
        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes `import pkg_resources` fail
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]
    return jieba


def _dictionary_cache(jieba) -> Path:
    dict_file = Path(jieba.__file__).parent / "dict.txt"
    st = dict_file.stat()
    stamp = hashlib.sha1(f"{jieba.__version__}|{st.st_size}|{st.st_mtime_ns}|".encode()
                         + USERDICT.read_bytes()).hexdigest()[:16]
    return cache_dir() / f"jieba-{stamp}.pickle"


@lru_cache(maxsize=1)
def shared_jieba():
    """The one jieba dictionary of the process (spaCy's segmenter uses it too), with the project's terms.

    The dictionary with the project's words added is loaded from its pickle when there is one (written the
    first time, keyed by jieba's version, its dict.txt and the user dictionary), which is the same state
    jieba.initialize() + load_userdict() would build."""
    jieba = _import_jieba()
    jieba.setLogLevel(logging.WARNING)
    dt = jieba.dt
    if dt.initialized:  # someone initialised jieba before us: add our words to it
        dt.load_userdict(str(USERDICT))
        return dt
    try:
        path = _dictionary_cache(jieba)
    except OSError:
        path = None
    if path is not None:
        try:
            with open(path, "rb") as fh:
                freq, total, tags, force_split = pickle.load(fh)
        except (OSError, pickle.PickleError, EOFError, ValueError, TypeError):
            pass
        else:
            with dt.lock:
                dt.FREQ, dt.total = freq, total
                dt.user_word_tag_tab.update(tags)
                dt.initialized = True
            for w in force_split:
                jieba.finalseg.add_force_split(w)
            return dt
    if path is not None:
        dt.tmp_dir = str(path.parent) if path.parent.is_dir() or _mkdir(path.parent) else None
    dt.initialize()
    dt.load_userdict(str(USERDICT))
    if path is not None and dt.tmp_dir:
        force_split = [w for w, f in _userdict_words(jieba) if f == 0]
        try:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump((dt.FREQ, dt.total, dict(dt.user_word_tag_tab), force_split), fh,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache folder only costs the rebuild next time
    return dt


def _mkdir(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        return True
    except OSError:
        return False


def _userdict_words(jieba) -> list[tuple[str, int | None]]:
    """(word, frequency or None) of the user dictionary, read as jieba.load_userdict reads it."""
    out = []
    for line in USERDICT.read_text(encoding="utf-8").lstrip("\ufeff").splitlines():
        line = line.strip()
        if line:
            word, freq, _ = jieba.re_userdict.match(line).groups()
            out.append((word, int(freq.strip()) if freq is not None else None))
    return out


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
    """(label, text, start_char, end_char) of the entities the ruler finds (spaCy is loaded on first call)."""
    doc = build_nlp()(text)
    return [(e.label_, e.text, e.start_char, e.end_char) for e in doc.ents]


def segment(text: str) -> str:
    """jieba tokens of the canonical text joined by spaces, for the FTS5 index (so 2-character words like 海关
    are whole tokens, and a traditional page is found by a simplified query and the other way round)."""
    from .canonical import canonical
    return " ".join(t for t in shared_jieba().cut_for_search(canonical(text)) if t.strip())


_ABSENT = object()


class Segmenter:
    """segment() for many texts, giving exactly what segment() gives, faster: the search tokens of each text block
    are computed once and reused (laws repeat their phrases: 依照本法规定, 由县级以上人民政府…), and a block is cut
    by cut_block, jieba's own algorithm (prefix DAG, the most probable route, HMM for unknown runs, then the 2- and
    3-grams of cut_for_search) in one pass with the log-probabilities of words kept. Starts afresh when the jieba
    dictionary changes (a word added)."""

    def __init__(self, max_blocks: int = 200_000):
        self.tk = None  # jieba is loaded on the first text (a run of unchanged documents never needs it)
        self.max_blocks = max_blocks
        self.blocks: dict[str, list[str]] = {}
        self.stamp = None

    def _start(self) -> None:
        jieba = sys.modules["jieba"]
        self.han = jieba.re_han_default  # jieba cuts a text block by block: runs of these characters and the rest
        self.split = jieba.re_han_default.split
        self.finalseg = jieba.finalseg

    def __call__(self, text: str) -> str:
        from .canonical import canonical
        if self.tk is None:
            self.tk = shared_jieba()
            self._start()
        tk = self.tk
        stamp = (id(tk.FREQ), len(tk.FREQ), tk.total, len(self.finalseg.Force_Split_Words))
        if stamp != self.stamp or len(self.blocks) > self.max_blocks:
            self.blocks, self.stamp = {}, stamp
            self.logp: dict[str, float] = {}
            self.unknown: dict[str, list[str]] = {}
            self.logtotal = log(tk.total)
        blocks, out = self.blocks, []
        for blk in self.split(canonical(text)):
            if not blk:
                continue
            tokens = blocks.get(blk)
            if tokens is None:
                if self.han.match(blk):
                    tokens = [t for t in self.cut_block(blk) if t.strip()]
                else:
                    tokens = [t for t in tk.cut_for_search(blk) if t.strip()]
                blocks[blk] = tokens
            out.extend(tokens)
        return " ".join(out)

    def cut_block(self, s: str) -> list[str]:
        """jieba's cut_for_search of one Han/alphanumeric block (Tokenizer.get_DAG, calc, __cut_DAG with HMM and
        the n-grams of cut_for_search), the same words in the same order."""
        FREQ, logtotal = self.tk.FREQ, self.logtotal
        lp_of = self.logp  # word → log(freq) - log(total), 0.0-free: a prefix that is no word → None
        get, absent = lp_of.get, _ABSENT
        N = len(s)
        score = [0.0] * (N + 1)
        nxt = [0] * (N + 1)
        for k in range(N - 1, -1, -1):
            # the words starting at k (its DAG entry) and the best route through them: max((logP + score, x))
            best, best_x = None, k
            i, frag = k, s[k]
            while i < N:
                lp = get(frag, absent)
                if lp is absent:
                    f = FREQ.get(frag)
                    if f is None:
                        break
                    lp = lp_of[frag] = (log(f) - logtotal) if f else None
                if lp is not None:
                    sc = lp + score[i + 1]
                    if best is None or sc >= best:  # ties: the longer word, as max() over (score, x) picks
                        best, best_x = sc, i
                i += 1
                frag = s[k:i + 1]
            if best is None:  # no word: the character alone (log of its frequency, or of 1)
                best = log(FREQ.get(s[k]) or 1) - logtotal + score[k + 1]
            score[k], nxt[k] = best, best_x
        words: list[str] = []
        x, buf = 0, ""
        while x < N:
            y = nxt[x] + 1
            if y - x == 1:
                buf += s[x]
            else:
                if buf:
                    self._flush(buf, words)
                    buf = ""
                words.append(s[x:y])
            x = y
        if buf:
            self._flush(buf, words)
        out: list[str] = []
        for w in words:
            n = len(w)
            if n > 2:
                for i in range(n - 1):
                    g = w[i:i + 2]
                    if FREQ.get(g):
                        out.append(g)
            if n > 3:
                for i in range(n - 2):
                    g = w[i:i + 3]
                    if FREQ.get(g):
                        out.append(g)
            out.append(w)
        return out

    def _flush(self, buf: str, words: list[str]) -> None:
        """Single characters in a row: one character as it is; an unknown run to the HMM; a known word split."""
        if len(buf) == 1:
            words.append(buf)
        elif not self.tk.FREQ.get(buf):
            cut = self.unknown.get(buf)
            if cut is None:
                cut = self.unknown[buf] = list(self.finalseg.cut(buf))
            words.extend(cut)
        else:
            words.extend(buf)
