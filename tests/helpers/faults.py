"""The fault suite's inputs and tally, shared by its Python API and CLI part (api/test_fault_suite.py) and its HTTP
part (api/test_fault_suite_http.py): generated bad questions, ``k`` values and histories; each outcome counted as
answered, a clear message, a crash or a generic message; files compared before and after; the report that
``QA_FAULT_REPORT=FILE`` appends for bench/faults.py."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENERIC = ("upstream gradio app has raised an exception", "something went wrong", "error")
HUGE = "How many Russian peacekeepers were deployed? " * 23_000  # about 1 MB
QUESTIONS: dict[str, Any] = {
    "empty": "", "spaces": "   ", "whitespace": "\n\t\r \xa0", "None": None, "int": 5, "float": 2.5, "bool": True,
    "list": ["Who?"], "dict": {"q": "Who?"}, "surrogates": "\udcff\udcfe", "lone surrogate": "Who \ud800 brokered it?",
    "NUL": "\x00", "NULs around": "\x00Who brokered the cease-fire?\x00", "control": "\x07\x1b[31mWho?\x1b[0m",
    "1 MB": HUGE, "5000 marks": "?" * 5000, "emoji": "🙂" * 300, "RTL override": "\u202eWho brokered it?",
    "zero width": "\u200b" * 50, "BOM": "\ufeffWho brokered the cease-fire?", "combining": "e\u0301" * 3000,
    "HTML": "<script>alert(1)</script> Who?", "SQL": "' OR 1=1; DROP TABLE chunks; --", "path": "../../etc/passwd",
    "format": "%s%n{0}{}", "backslashes": "\\" * 100, "one word": "Azerbaijan", "valid": "Who brokered the cease-fire?",
}
KS: dict[str, Any] = {
    "abc": "abc", "'5'": "5", "2.5": 2.5, "None": None, "True": True, "False": False, "0": 0, "-1": -1,
    "1e30": 10**30, "NaN": math.nan, "inf": math.inf, "list": [5], "dict": {"k": 5}, "5.0": 5.0,
}
HISTORIES: dict[str, Any] = {
    "int": 5, "str": "What happened?", "dict": {"question": "q", "answer": "a"}, "[None]": [None], "[[]]": [[]],
    "[[1, 2]]": [[1, 2]], "[['q']]": [["q"]], "three": [["q", "a", "x"]], "['qa']": ["qa"], "[[None, None]]": [[None, None]],
    "surrogate": [["Who \ud800?", "a"]], "1 MB question": [[HUGE, "a"]], "[[q, 5]]": [["q", 5]], "nested": [[["q"], ["a"]]],
    "empty": [], "None": None, "valid": [["What total military death toll did Azerbaijan report?", "2,783"]],
}


@dataclass(frozen=True)
class Outcome:
    surface: str  # "python", "cli", "http"
    case: str
    kind: str  # "answered", "clear", "crash", "generic"
    detail: str = ""


class Tally:
    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []

    def add(self, surface: str, case: str, kind: str, detail: str = "") -> None:
        self.outcomes.append(Outcome(surface, case, kind, detail[:300]))

    def count(self, kind: str) -> int:
        return sum(o.kind == kind for o in self.outcomes)

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind in ("crash", "generic")]

    def table(self, files_lost: int) -> str:
        per = Counter((o.surface, o.kind) for o in self.outcomes)
        rows = [f"| {s} | {sum(v for (t, _), v in per.items() if t == s)} | {per[s, 'answered']} | {per[s, 'clear']} "
                f"| {per[s, 'crash']} | {per[s, 'generic']} |" for s in ("python", "cli", "http")
                if any(o.surface == s for o in self.outcomes)]
        return "\n".join([
            "| surface | inputs | answered | clear message | crashes | generic or empty message |",
            "|---|---|---|---|---|---|", *rows,
            f"| all | {len(self.outcomes)} | {self.count('answered')} | {self.count('clear')} | {self.count('crash')} "
            f"| {self.count('generic')} |", "", f"Files lost: {files_lost}.",
        ])


def clear(message: object) -> bool:
    """A message that says something: not empty, one line, not one of the generic ones."""
    text = str(message or "").strip()
    return bool(text) and "\n" not in text and text.lower().strip(".") not in GENERIC \
        and not any(g in text.lower() for g in GENERIC[:2]) and "Traceback" not in text


def snapshot(*folders: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def files_lost(before: dict[str, bytes], after: dict[str, bytes]) -> int:
    return sum(after.get(path) != data for path, data in before.items())


def report(tally: Tally, lost: int, title: str) -> None:
    table = tally.table(lost)
    print(f"\n{title}\n{table}")
    for outcome in tally.failures():
        print(f"  {outcome.surface} {outcome.case}: {outcome.kind}: {outcome.detail}")
    target = os.environ.get("QA_FAULT_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"title": title, "table": table, "outcomes": [o.__dict__ for o in tally.outcomes]}) + "\n")

