"""Files made to hurt a reader, built at test time beside the seed, through `qa index` in a process of its own
(its peak memory measured by the kernel) and through an upload in the app: each is skipped with one line that
says why, or read as a browser or editor would; nothing hangs; the peak stays within the reading budget; the seed
still answers.

The payloads are written block by block (a gigabyte of spaces deflates to about a megabyte), so making them costs
seconds and no memory. The CLI runs with the fake embedder (tests/fake_model.py): reading is what is measured.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable

import pytest

from helpers import REPO, SEED_FILE
from helpers.documents import bomb_pdf

GiB = 2**30
MiB = 2**20
# What `qa index` may use at its peak: the reading budget (Settings.read.max_memory_bytes, 512 MiB, for the PDF
# child) on top of a process that has imported numpy, faiss and the readers (about 150 MiB with the fake embedder).
PEAK_BYTES = 512 * MiB + 200 * MiB
SECONDS = 180  # a hang is a failure, not a stuck test run
LAUGHS = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' \
         b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><w>&d;&d;&d;</w>'


def zipped(members: list[tuple[str, bytes | int]]) -> bytes:
    """A zip of ``members``: bytes as given, or an int for that many spaces, deflated block by block."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            with archive.open(name, "w", force_zip64=True) as member:
                if isinstance(data, bytes):
                    member.write(data)
                    continue
                block = b" " * MiB
                for _ in range(data // MiB):
                    member.write(block)
    return buffer.getvalue()


def docx(body: bytes | int, media: int = 0) -> bytes:
    members: list[tuple[str, bytes | int]] = [("[Content_Types].xml", b"<Types/>"), ("word/document.xml", body)]
    return zipped(members + ([("word/media/image1.bin", media)] if media else []))


def epub(opf: bytes, chapter: bytes | int = b"<html><body><p>A chapter.</p></body></html>") -> bytes:
    return zipped([("mimetype", b"application/epub+zip"), ("OEBPS/content.opf", opf), ("OEBPS/c1.xhtml", chapter)])


def nested_html(depth: int, tag: str) -> bytes:
    text = "The Tarrow Point lighthouse was first lit in 1874 by its keeper."
    return (f"<html><body>{f'<{tag}>' * depth}<p>{text}</p>{f'</{tag}>' * depth}</body></html>").encode()


def nested_rst(depth: int) -> bytes:
    """Lists in lists, each one deeper: docutils copies the lines below for every level (memory: size x depth)."""
    return ("Lighthouse\n==========\n\n" + "".join(" " * level + "- The keeper.\n\n" for level in range(0, 2 * depth, 2))).encode()


# (file name, how to make it, the line `qa index` prints for it: a reason, or None when its text is indexed)
PAYLOADS: list[tuple[str, Callable[[], bytes], str | None]] = [
    ("inflates.docx", lambda: docx(GiB), "expands to more than 50 MB"),
    ("media.docx", lambda: docx(b"<w:document/>", media=3 * GiB // 4), "expands to more than 50 MB"),
    ("chapter.epub", lambda: epub(b"<package/>", GiB // 2), "expands to more than 50 MB"),
    ("laughs.docx", lambda: docx(LAUGHS), "declares XML entities"),
    ("laughs.epub", lambda: epub(LAUGHS), "declares XML entities"),
    ("bomb.pdf", lambda: bomb_pdf(GiB), "needs more than 512 MB of memory; Settings.read.max_memory_bytes"),
    ("nested.rst", lambda: nested_rst(1500), "needs more than 512 MB of memory; Settings.read.max_memory_bytes"),
    ("cells.ipynb", lambda: b'{"cells": [' + b",".join([b"{}"] * 1_300_000) + b"]}", "no text found"),  # 1.3M objects
    ("divs.html", lambda: nested_html(1200, "div"), None),
    ("bold.html", lambda: nested_html(5000, "b"), None),
    ("notepad.txt", lambda: "\ufeffThe keeper wrote in Notepad.\r\n".encode("utf-16-le"), None),
]


# Runs the command it is given and prints, last on stderr, the peak resident memory (KiB) of the largest process
# it waited for: the CLI, or the PDF reader's child it started.
MEASURE = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)")


def run_cli(*args: str) -> tuple[subprocess.CompletedProcess, int]:
    """`qa ARGS` with the fake embedder in a process of its own: its result, and its peak resident memory in bytes."""
    command = [sys.executable, "-c", MEASURE, sys.executable, str(REPO / "tests" / "fake_model.py"), "cli", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS, check=False,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})
    except subprocess.TimeoutExpired:
        raise AssertionError(f"qa {' '.join(args)} hung for {SECONDS} s") from None
    *lines, peak = done.stderr.rstrip("\n").split("\n")
    return subprocess.CompletedProcess(command, done.returncode, done.stdout, "\n".join(lines)), int(peak) * 1024


@pytest.mark.parametrize(("name", "make", "reason"), PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_qa_index_skips_or_reads_the_payload_within_the_budget_and_the_seed_answers(tmp_path, name, make, reason) -> None:
    payload = tmp_path / name
    payload.write_bytes(make())
    assert payload.stat().st_size < 4 * MiB  # small on disk: the harm is in what it expands to
    index = tmp_path / "index"
    done, peak = run_cli("index", str(SEED_FILE), str(payload), "--index", str(index))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if name in line]
    if reason is None:
        assert lines == [], done.stderr  # read, not skipped
    else:
        assert len(lines) == 1 and reason in lines[0], done.stderr
    assert peak < PEAK_BYTES, f"peak {peak / MiB:.0f} MiB"
    found, _ = run_cli("retrieve", "How many soldiers has Azerbaijan lost?", "-k", "20", "--index", str(index), "--json")
    sources = {p["source"] for p in json.loads(found.stdout)}
    assert SEED_FILE.name in sources
    assert (name in sources) == (reason is None)


@pytest.mark.parametrize(("name", "make", "reason"), [p for p in PAYLOADS if p[2]], ids=[p[0] for p in PAYLOADS if p[2]])
def test_an_upload_of_the_payload_is_refused_with_its_reason_and_nothing_is_lost(tmp_path, fake_model_env, name, make,
                                                                                 reason) -> None:
    from qa.app import Library, Service

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / SEED_FILE.name).write_bytes(SEED_FILE.read_bytes())
    service = Service.start(Library(seeds, tmp_path / "data"), tmp_path / "index")
    upload = tmp_path / "incoming" / name
    upload.parent.mkdir()
    upload.write_bytes(make())
    change = service.add([(upload, name)])
    assert change.added == () and len(change.rejected) == 1 and reason in change.rejected[0].reason
    assert f"Not added: {name}" in change.summary()
    assert [d.source for d in service.index.documents] == [SEED_FILE.name]
    assert not any(service.library.uploads.iterdir())
