"""Plain text in linear time (issue 24): chunking time per MB for texts of 64 KB to 4 MB, and ``qa index`` on a
20 MiB upload.

Texts are made of the seed article's sentences in a shuffled order (so no line repeats and none is left out as
page chrome), as paragraphs or as one line. Time per MB must stay flat as the text grows; before the fix the
splitter copied the text before every sentence end, so 512 KB took 9.2x the time of 128 KB.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

from qa.chunk import chunk_document
from qa.settings import ChunkSettings

from .common import REPO, Config, Section, Table

SIZES = (64_000, 256_000, 1_000_000, 4_000_000)
UPLOAD_BYTES = 20 * 2**20


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


def seconds_to_chunk(text: str) -> float:
    started = time.perf_counter()
    chunk_document(text, "made.txt", ChunkSettings())
    return time.perf_counter() - started


def run(config: Config) -> Section:
    section = Section("textscale", "Plain text in linear time: chunking per MB, and indexing a 20 MiB upload")
    sizes = SIZES[:2] if config.quick else SIZES
    table = Table("chunk_document on plain text (seconds per MB; flat means linear)",
                  ["size", "paragraphs: s", "paragraphs: s/MB", "one line: s", "one line: s/MB"])
    for size in sizes:
        cells: list[object] = [f"{size / 1e6:g} MB"]
        for one_line in (False, True):
            seconds = seconds_to_chunk(made_text(size, one_line))
            cells += [seconds, seconds / (size / 1e6)]
        table.add(*cells)
    section.tables.append(table)
    if not config.quick:
        folder = config.scratch("textscale")
        upload = Path(folder) / "upload" / "big.txt"
        upload.parent.mkdir(parents=True, exist_ok=True)
        upload.write_text(made_text(UPLOAD_BYTES, one_line=False), encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "qa.cli", "index", str(upload.parent), "--index", str(Path(folder) / "index")],
                              cwd=REPO, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        whole = Table("qa index on one 20 MiB plain-text file (embedding included; 2 cores)", ["exit", "seconds", "MB/s"])
        whole.add(str(done.returncode), seconds, UPLOAD_BYTES / 2**20 / seconds)
        section.tables.append(whole)
    return section
