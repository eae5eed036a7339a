"""Plain text in linear time: chunking time per MB for texts of 64 KB to 4 MB, and ``qa index`` on a
20 MiB upload.

Texts are made of the seed article's sentences in a shuffled order (so no line repeats and none is left out as
page chrome), as paragraphs or as one line. Time per MB must stay flat as the text grows: a splitter that
copies the text before every sentence end is quadratic (512 KB took 9.2x the time of 128 KB).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

from qa.index.chunk import chunk_document
from qa.settings import ChunkSettings

from .common import REPO, Check, Config, Section, Table

SIZES = (64_000, 256_000, 1_000_000, 4_000_000)
UPLOAD_BYTES = 20 * 2**20
GROWTH = 5.0  # a 4x longer text may take at most 5x the time (quadratic would be 16x)
MEMORY_BUDGET = 512 * 2**20  # Settings.read.max_memory_bytes: what reading may cost; the whole run is checked against it
# Runs the command it is given, then prints on stderr the peak resident memory (KiB) of the process it waited for.
MEASURE = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)")


def made_text(size: int, one_line: bool, seed: int = 7) -> str:
    """About ``size`` characters of the seed's sentences, each numbered so that no two lines are alike."""
    source = next((REPO / "seeds").glob("*.txt")).read_text(encoding="utf-8")
    sentences = [s for s in source.replace("\n", " ").split(". ") if len(s) > 20]
    rng = random.Random(seed)
    parts: list[str] = []
    length, n = 0, 0
    while length < size:
        n += 1
        sentence = f"{rng.choice(sentences).strip()} (note {n})."
        paragraph_end = not one_line and n % 4 == 0
        parts.append(sentence + ("\n\n" if paragraph_end else " "))
        length += len(parts[-1])
    return "".join(parts)[:size]


def seconds_to_chunk(text: str, runs: int = 3) -> float:
    """The best of ``runs`` timings (this machine is shared: the best is the least disturbed)."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        chunk_document(text, "made.txt", ChunkSettings())
        best = min(best, time.perf_counter() - started)
    return best


def run(config: Config) -> Section:
    section = Section("textscale", "Plain text in linear time: chunking per MB, and indexing a 20 MiB upload")
    sizes = SIZES[:2] if config.quick else SIZES
    table = Table("chunk_document on plain text (seconds per MB; flat means linear)",
                  ["size", "paragraphs: s", "paragraphs: s/MB", "one line: s", "one line: s/MB"])
    timings: dict[tuple[int, bool], float] = {}
    for size in sizes:
        cells: list[object] = [f"{size / 1e6:g} MB"]
        for one_line in (False, True):
            seconds = timings[size, one_line] = seconds_to_chunk(made_text(size, one_line))
            cells += [seconds, seconds / (size / 1e6)]
        table.add(*cells)
    section.tables.append(table)
    small, large = sizes[-2], sizes[-1]
    for one_line in (False, True):
        growth = timings[large, one_line] / timings[small, one_line]
        shape = "one line" if one_line else "paragraphs"
        section.checks.append(Check(f"chunking {large / small:.0f}x the text ({shape}, {small / 1e6:g} to {large / 1e6:g} MB): "
                                    "times the time", f"{growth:.2f}×", f"≤ {GROWTH:g}", growth <= GROWTH,
                                    "" if growth <= GROWTH else "the machine's load during the run (best of 3 timings)"))
    if not config.quick:
        table, check = index_upload(config)
        section.tables.append(table)
        section.checks.append(check)
    return section


def index_upload(config: Config) -> tuple[Table, Check]:
    """``qa index`` on one 20 MiB text in a process of its own: time and peak memory."""
    folder = Path(config.scratch("textscale"))
    upload = folder / "upload" / "big.txt"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text(made_text(UPLOAD_BYTES, one_line=False), encoding="utf-8")
    command = [sys.executable, "-c", MEASURE, sys.executable, "-m", "qa.cli", "index", str(upload.parent),
               "--index", str(folder / "index")]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    peak = int(done.stderr.strip().splitlines()[-1]) * 1024
    whole = Table("qa index on one 20 MiB plain-text file (embedding included; 2 cores)",
                  ["exit", "seconds", "MB/s", "peak memory MiB"])
    whole.add(str(done.returncode), seconds, UPLOAD_BYTES / 2**20 / seconds, peak / 2**20)
    check = Check("qa index of a 20 MiB text: peak memory (MiB)", f"{peak / 2**20:.0f}", f"≤ {MEMORY_BUDGET // 2**20}",
                  peak <= MEMORY_BUDGET and done.returncode == 0,
                  "" if peak <= MEMORY_BUDGET else "BM25, the vectors and the written text together, at the build's peak")
    return whole, check
