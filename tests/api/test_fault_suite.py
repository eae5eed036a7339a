"""The fault suite: 200+ generated bad inputs over the Python API, the CLI and the HTTP API.

Every input must end in an answer or in a clear message: a QAError with a one-line message (Python),
exit status 1 with one `qa: error:` line or argparse's usage error (CLI), a gr.Error with its own
message (HTTP). Counted as failures: crashes (any other exception, a traceback, a hang), generic or
empty messages (Gradio's "upstream ... raised an exception", {"error": null}, the app's "Something went
wrong"), and files lost (a source or the index damaged afterwards). Fake embedder throughout; the HTTP
part runs a live app process. `QA_FAULT_REPORT=FILE` writes the tally as Markdown (bench/faults.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import qa
from qa import Index, QAError
from qa.cli import main

from helpers import REPO, SEED_FILE
from helpers.faults import HISTORIES, KS, QUESTIONS, Tally, clear, files_lost, report, snapshot

pytestmark = pytest.mark.app

MODES: dict[str, Any] = {"fuzzy": "fuzzy", "int": 5, "upper": "DENSE", "empty": "", "list": ["dense"], "None": None}


def python_call(tally: Tally, case: str, call: Callable[[], object]) -> None:
    try:
        with warnings.catch_warnings():  # skipped files are reported as warnings: expected here
            warnings.simplefilter("ignore")
            call()
    except QAError as error:
        tally.add("python", case, "clear" if clear(error) else "generic", str(error))
    except Exception as error:  # noqa: BLE001 - this is what the suite counts
        tally.add("python", case, "crash", f"{type(error).__name__}: {error}")
    else:
        tally.add("python", case, "answered")


def cli_call(tally: Tally, capsys: pytest.CaptureFixture, case: str, *argv: str) -> None:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse: usage error
        code = exit_.code if isinstance(exit_.code, int) else 2
    except BaseException as error:  # noqa: BLE001
        capsys.readouterr()
        tally.add("cli", case, "crash", f"{type(error).__name__}: {error}")
        return
    _, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if not line.startswith("qa: warning: ")]
    if code == 0:
        tally.add("cli", case, "answered")
    elif code == 1 and len(errors) == 1 and errors[0].startswith("qa: error: ") and clear(errors[0]):
        tally.add("cli", case, "clear", errors[0])
    elif code == 2 and err.startswith("usage: ") and "error: " in err:
        tally.add("cli", case, "clear", err.splitlines()[-1])
    else:
        tally.add("cli", case, "crash" if "Traceback" in err or code not in (1, 2) else "generic", f"exit {code}: {err}")


# ----- Python API and CLI ---------------------------------------------------------------


def odd_sources(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    paths = {name: folder / name for name in ("pipe.txt", "broken.txt", "loop.txt", "latin1.txt", "binary.txt",
                                              "empty.txt", "spaces.md", "tool.exe", "folder.txt", "page.html")}
    os.mkfifo(paths["pipe.txt"])
    os.symlink(folder / "gone.txt", paths["broken.txt"])
    os.symlink(paths["loop.txt"], paths["loop.txt"])
    paths["latin1.txt"].write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    paths["binary.txt"].write_bytes(b"\x00\x01\x02binary")
    paths["empty.txt"].write_bytes(b"")
    paths["spaces.md"].write_text("   \n\n\t\n", encoding="utf-8")
    paths["tool.exe"].write_bytes(b"MZ")
    paths["folder.txt"].mkdir()
    paths["page.html"].write_text("<html><script>x()</script></html>", encoding="utf-8")
    return paths


def test_bad_inputs_over_the_python_api_and_the_cli(fake_index, fake_model_env, seed_corpus, tmp_path, capsys):
    index_dir = tmp_path / "index"
    before = snapshot(seed_corpus, index_dir)
    tally = Tally()
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    index_dirs = {"None": None, "int": 5, "empty": "", "spaces": "  ", "list": [str(index_dir)], "NUL": "in\x00dex",
                  "a file": a_file, "/dev/null": "/dev/null", "under a file": a_file / "index",
                  "impossible": "/proc/qa-nowhere/index", "missing": tmp_path / "missing"}
    odd = odd_sources(tmp_path / "odd")

    # Python API
    for name, question in QUESTIONS.items():
        python_call(tally, f"Index.retrieve(question={name})", partial(fake_index.retrieve, question))
        python_call(tally, f"Index.answer(question={name})", partial(fake_index.answer, question))
        python_call(tally, f"qa.ask(question={name})", partial(qa.ask, question, index_dir=index_dir))
        python_call(tally, f"qa.retrieve(question={name})", partial(qa.retrieve, question, index_dir=index_dir))
    for name, k in KS.items():
        python_call(tally, f"Index.retrieve(k={name})", partial(fake_index.retrieve, "Who brokered the cease-fire?", k))
        python_call(tally, f"qa.retrieve(k={name})", partial(qa.retrieve, "Who brokered it?", k, index_dir=index_dir))
    for name, history in HISTORIES.items():
        python_call(tally, f"Index.answer(history={name})", partial(fake_index.answer, "And Armenia?", history))
        python_call(tally, f"qa.ask(history={name})", partial(qa.ask, "And Armenia?", history, index_dir=index_dir))
    for name, mode in MODES.items():
        python_call(tally, f"Index.retrieve(mode={name})", partial(fake_index.retrieve, "Who brokered it?", mode=mode))
    for name, folder in index_dirs.items():
        python_call(tally, f"Index.load(index_dir={name})", partial(Index.load, folder))
        python_call(tally, f"Index.build(index_dir={name})", partial(Index.build, [seed_corpus], folder))
        python_call(tally, f"qa.ask(index_dir={name})", partial(qa.ask, "Who brokered it?", index_dir=folder))
    path_lists: dict[str, Any] = {"None": None, "int": 5, "bytes": b"seeds", "dict": {"a": 1}, "[None]": [None], "['']": [""],
                  "missing": [tmp_path / "nowhere"], **{f"[{n}]": [p, SEED_FILE] for n, p in odd.items()},
                  "only odd files": [odd["latin1.txt"], odd["binary.txt"], odd["pipe.txt"]], "empty list": []}
    for name, paths in path_lists.items():
        python_call(tally, f"Index.build(paths={name})", partial(Index.build, paths, tmp_path / "scratch-index"))

    # CLI (in-process; undecodable argv bytes are tried in a real process below)
    capsys.readouterr()
    for name, question in QUESTIONS.items():
        if isinstance(question, str) and "\x00" not in question:  # argv cannot hold NUL or non-strings
            cli_call(tally, capsys, f"qa ask {name}", "ask", question, "--index", str(index_dir))
            cli_call(tally, capsys, f"qa retrieve {name}", "retrieve", question, "--index", str(index_dir), "--json")
    for k in ("abc", "2.5", "0", "-1", "", "1e309", "nan", "99999999999999999999"):
        cli_call(tally, capsys, f"qa retrieve -k {k}", "retrieve", "Who brokered it?", "-k", k, "--index", str(index_dir))
    for mode in ("fuzzy", "", "DENSE"):
        cli_call(tally, capsys, f"qa retrieve --mode {mode}", "retrieve", "Who?", "--mode", mode, "--index", str(index_dir))
    for name, folder in index_dirs.items():
        if isinstance(folder, (str, Path)) and str(folder).strip() and "\x00" not in str(folder):
            for command in ("ask", "retrieve"):
                cli_call(tally, capsys, f"qa {command} --index {name}", command, "Who?", "--index", str(folder))
            cli_call(tally, capsys, f"qa index --index {name}", "index", str(seed_corpus), "--index", str(folder))
    for name, path in odd.items():
        cli_call(tally, capsys, f"qa index {name}", "index", str(path), str(SEED_FILE), "--index", str(tmp_path / "cli-index"))
    cli_call(tally, capsys, "qa index of odd files only", "index", str(odd["latin1.txt"]), str(odd["pipe.txt"]),
             "--index", str(tmp_path / "cli-index"))
    eval_files = {"missing": tmp_path / "nowhere.jsonl", "folder": odd["folder.txt"], "pipe": odd["pipe.txt"],
                  "binary": odd["binary.txt"], "empty": odd["empty.txt"]}
    for shape, text in {"list": "[1, 2]\n", "string": '"q"\n', "no answers": '{"question": "Who?"}\n',
                        "answers int": '{"question": "Who?", "answers": 5}\n', "not json": "{question\n"}.items():
        eval_files[shape] = tmp_path / f"eval-{shape.replace(' ', '-')}.jsonl"
        eval_files[shape].write_text(text, encoding="utf-8")
    for name, path in eval_files.items():
        cli_call(tally, capsys, f"qa eval {name}", "eval", str(path), "--index", str(index_dir))

    # argv bytes that are not UTF-8, in real processes
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for argv in (("ask", b"\xff\xfe"), ("retrieve", b"caf\xe9?"), ("ask", b"\xed\xa0\x80")):
        result = subprocess.run([sys.executable, str(REPO / "tests" / "fake_model.py"), "cli", *argv, "--index",
                                 str(index_dir)], capture_output=True, timeout=120, env=env, check=False)
        err = result.stderr.decode("utf-8", "replace").strip()
        ok = result.returncode == 1 and err.startswith("qa: error: ") and clear(err)
        tally.add("cli", f"qa {argv[0]} {argv[1]!r} (argv bytes)", "clear" if ok else "crash", err)

    lost = files_lost(before, snapshot(seed_corpus, index_dir))
    Index.load(index_dir, embedder=fake_model_env)  # the index still loads
    with capsys.disabled():
        report(tally, lost, "Python API and CLI")
    assert len(tally.outcomes) >= 200
    assert tally.failures() == [] and lost == 0
