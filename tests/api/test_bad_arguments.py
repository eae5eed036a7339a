"""Bad arguments to the Python API and the CLI get a QAError that says what to pass, never another exception
(fake embedder)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

import qa
from qa import Index
from qa.cli import main
from qa.errors import ArgumentError, QuestionError

from helpers import REPO

SURROGATES = "\udcff\udcfe"  # what Python makes of the bytes ff fe in argv: `qa ask $'\xff\xfe'`


@pytest.mark.parametrize("k", ["abc", "5", 2.5, 5.0, None, True, False, 0, -3, [5], float("nan"), float("inf")])
def test_retrieve_k_must_be_a_whole_number(fake_index, fake_model_env, tmp_path, k):
    with pytest.raises(ArgumentError, match=r"k must be a whole number of at least 1, such as k=5; got "):
        fake_index.retrieve("Azerbaijan", k=k)
    with pytest.raises(ArgumentError, match="k must be a whole number"):
        qa.retrieve("Azerbaijan", k=k, index_dir=tmp_path / "index")


def test_numpy_integers_are_whole_numbers(fake_index):
    import numpy as np

    assert len(fake_index.retrieve("Azerbaijan", k=np.int64(2))) == 2


@pytest.mark.parametrize("mode", ["fuzzy", 5, ["dense"]])
def test_unknown_mode(fake_index, mode):
    with pytest.raises(ArgumentError, match="use hybrid, dense or lexical"):
        fake_index.retrieve("Azerbaijan", mode=mode)


HISTORIES = {
    "an int": 5,
    "a string": "What happened?",
    "a dict": {"question": "What happened?", "answer": "A war."},
    "[None]": [None],
    "[[]]": [[]],
    "[[1, 2]]": [[1, 2]],
    "[['q']]": [["What happened?"]],
    "[['q', 'a', 'x']]": [["What happened?", "A war.", "extra"]],
    "['qa']": ["qa"],
    "[['q', None]]": [["What happened?", None]],
    "bytes": b"history",
    "a set": {("q", "a")},
}


@pytest.mark.parametrize("history", HISTORIES.values(), ids=HISTORIES.keys())
def test_history_of_the_wrong_shape_says_what_to_pass(fake_index, fake_model_env, tmp_path, history):
    with pytest.raises(QuestionError, match=r"must be a list of \[question, answer\] pairs of text") as error:
        fake_index.answer("And Armenia?", history=history)
    assert "\n" not in str(error.value)
    with pytest.raises(QuestionError, match="pairs of text"):
        qa.ask("And Armenia?", history=history, index_dir=tmp_path / "index")


def test_history_pairs_may_be_lists_or_tuples(fake_index):
    turns = [["What total military death toll did Azerbaijan report?", "2,783"]]
    assert fake_index.answer("And Armenia?", history=turns) == fake_index.answer("And Armenia?", history=[tuple(turns[0])])


def test_a_huge_question_in_the_history_is_cut_like_the_question(fake_index, monkeypatch):
    huge = "What total military death toll did Azerbaijan report? " * 20_000  # about 1 MB
    queries: list[str] = []
    rank = fake_index.retriever.rank

    def recording(query: str, *a: Any, **k: Any) -> Any:
        queries.append(query)
        return rank(query, *a, **k)

    monkeypatch.setattr(fake_index.retriever, "rank", recording)
    fake_index.answer("And Armenia?", history=[(huge, "2,783")])
    assert queries and len(queries[0]) <= fake_index.settings.max_question_chars + len(" And Armenia?")


@pytest.mark.parametrize("question", [SURROGATES, "Who \ud800 brokered it?", "trailing \udfff"])
def test_a_question_that_is_not_valid_text_is_refused(fake_index, fake_model_env, tmp_path, question):
    for call in (fake_index.retrieve, fake_index.answer, lambda q: qa.ask(q, index_dir=tmp_path / "index")):
        with pytest.raises(QuestionError, match="not valid text") as error:
            call(question)
        str(error.value).encode("utf-8")  # printable: the message does not echo the bad characters
    with pytest.raises(QuestionError, match="Question 1 of the conversation holds characters that are not valid"):
        fake_index.answer("And Armenia?", history=[(question, "an answer")])


@pytest.mark.parametrize("question", [5, 2.5, ["Who?"], b"Who brokered the cease-fire?", {"q": 1}])
def test_a_question_that_is_not_text_is_refused(fake_index, question):
    with pytest.raises(QuestionError, match="The question must be text"):
        fake_index.answer(question)
    with pytest.raises(QuestionError, match="The question must be text"):
        fake_index.retrieve(question)


@pytest.mark.parametrize("index_dir", [None, 5, "", "   ", ["index"], "in\x00dex"])
def test_index_dir_must_be_a_path(seed_corpus, fake_embedder, index_dir):
    for call in (lambda: Index.build([seed_corpus], index_dir, embedder=fake_embedder),
                 lambda: Index.load(index_dir, embedder=fake_embedder),
                 lambda: qa.ask("Who?", index_dir=index_dir), lambda: qa.retrieve("Who?", index_dir=index_dir)):
        with pytest.raises(ArgumentError, match="index_dir must be the path of the index folder"):
            call()


@pytest.mark.parametrize("paths", [None, 5, b"seeds", {"seeds": 1}, [None], [5], [""]])
def test_paths_to_index_must_be_paths(tmp_path, fake_embedder, paths):
    with pytest.raises(ArgumentError, match=r"(paths must be a list|Each path to index must be)"):
        Index.build(paths, tmp_path / "index", embedder=fake_embedder)


def test_one_path_alone_is_indexed_as_a_list_of_one(seed_corpus, tmp_path, fake_embedder):
    assert Index.build(str(seed_corpus), tmp_path / "index", embedder=fake_embedder).documents


# ----- the command line -----------------------------------------------------------------


def test_cli_question_of_undecodable_bytes_is_a_one_line_error(fake_index, tmp_path):
    """A real process, so the question reaches argv as bytes (the fake model is not needed to refuse it)."""
    env = {**os.environ, "QA_MODEL_PATH": str(tmp_path / "fake-hash"), "PYTHONIOENCODING": "utf-8"}
    (tmp_path / "fake-hash").mkdir()
    for command in ("ask", "retrieve"):
        result = subprocess.run([sys.executable, "-m", "qa.cli", command, b"\xff\xfe", "--index", str(tmp_path / "index")],
                                cwd=REPO, env=env, capture_output=True, timeout=120, check=False)
        err = result.stderr.decode("utf-8", errors="replace")
        assert result.returncode == 1, err
        assert err.count("\n") == 1 and err.startswith("qa: error: The question holds characters that are not valid text")


@pytest.mark.parametrize("k", ["0", "-2"])
def test_cli_k_below_one_is_a_one_line_error(fake_index, fake_model_env, tmp_path, capsys, k):
    assert main(["retrieve", "Azerbaijan", "-k", k, "--index", str(tmp_path / "index")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "k must be a whole number" in err


@pytest.mark.parametrize("kind", ["folder", "missing", "fifo", "binary", "wrong shape"])
def test_cli_eval_of_a_bad_file_is_a_one_line_error(fake_index, fake_model_env, tmp_path, capsys, kind):
    path = tmp_path / "questions.jsonl"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # reading it would wait forever
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00\x01")
    elif kind == "wrong shape":
        path.write_text('["question", "answers"]\n', encoding="utf-8")
    assert main(["eval", str(path), "--index", str(tmp_path / "index")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qa: error: "), err
