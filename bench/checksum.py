"""What verifying the index checksums costs: xxh3-128 checksum of every index file against the whole ``Index.load``.

``python -m bench.checksum`` builds (once, under data/bench) synthetic indexes of 10k and
100k chunks (SciFact text, random vectors: see ``bench.corpora``), then times, interleaved
and with the files in the page cache, ``Index.load`` (which verifies the checksums) and
the verification alone (``storage.check_files``). Figures go to bench/results/ROBUSTNESS.md.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

from qa import Index, Settings
from qa.index.stores import folder_files as storage
from qa.index.stores import manifest as manifests

from . import corpora, scifact
from .common import REPO, Config, write_section

SIZES = (10_000, 100_000)
RUNS = 7
OUTPUT = Path(__file__).resolve().parent / "results" / "ROBUSTNESS.md"


def sha256_files(folder: Path) -> None:
    """What the check would cost with sha256 instead (the first choice, measured too slow)."""
    for _, path in storage._index_files(folder):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(2**22):
                digest.update(block)


def measure(folder: Path) -> tuple[int, float, float, float, int]:
    """(chunks, median seconds of Index.load, of the checksum check, of sha256 over the same files, bytes)."""
    embedder = corpora.RandomEmbedder()
    live = storage.current_folder(folder)
    manifest = storage.read_manifest(live, folder, manifests.expected(Settings(), embedder))  # what Index.load checks
    loads, checks, sha256 = [], [], []
    for _ in range(RUNS):  # interleaved, so a busy moment on the shared machine hits all three
        start = time.perf_counter()
        chunks = len(Index.load(folder, embedder=embedder).chunks)
        loads.append(time.perf_counter() - start)
        start = time.perf_counter()
        storage.check_files(live, folder, manifest["files"])
        checks.append(time.perf_counter() - start)
        start = time.perf_counter()
        sha256_files(live)
        sha256.append(time.perf_counter() - start)
    size = sum(entry["bytes"] for entry in manifest["files"].values())
    return chunks, statistics.median(loads), statistics.median(checks), statistics.median(sha256), size


def main() -> int:
    config = Config(REPO.parent / "shared" / "eval", REPO / "data" / "bench")
    data = scifact.load(config.eval_dir)
    rows = []
    for size in SIZES:
        folder = corpora.synthetic_index(config, data, size)
        chunks, load, check, sha256, size_bytes = measure(folder)
        rows.append(f"| {chunks:,} | {size_bytes / 2**20:,.0f} MiB | {1000 * load:,.0f} ms | {1000 * check:,.0f} ms "
                    f"| {check / load:.0%} | {size_bytes / 2**20 / check:,.0f} MiB/s | {1000 * sha256:,.0f} ms |")
        print(rows[-1], flush=True)
    load_average = os.getloadavg()[0]
    write_section(OUTPUT, "checksum", f"""
## Checksums: what verifying them on every load costs

Ran {time.strftime('%Y-%m-%d %H:%M')} (`python -m bench.checksum`), load average {load_average:.1f} on
{len(os.sched_getaffinity(0))} cores. Every index file's xxh3-128 checksum is recorded in the manifest (format 3) and
checked by `Index.load`. Median of {RUNS} interleaved runs, files in the page cache; `Index.load`
includes the check. Synthetic indexes (SciFact text, random vectors), no model loaded. sha256 was
the first choice; it costs several times as much, so the manifest records xxh3-128 (the checks
guard against damaged files, not against someone forging them).

| chunks | index files | Index.load | xxh3 check | share of the load | xxh3 speed | sha256 of the same files |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
