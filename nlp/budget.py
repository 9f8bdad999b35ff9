"""What reading one file may cost, and the child process that enforces it.

Every file is refused above a size (`max_file_mb`) before a byte of it is parsed. A .pdf or .docx is parsed in a
child process (`nlp/isolated.py`, run as a script: it imports pdfplumber / python-docx / defusedxml and nothing of
this package) that gets the file's bytes on stdin, limits its own address space (RLIMIT_AS) and CPU time, and is
killed at the deadline: a PDF whose objects refer to each other in a loop, or a parse that would need gigabytes,
costs at most `timeout_s` seconds and `memory_mb` MB and ends in a one-line refusal. Text and HTML are read in
this process: their parsers are linear in the size, which the file limit bounds.

Every limit has an environment variable (below); `xinyi ingest --max-file-mb N` sets the first.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from .types import ReadError, XinyiError

CHILD = Path(__file__).with_name("isolated.py")

ENV = {  # field -> environment variable
    "max_file_mb": "XINYI_MAX_FILE_MB",
    "max_pdf_pages": "XINYI_MAX_PDF_PAGES",
    "timeout_s": "XINYI_READ_TIMEOUT_S",
    "memory_mb": "XINYI_READ_MEMORY_MB",
    "max_docx_mb": "XINYI_MAX_DOCX_MB",
}


@dataclass(frozen=True)
class Limits:
    max_file_mb: float = 20.0      # any file, on disk
    max_pdf_pages: int = 1000      # a .pdf, counted from its page tree before any page is read
    timeout_s: float = 120.0       # one .pdf/.docx parse, wall time in the child
    memory_mb: int = 1024          # the child's address space
    max_docx_mb: float = 200.0     # a .docx, the uncompressed sizes its zip directory declares, summed
    max_docx_ratio: float = 500.0  # one .docx member over 5 MB: declared / compressed size (XML: 10–250)
    max_docx_members: int = 10000  # entries in a .docx zip

    @classmethod
    def from_env(cls, environ=None, **overrides) -> "Limits":
        """Defaults, then the XINYI_* variables set, then `overrides` that are not None."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            var = ENV.get(f.name)
            raw = environ.get(var) if var else None
            if raw not in (None, ""):
                values[f.name] = _positive(raw, var, int if f.type in (int, "int") else float)
        for k, v in overrides.items():
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                shown = "--max-file-mb" if k == "max_file_mb" else k
                raise XinyiError(f"{shown}: expected a positive number, got {v!r}")
            values[k] = v
        return replace(cls(), **values)


def _positive(raw: str, var: str, kind: type):
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value <= 0:
        noun = "a positive whole number" if kind is int else "a positive number"
        raise XinyiError(f"{var}: expected {noun}, got {raw!r}")
    return value


def megabytes(n: float) -> str:
    """1.5 MB, 52.3 MB, 2.1 GB."""
    mb = n / (1 << 20)
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb:.1f} MB"


def read_file_bytes(path: Path, name: str, limits: Limits) -> bytes:
    """The file's bytes, or a refusal naming its size and the limit — told from its size, before reading it."""
    cap = int(limits.max_file_mb * (1 << 20))
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            data = fh.read(cap + 1) if size <= cap else b""
    except FileNotFoundError:
        raise ReadError(name, "no such file or folder") from None
    except OSError as e:
        raise ReadError(name, f"cannot read file: {e.strerror or e}") from None
    if size > cap or len(data) > cap:  # (a file growing while read is measured by what was read)
        raise ReadError(name, f"refused — {megabytes(max(size, len(data)))} exceeds the {limits.max_file_mb:g} MB "
                              f"limit per file (--max-file-mb, {ENV['max_file_mb']})")
    return data


def run_isolated(kind: str, data: bytes, name: str, limits: Limits) -> tuple[str, tuple[str, ...]]:
    """Parse `data` as a `kind` ("pdf" | "docx") file in a child process under `limits`: (text, warnings), or
    ReadError with one line saying why not (the child's own refusal, the deadline, the memory limit, a crash)."""
    header = json.dumps({"kind": kind, "name": name, "limits": asdict(limits)}).encode() + b"\n"
    # -P: the script's folder (nlp/, which holds a types.py) must not shadow the standard library
    cmd = [sys.executable, "-P", str(CHILD)]
    try:
        proc = subprocess.run(cmd, input=header + data, capture_output=True, timeout=limits.timeout_s)
    except subprocess.TimeoutExpired:  # subprocess.run has killed the child and reaped it
        raise ReadError(name, f"refused — reading it took longer than the {limits.timeout_s:g} s limit for a .{kind} "
                              f"({ENV['timeout_s']})") from None
    except OSError as e:
        raise ReadError(name, f"cannot start the .{kind} reader: {e.strerror or e}") from None
    try:
        answer = json.loads(proc.stdout.decode("utf-8")) if proc.stdout else None
    except ValueError:
        answer = None
    if isinstance(answer, dict) and "error" in answer:
        raise ReadError(name, answer["error"])
    if isinstance(answer, dict) and proc.returncode == 0:
        return answer["text"], tuple(answer["warnings"])
    code = proc.returncode
    if code in (-signal.SIGXCPU, -signal.SIGKILL):  # the CPU limit (the deadline's backstop)
        raise ReadError(name, f"refused — reading it took longer than the {limits.timeout_s:g} s limit for a .{kind} "
                              f"({ENV['timeout_s']})")
    if b"MemoryError" in proc.stderr:
        raise ReadError(name, memory_refusal(kind, limits))
    try:
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
    except ValueError:
        how = f"signal {-code}"
    raise ReadError(name, f"the .{kind} reader stopped on it ({how}); expected a readable .{kind} file")


def memory_refusal(kind: str, limits: Limits) -> str:
    return (f"refused — reading it needs more than the {limits.memory_mb:g} MB memory limit for a .{kind} "
            f"({ENV['memory_mb']})")
