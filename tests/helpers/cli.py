"""The command line as its tests drive it: in-process with capsys, the JSON keys it prints, an eval file, and the
installed ``qa`` entry point."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from qa import Answer, Citation, Passage
from qa.cli import main

PASSAGE_KEYS = {f.name for f in fields(Passage)}
CITATION_KEYS = {f.name for f in fields(Citation)}
ANSWER_KEYS = {f.name for f in fields(Answer)}  # Answer.to_dict(): the same shape as the app's /ask


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def qa_command() -> str:
    script = Path(sys.executable).parent / "qa"
    return str(script) if script.exists() else shutil.which("qa") or pytest.skip("the qa entry point is not installed")
