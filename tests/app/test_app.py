"""The app's API through gradio_client, against a live `python app.py` on a free port (real model)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bench.live_app import REPO, running_app

pytestmark = [pytest.mark.app, pytest.mark.model]

PEACEKEEPERS = "How many Russian peacekeepers were deployed?"
UNANSWERABLE = "Who won the 2018 football World Cup?"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    from gradio_client import Client

    with running_app(tmp_path_factory.mktemp("app")) as url:
        yield Client(url, verbose=False)


def test_only_ask_and_retrieve_are_public_endpoints(client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/ask", "/retrieve"}


def test_ask_answers_with_verbatim_quotes_and_their_passages(client, seed_text: str) -> None:
    answer = client.predict(PEACEKEEPERS, [], api_name="/ask")
    json.dumps(answer)  # plain data
    assert answer["answered"] is True and answer["truncated"] is False
    first = answer["citations"][0]
    assert "2,000 Russian peacekeeping forces" in first["quote"]
    assert f"“{first['quote']}” [1]" in answer["text"]
    for citation in answer["citations"]:
        assert seed_text[citation["start"] : citation["end"]] == citation["quote"]
        assert citation["quote"] in citation["passage"]
        assert seed_text[citation["passage_start"] : citation["passage_end"]] == citation["passage"]
        assert citation["supports_answer"] is True
        assert Path(citation["file_path"]).name == citation["source"]
    assert seed_text[first["answer_start"] : first["answer_end"]] == "2,000"


def test_abstains_when_the_sources_do_not_answer(client) -> None:
    answer = client.predict(UNANSWERABLE, [], api_name="/ask")
    assert answer["answered"] is False
    assert answer["text"].startswith("The sources do not answer this question.")
    assert answer["citations"] and not any(c["supports_answer"] for c in answer["citations"])


def test_follow_up_uses_the_conversation(client) -> None:
    history = [["What total military death toll did Azerbaijan report?", "“Overall, Azerbaijan has reported 2,783 …” [1]"]]
    answer = client.predict("And Armenia?", history, api_name="/ask")
    assert answer["answered"] is True
    assert "2,317" in answer["text"]


def test_retrieve_returns_ranked_passages_as_plain_data(client, seed_text: str) -> None:
    passages = client.predict("Who brokered the cease-fire?", 3, api_name="/retrieve")
    json.dumps(passages)
    assert [p["rank"] for p in passages] == [1, 2, 3]
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)
    for p in passages:
        assert seed_text[p["start"] : p["end"]] == p["text"]
        assert p["line"] == seed_text.count("\n", 0, p["start"]) + 1
    assert "Russian-brokered cease-fire" in " ".join(p["text"] for p in passages)


def test_empty_question_gets_a_friendly_message(client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=r"The question is empty\. Type a question"):
        client.predict("   ", [], api_name="/ask")
    with pytest.raises(AppError, match="The question is empty"):
        client.predict("", 5, api_name="/retrieve")


def test_very_long_question_is_cut_and_says_so(client) -> None:
    answer = client.predict("peacekeepers " * 400, [], api_name="/ask")
    assert answer["truncated"] is True
    assert len(answer["question"]) <= 2000


# ----- command line of app.py (no server) ----------------------------------------


def load_app_module():
    spec = importlib.util.spec_from_file_location("qa_app_main", REPO / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_listens_on_localhost_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    app = load_app_module()
    for name in ("QA_HOST", "QA_PORT", "QA_INDEX", "QA_DATA", "QA_SEEDS"):
        monkeypatch.delenv(name, raising=False)
    args = app.parse_args([])
    assert (args.host, args.port, args.index, args.seeds, args.data) == ("127.0.0.1", 7860, "data/index", "seeds", "data")
    assert app.parse_args(["--data", "/srv/qa"]).index == "/srv/qa/index"  # the app's index lives beside its uploads
    monkeypatch.setenv("QA_HOST", "0.0.0.0")
    monkeypatch.setenv("QA_PORT", "9000")
    assert (app.parse_args([]).host, app.parse_args([]).port) == ("0.0.0.0", 9000)
    assert app.parse_args(["--port", "8123", "--host", "::1"]).port == 8123
