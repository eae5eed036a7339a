"""The command line with the real model: index then retrieve, ask and eval as JSON, and the installed entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

import qa

from helpers import SEED_FILE
from helpers.cli import ANSWER_KEYS, CITATION_KEYS, PASSAGE_KEYS, qa_command, run, write_jsonl

BOTH_STORES = True  # tests that take an index location run on a folder and on PostgreSQL (conftest.py)


# ----- with the real model -------------------------------------------------------------


@pytest.mark.model
def test_index_then_retrieve_with_the_model(model_index, tmp_path, capsys):
    """`qa index`, `qa retrieve`, then `qa.retrieve` loading, caching and reloading after a rebuild."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy2(SEED_FILE, corpus / SEED_FILE.name)
    index_dir = tmp_path / "index"
    code, out, err = run(capsys, "index", str(corpus), "--index", str(index_dir))
    assert code == 0, err
    assert "Indexed 1 documents" in out and "(1 embedded," in out
    code, out, _ = run(capsys, "retrieve", "How many Russian peacekeepers were deployed?", "--index", str(index_dir), "--json")
    assert code == 0
    passages = json.loads(out)
    assert len(passages) == 5 and "2,000" in passages[0]["text"]
    code, out, _ = run(capsys, "retrieve", "How many Russian peacekeepers were deployed?", "--index", str(index_dir))
    assert code == 0 and out.startswith(f"[1] {SEED_FILE.name}, line ")
    assert "2,000" in out.split("\n[2]")[0]

    passages = qa.retrieve("How many Russian peacekeepers were deployed?", k=3, index_dir=index_dir)
    assert "2,000" in passages[0].text
    cached = qa.open_index(index_dir)
    assert qa.retrieve("Who brokered the cease-fire?", index_dir=index_dir) and qa.open_index(index_dir) is cached

    with open(corpus / "harbour.txt", "w", encoding="utf-8") as handle:
        handle.write("The lighthouse keeper counted 41 fishing boats in the harbour on Sunday.\n")
    code, out, _ = run(capsys, "index", str(corpus), "--index", str(index_dir))
    assert code == 0 and "(1 embedded, 1 unchanged," in out
    assert qa.open_index(index_dir) is not cached
    hit = qa.retrieve("How many fishing boats did the lighthouse keeper count?", k=1, index_dir=index_dir)[0]
    assert hit.source == "harbour.txt"


@pytest.mark.model
def test_ask_json_with_the_model(model_index_dir, capsys):
    code, out, _ = run(capsys, "ask", "What total military death toll did Azerbaijan report?", "--index", str(model_index_dir), "--json")
    assert code == 0
    answer = json.loads(out)
    assert set(answer) == ANSWER_KEYS and answer["answered"] is True
    first = answer["citations"][0]
    assert set(first) == CITATION_KEYS and first["n"] == 1
    assert first["path"] == str(SEED_FILE.resolve())  # which sentence comes first: answer/test_answers.py
    assert SEED_FILE.read_text(encoding="utf-8")[first["start"] : first["end"]] == first["quote"]
    code, out, _ = run(capsys, "ask", "Who won the 2018 FIFA World Cup?", "--index", str(model_index_dir), "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["answered"] is False and "do not answer" in answer["text"] and answer["citations"]


@pytest.mark.model
def test_eval_with_the_model(model_index_dir, tmp_path, capsys):
    questions = write_jsonl(tmp_path / "seed.jsonl", [
        {"question": "What total military death toll did Azerbaijan report?", "answers": ["2,783"]},
        {"question": "How many Russian peacekeepers were deployed?", "answers": ["2,000"]},
        {"question": "When did Azerbaijan launch its military offensive?", "answers": ["September", "in September"]},
        {"question": "Who won the 2018 FIFA World Cup?", "answers": []},
    ])
    code, out, _ = run(capsys, "eval", str(questions), "--index", str(model_index_dir), "--json")
    assert code == 0
    data = json.loads(out)
    report = data["totals"]
    assert sum(r["correct"] for r in data["results"][:3]) == round(3 * report["first_quote_correct"])
    assert data["results"][3]["correct"] is (data["results"][3]["answered"] is False)
    assert (report["questions"], report["answerable"], report["unanswerable"]) == (4, 3, 1)
    assert report["citation_validity"] == 1.0
    assert report["abstention_rate"] == 1.0
    assert report["answered_rate"] == 1.0
    assert report["any_quote_correct"] == 1.0
    assert report["first_quote_correct"] >= 2 / 3
    assert report["mean_quote_chars"] > 0
    code, out, _ = run(capsys, "eval", str(questions), "--index", str(model_index_dir))
    assert code == 0
    assert "questions: 4 (3 answerable, 1 unanswerable)" in out
    assert "citation validity: 100.0%" in out and "abstained (unanswerable): 100.0%" in out


@pytest.mark.model
def test_installed_entry_point_retrieves(model_index_dir, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [qa_command(), "retrieve", "How many Russian peacekeepers were deployed?", "--mode", "lexical",
         "--json", "-k", "2", "--index", str(model_index_dir)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=False,
    )
    assert result.returncode == 0, result.stderr
    passages = json.loads(result.stdout)
    assert len(passages) == 2 and set(passages[0]) == PASSAGE_KEYS and "2,000" in passages[0]["text"]


