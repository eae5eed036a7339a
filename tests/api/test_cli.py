"""The command line: exit codes, one-line errors, JSON shapes (in-process with capsys; one real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import FrozenInstanceError, fields
from pathlib import Path

import pytest

import qa
from qa.cli import main
from qa.evaluate import EvalReport, QuestionResult, evaluate_file, token_f1

from helpers import SEED_FILE
from helpers.cli import ANSWER_KEYS, CITATION_KEYS, PASSAGE_KEYS, qa_command, run, write_jsonl

BOTH_STORES = True  # tests that take an index location run on a folder and on PostgreSQL (conftest.py)

REPORT_KEYS = {
    "questions", "answerable", "unanswerable", "answered_rate", "first_quote_correct", "any_quote_correct",
    "abstention_rate", "citation_validity", "mean_quote_chars", "answer_marked",
    "marks_right",
}
RESULT_KEYS = {f.name for f in fields(QuestionResult)}


def assert_one_error_line(err: str, *words: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("qa: error: ")
    for word in words:
        assert word in lines[0]


# ----- with the fake embedder (fast) ---------------------------------------------------


@pytest.fixture
def cli_index(fake_model_env, seed_corpus, index_location, capsys) -> Path | str:
    """`qa index` of the seed corpus with the fake embedder standing in for the model (in a folder, or PostgreSQL)."""
    index_dir = index_location
    code, out, err = run(capsys, "index", str(seed_corpus), "--index", str(index_dir))
    assert code == 0, err
    assert out.strip() == (
        f"Indexed 1 documents, 7 passages into {index_dir} (1 embedded, 0 unchanged, 0 removed, 0 skipped)."
    )
    assert err == ""
    return index_dir


def test_index_again_reports_nothing_embedded(cli_index, seed_corpus, capsys):
    code, out, _ = run(capsys, "index", str(seed_corpus), "--index", str(cli_index))
    assert code == 0
    assert "(0 embedded, 1 unchanged, 0 removed, 0 skipped)" in out


def test_index_warns_about_skipped_files(cli_index, seed_corpus, capsys):
    (seed_corpus / "data.bin.txt").write_bytes(b"\x00\x01\x02")
    (seed_corpus / "letter.docx").write_bytes(b"PK\x03\x04")
    code, out, err = run(capsys, "index", str(seed_corpus), "--index", str(cli_index))
    assert code == 0
    assert "2 skipped" in out
    warnings = err.splitlines()
    assert len(warnings) == 2 and all(line.startswith("qa: warning: skipped ") for line in warnings)


def test_index_errors(fake_model_env, tmp_path, capsys):
    code, out, err = run(capsys, "index", str(tmp_path / "missing"), "--index", str(tmp_path / "index"))
    assert code == 1 and out == ""
    assert_one_error_line(err, "No such file or folder")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.docx").write_bytes(b"PK")
    code, out, err = run(capsys, "index", str(tmp_path / "bad"), "--index", str(tmp_path / "index"))
    assert code == 1
    assert err.splitlines()[-1].startswith("qa: error: Nothing to index")


def test_retrieve_json(cli_index, capsys):
    code, out, err = run(capsys, "retrieve", "How many Russian peacekeepers were deployed?", "--index", str(cli_index), "--json", "-k", "3")
    assert code == 0 and err == ""
    passages = json.loads(out)
    assert isinstance(passages, list) and len(passages) == 3
    assert [p["rank"] for p in passages] == [1, 2, 3]
    text = SEED_FILE.read_text(encoding="utf-8")
    for p in passages:
        assert set(p) == PASSAGE_KEYS
        assert text[p["start"] : p["end"]] == p["text"]
        assert p["source"] == SEED_FILE.name and Path(p["path"]).name == SEED_FILE.name
        assert isinstance(p["score"], float)


@pytest.mark.parametrize("mode", ["dense", "lexical"])
def test_retrieve_modes_and_text_output(cli_index, capsys, mode):
    code, out, _ = run(capsys, "retrieve", "Hadrut violations", "--index", str(cli_index), "--mode", mode, "-k", "2")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith(f"[1] {SEED_FILE.name}, line ") and "chars " in lines[0]
    assert lines[1].startswith("    ") and lines[2].startswith("[2] ")


def test_ask_json_shape(cli_index, capsys):
    code, out, err = run(capsys, "ask", "What total military death toll did Azerbaijan report?", "--index", str(cli_index), "--json")
    assert code == 0 and err == ""
    answer = json.loads(out)
    assert set(answer) == ANSWER_KEYS
    assert answer["question"] == "What total military death toll did Azerbaijan report?"
    assert isinstance(answer["answered"], bool) and isinstance(answer["text"], str)
    text = SEED_FILE.read_text(encoding="utf-8")
    assert answer["citations"]
    for n, c in enumerate(answer["citations"], start=1):
        assert set(c) == CITATION_KEYS
        assert c["n"] == n and text[c["start"] : c["end"]] == c["quote"]


def test_ask_text_output(cli_index, capsys):
    code, out, _ = run(capsys, "ask", "What total military death toll did Azerbaijan report?", "--index", str(cli_index))
    assert code == 0
    assert "\nSources:\n" in out or "\nClosest passages (not an answer):\n" in out
    assert f"[1] {SEED_FILE.name}, line " in out


@pytest.mark.parametrize("command", ["ask", "retrieve"])
@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_one_error_line(cli_index, capsys, command, question):
    code, out, err = run(capsys, command, question, "--index", str(cli_index))
    assert code == 1 and out == ""
    assert_one_error_line(err, "empty")


@pytest.mark.parametrize("command", [["ask", "Who?"], ["retrieve", "Who?"], ["eval", "questions.jsonl"]])
def test_missing_index_is_one_error_line(index_location, capsys, command):
    code, out, err = run(capsys, *command, "--index", str(index_location))
    assert code == 1 and out == ""
    assert_one_error_line(err, "No index", "qa index")


def test_foreign_index_is_one_error_line(cli_index, capsys, monkeypatch, tmp_path):
    other = tmp_path / "other-model"
    other.mkdir()
    monkeypatch.setenv("QA_MODEL_PATH", str(other))
    code, _, err = run(capsys, "ask", "Who?", "--index", str(cli_index))
    assert code == 1
    assert_one_error_line(err, "model", "qa index")


def test_bad_k_is_one_error_line(cli_index, capsys):
    code, _, err = run(capsys, "retrieve", "Who?", "-k", "0", "--index", str(cli_index))
    assert code == 1
    assert_one_error_line(err, "k must be")


def test_eval_json_with_the_fake(cli_index, tmp_path, capsys):
    questions = write_jsonl(tmp_path / "q.jsonl", [
        {"question": "What total military death toll did Azerbaijan report?", "answers": ["2,783"]},
        {"question": "Who won the 2018 FIFA World Cup?", "answers": []},
    ])
    code, out, _ = run(capsys, "eval", str(questions), "--index", str(cli_index), "--json")
    assert code == 0
    report = json.loads(out)["totals"]
    assert set(report) == REPORT_KEYS
    assert (report["questions"], report["answerable"], report["unanswerable"]) == (2, 1, 1)
    assert report["citation_validity"] == 1.0
    code, out, _ = run(capsys, "eval", str(questions), "--index", str(cli_index))
    assert code == 0
    assert "\n\nquestions: 2 (1 answerable, 1 unanswerable)\n" in out
    assert "citation validity: 100.0%" in out


# What the fake embedder makes of these (deterministic): one of each verdict.
EVAL_ROWS = [
    {"question": "How many Russian peacekeepers were deployed?", "answers": ["2,000"]},  # answered, first quote right
    {"question": "What total military death toll did Azerbaijan report?", "answers": ["2,783"]},  # answered, wrong quote
    {"question": "Who won the 2018 FIFA World Cup?", "answers": []},  # declined, rightly
    {"question": "What is the airspeed of an unladen swallow?", "answers": ["24 miles per hour"]},  # declined, wrongly
]


def test_eval_prints_a_line_per_question_then_the_totals(cli_index, tmp_path, capsys):
    questions = write_jsonl(tmp_path / "q.jsonl", EVAL_ROWS)
    code, out, _ = run(capsys, "eval", str(questions), "--index", str(cli_index))
    assert code == 0
    listed, totals = out.split("\n\n")
    lines = listed.splitlines()
    assert len(lines) == len(EVAL_ROWS)
    assert lines[0].startswith('  ok  answered  "How many Russian peacekeepers were deployed?" → “The sides agreed')
    assert lines[0].endswith(f"…” [{SEED_FILE.name}, line 30]")
    quote = lines[0].split("“")[1].split("”")[0]
    assert len(quote) <= 100 and quote[:-1] in " ".join(SEED_FILE.read_text(encoding="utf-8").split())
    assert lines[1].startswith('MISS  answered  "What total military death toll did Azerbaijan report?" → “')
    assert lines[1].endswith("(no quote holds a gold answer)")
    assert lines[2] == '  ok  declined  "Who won the 2018 FIFA World Cup?"'
    assert lines[3] == 'MISS  declined  "What is the airspeed of an unladen swallow?"'
    assert totals.startswith("questions: 4 (3 answerable, 1 unanswerable)\n")


def test_eval_json_holds_the_results_and_the_totals(cli_index, tmp_path, capsys):
    questions = write_jsonl(tmp_path / "q.jsonl", EVAL_ROWS)
    code, out, _ = run(capsys, "eval", str(questions), "--index", str(cli_index), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"results", "totals"} and set(data["totals"]) == REPORT_KEYS
    results = data["results"]
    assert all(set(r) == RESULT_KEYS for r in results)
    assert [r["question"] for r in results] == [row["question"] for row in EVAL_ROWS]
    assert [r["expected"] for r in results] == [row["answers"] for row in EVAL_ROWS]
    assert [(r["answered"], r["correct"]) for r in results] == [(True, True), (True, False), (False, True), (False, False)]
    right = results[0]
    assert (right["source"], right["page"], right["line"], right["gold_quote"]) == (SEED_FILE.name, None, 30, 1)
    assert "2,000" in right["first_quote"] and right["first_quote"] in SEED_FILE.read_text(encoding="utf-8")
    assert (results[1]["gold_quote"], results[1]["first_quote"] != "") == (None, True)
    assert all((r["first_quote"], r["source"], r["line"], r["gold_quote"], r["marked"]) == ("", "", None, None, "")
               for r in results[2:])
    assert all(r["marked"] in r["first_quote"] for r in results)  # what the app bolds, inside the quote
    # The totals count what the verdicts say: right first quotes among answerable questions, declines among the rest.
    totals = data["totals"]
    assert (totals["answered_rate"], totals["first_quote_correct"], totals["abstention_rate"]) == (2 / 3, 1 / 3, 1.0)
    said = [r for r in results if r["expected"] and r["answered"]]
    marks = [r for r in said if r["marked"]]
    hits = [r for r in marks if max(token_f1(r["marked"], g) for g in r["expected"]) >= 0.5]
    assert (totals["answer_marked"], totals["marks_right"]) == (len(hits) / len(said), len(hits) / len(marks) if marks else 0.0)
    code, out, _ = run(capsys, "eval", str(questions), "--index", str(cli_index))
    assert code == 0
    assert out.split("\n\n")[1] == EvalReport(**totals).summary() + "\n"  # the same totals as the plain output


def test_evaluate_file_gives_frozen_results_beside_the_report(cli_index, tmp_path):
    questions = write_jsonl(tmp_path / "q.jsonl", EVAL_ROWS)
    evaluation = evaluate_file(qa.open_index(str(cli_index)), questions)
    assert isinstance(evaluation.report, EvalReport) and evaluation.report.questions == len(EVAL_ROWS)
    assert [type(r) for r in evaluation.results] == [QuestionResult] * len(EVAL_ROWS)
    assert evaluation.results[2].expected == ()
    with pytest.raises(FrozenInstanceError):
        evaluation.results[0].correct = False  # type: ignore[misc]  # what is tested: a frozen field refuses assignment


@pytest.mark.parametrize("content", ["", "not json\n", '{"answers": []}\n'])
def test_eval_bad_file_is_one_error_line(cli_index, tmp_path, capsys, content):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    code, _, err = run(capsys, "eval", str(path), "--index", str(cli_index))
    assert code == 1
    assert_one_error_line(err, "bad.jsonl")


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["retrieve", "Who?", "--mode", "fuzzy"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_installed_entry_point_reports_a_missing_index(tmp_path):
    result = subprocess.run(
        [qa_command(), "ask", "Who brokered the cease-fire?", "--index", str(tmp_path / "none")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert_one_error_line(result.stderr, "No index", "qa index")


def test_another_backend_flag_is_refused_with_a_rebuild_hint(cli_index, fake_model_env, capsys, monkeypatch):
    monkeypatch.setenv("QA_BACKEND", fake_model_env.backend)  # the index is built with this backend; the flag asks for another
    other = "torch" if fake_model_env.backend == "onnx" else "onnx"
    code, _, err = run(capsys, "retrieve", "peacekeepers", "--index", str(cli_index), "--backend", other)
    assert code == 1
    assert_one_error_line(err, f"backend='{fake_model_env.backend}'", f"uses '{other}'", "qa index")


def test_the_backend_flag_is_a_setting_not_a_change_to_the_environment(cli_index, fake_model_env, capsys, monkeypatch):
    monkeypatch.delenv("QA_BACKEND", raising=False)
    before = dict(os.environ)
    run(capsys, "retrieve", "peacekeepers", "--index", str(cli_index), "--backend", "torch")
    assert dict(os.environ) == before  # the library is called with Settings(backend=...), nothing process-wide
