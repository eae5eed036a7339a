"""The fault suite's tally, written down: ``python -m bench.faults``.

Runs ``SUITE`` (200+ generated bad inputs over the Python API, the CLI and the HTTP API of a live app; fake
embedder) and writes its counts to bench/results/ROBUSTNESS.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import REPO, write_section

OUTPUT = Path(__file__).resolve().parent / "results" / "ROBUSTNESS.md"
# The same suite run once on commit 289da1c (before the fault fixes), with the named pipes replaced by
# plain files because that code waits on a pipe forever.
BEFORE = (
    "Before the fixes (commit 289da1c, same suite, pipes left out because that code hangs on them): "
    "Python API 51 crashes in 232 inputs; CLI 7 crashes in 89; HTTP API 47 crashes or server paths returned and "
    "19 generic or empty messages in 97; 1 file lost (a re-upload that could not be indexed deleted notes.txt); "
    "11 temporary upload copies left in data/tmp."
)


SUITE = ("tests/api/test_fault_suite.py", "tests/api/test_fault_suite_http.py")  # the Python API and CLI; the HTTP API


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "faults.jsonl"
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITE], cwd=REPO,
                                env={**os.environ, "QA_FAULT_REPORT": str(report)}, check=False)
        seconds = time.perf_counter() - started
        parts = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()] if report.exists() else []
    tables = "\n\n".join(f"**{part['title']}**\n\n{part['table']}" for part in parts)
    inputs = sum(len(part["outcomes"]) for part in parts)
    write_section(OUTPUT, "faults", f"""
## Fault suite: bad inputs over the Python API, the CLI and the HTTP API

Ran {time.strftime('%Y-%m-%d %H:%M')} (`python -m bench.faults`, which runs `{' and '.join(SUITE)}`; it is
also part of `make test`): {inputs} generated inputs in {seconds:.0f} s, {'all passed' if result.returncode == 0 else 'FAILED'}.
Questions (empty, None, numbers, lists, undecodable bytes, lone surrogates, NUL, control characters,
1 MB, 5,000 marks, emoji, right-to-left override, zero-width, BOM, combining marks, HTML, SQL, paths,
format strings), `k` (text, fractions, None, booleans, 0, -1, 1e30, NaN, infinity, lists), histories of
every wrong shape, retrieval modes, index folders (None, a file, /dev/null, under a file, /proc, missing),
sources (a named pipe, broken and looping links, Latin-1, binary, empty, an .exe, a folder named .txt),
eval files, argv bytes that are not UTF-8; over HTTP also NaN, 1e309 and surrogates in raw JSON, missing
and extra values, and bad uploads (Latin-1 and binary re-uploads over an indexed file, names that are
only a file type, a seed's name, path traversal). "Clear message": a QAError with a one-line message,
`qa: error:` on one line (or argparse's usage error), a `gr.Error` with its own text. Files lost: the
sources and the index compared byte for byte before and after.

{tables}

{BEFORE}
""")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
