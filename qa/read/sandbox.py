"""Reading a file in a child process with a memory and a time budget.

A PDF whose content stream inflates to a gigabyte makes PDFium (C code, beyond Python's reach) allocate it; in
a child whose address space is capped, that costs the child its life and the indexer one clear skip, not its
memory. The child runs ``python -m qa.read.sandbox MODULE:FUNCTION MEMORY``: it imports the function, caps its
address space at what it already maps plus MEMORY bytes, reads the file's bytes on stdin and writes the
function's JSON result on stdout.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from ..errors import SourceError
from ..settings import ReadSettings

OUT_OF_MEMORY = 3  # the child's exit status when an allocation failed


def run_bounded(target: str, data: bytes, *, memory_bytes: int, seconds: float, kind: str) -> Any:
    """``target`` ("module:function", bytes in, JSON-able data out) applied to ``data`` in a child process."""
    command = [sys.executable, "-m", "qa.read.sandbox", target, str(memory_bytes)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=seconds, check=False)
    except subprocess.TimeoutExpired:
        raise SourceError(f"reading the {kind} took more than {seconds:.0f} s; Settings.read.max_seconds sets "
                          "the limit") from None
    except OSError as error:
        raise SourceError(f"cannot start a process to read the {kind}: {error.strerror or error}") from error
    if done.returncode == 0:
        reply = json.loads(done.stdout)
        if "error" in reply:
            raise SourceError(reply["error"])
        return reply["result"]
    if done.returncode == OUT_OF_MEMORY or done.returncode < 0:  # a C library aborts (a signal) when malloc fails
        raise SourceError(f"reading the {kind} needs more than {memory_bytes // 2**20} MB of memory; "
                          "Settings.read.max_memory_bytes sets the limit")
    last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[-1]
    raise SourceError(f"cannot read the {kind}: {last}")


def run_sized(function: Callable[[bytes], Any], data: bytes, in_process_bytes: int, budget: ReadSettings, kind: str) -> Any:
    """``function`` applied to ``data`` in this process when ``data`` is at most ``in_process_bytes``, else in a child
    within ``budget``'s memory and time (a parser whose memory grows faster than its input)."""
    if len(data) <= in_process_bytes:
        return function(data)
    return run_bounded(f"{function.__module__}:{function.__name__}", data, memory_bytes=budget.max_memory_bytes,
                       seconds=budget.max_seconds, kind=kind)


def _cap_memory(extra: int) -> None:
    """Let this process map at most ``extra`` bytes beyond what it maps now (Linux; elsewhere no cap)."""
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as statm:
            mapped = int(statm.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (mapped + extra, mapped + extra))
    except (ImportError, OSError, ValueError):
        pass


def _main(target: str, memory: str) -> int:
    module, _, name = target.partition(":")
    function = getattr(importlib.import_module(module), name)
    data = sys.stdin.buffer.read()
    _cap_memory(int(memory))
    try:
        result = function(data)
    except MemoryError:
        return OUT_OF_MEMORY
    except SourceError as error:
        sys.stdout.write(json.dumps({"error": str(error)}))
        return 0
    sys.stdout.write(json.dumps({"result": result}))
    return 0


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:3]))
