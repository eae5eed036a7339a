"""The reader's model: the training script end to end on a tiny subset, the ONNX runtime, the combiner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.answer.combiner import FEATURES, Combiner, Linear, features, load_combiner
from qa.answer.crossencoder import load_cross_encoder, pair_text
from qa.errors import ModelError
from qa.settings import default_reader_path

from helpers import SHARED

DATA = SHARED / "eval" / "qatrain"
SHIPPED = Path(default_reader_path())


def test_pair_text_puts_the_title_first_and_tolerates_no_title() -> None:
    assert pair_text("Normans\n", "They came from Norway.") == "Normans: They came from Norway."
    assert pair_text("", "They came from Norway.") == "They came from Norway."


def test_a_folder_without_a_model_says_how_to_rebuild(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"python -m training\.reader"):
        load_cross_encoder(str(tmp_path))
    with pytest.raises(ModelError, match=r"python -m training\.combiner"):
        load_combiner(str(tmp_path))


@pytest.mark.skipif(not DATA.exists(), reason="needs ../shared/eval/qatrain")
def test_training_script_runs_end_to_end_on_a_tiny_subset(tmp_path: Path) -> None:
    from training import reader as training

    assert training.main(["--tiny", str(tmp_path), "--data", str(DATA)]) == 0
    config = json.loads((tmp_path / "reader.json").read_text())
    assert config["recipe"]["layers"] == 1 and config["int8_vs_torch"]["max_abs_logit_diff"] < 0.5
    model = load_cross_encoder(str(tmp_path))
    texts = ["Normans: The Normans came from Normandy.", "Normans: Rollo led them.", "x"]
    scores = model.score("Where did the Normans come from?", texts)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    assert np.array_equal(scores, model.score("Where did the Normans come from?", texts))  # deterministic
    assert model.score("Where?", []).shape == (0,)
    readings = model.read("Where did the Normans come from?", texts)  # the span head: inside the text, or None
    assert [r.logit for r in readings] == pytest.approx(scores.tolist())
    for reading, text in zip(readings, texts, strict=True):
        assert reading.span is None or 0 <= reading.span[0] < reading.span[1] <= len(text)


@pytest.mark.skipif(not (SHARED / "eval" / "squad2").exists(), reason="needs ../shared/eval/squad2")
def test_the_adaptation_script_runs_end_to_end_on_a_tiny_subset(tmp_path: Path) -> None:
    from evaldata import EVAL, squad2
    from training import adapt

    pairs = adapt.squad2_pairs(squad2.load(EVAL), {"Normans", "Oxygen"})  # an original article and one of the 19 more
    adversarial = [p for p in pairs if p.label == 0.0 and p.span is None]
    assert pairs and adversarial and any(p.label == 1.0 for p in pairs)
    assert adapt.main(["--tiny", str(tmp_path)]) == 0
    config = json.loads((tmp_path / "reader.json").read_text())
    assert config["recipe"]["adapted_on"] == ["1973_oil_crisis"] and config["int8_vs_torch"]["max_abs_logit_diff"] < 0.5
    scores = load_cross_encoder(str(tmp_path)).score("Who ruled Normandy?", ["Normans: Rollo ruled Normandy.", "x"])
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_the_adaptation_keeps_the_recipe_of_the_reader_it_starts_from(tmp_path: Path) -> None:
    from training import adapt

    run = {"recipe": {"layers": 3, "every": 2}, "paragraphs": 5, "questions": 6, "pairs": 7, "positives": 6, "train_seconds": 1}
    (tmp_path / "report.json").write_text(json.dumps(run))
    assert adapt.base_recipe(tmp_path / "checkpoint.pt") == {"layers": 3, "every": 2, "paragraphs": 5, "questions": 6,
                                                             "pairs": 7, "positives": 6}
    shipped = json.loads((SHIPPED / "reader.json").read_text())["recipe"]
    assert adapt.base_recipe(tmp_path / "elsewhere" / "checkpoint.pt") == shipped  # no run report: the shipped reader's


def test_combiner_weighs_features_by_name_and_round_trips() -> None:
    rank = Linear(tuple(float(i) for i in range(len(FEATURES))), -1.0)
    combiner = Combiner(rank, Linear((2.0,) + (0.0,) * (len(FEATURES) - 1), 0.0), 0.4, 0.5, 6)
    assert Combiner.from_json(json.loads(json.dumps(combiner.to_json()))) == combiner
    partial = Linear.from_json({"weights": {"reader": 2.0}, "bias": 0.0})  # features left out weigh 0
    assert partial == combiner.decide
    rows = features(np.array([1.0, -1.0]), np.zeros(2), np.zeros(2), np.zeros(2), np.ones(2))
    assert partial.probability(rows) == pytest.approx(1 / (1 + np.exp([-2.0, 2.0])))


def test_combiner_keeps_its_unsure_bars_and_an_older_one_gets_the_defaults() -> None:
    decide = Linear((2.0,) + (0.0,) * (len(FEATURES) - 1), 0.0)
    older = {"rank": decide.to_json(), "decide": decide.to_json(), "answer_at": 0.4, "further_at": 0.5, "judged": 6}
    combiner = Combiner.from_json(older)  # a combiner.json from before the unsure bars moved there
    assert (combiner.unsure_below, combiner.unsure_below_structured) == (0.5, 0.8)
    own = Combiner(decide, decide, 0.4, 0.5, 6, unsure_below=0.3, unsure_below_structured=0.7)
    written = json.loads(json.dumps(own.to_json()))
    assert (written["unsure_below"], written["unsure_below_structured"]) == (0.3, 0.7)
    assert Combiner.from_json(written) == own
    shipped = load_combiner(str(SHIPPED))
    assert (shipped.unsure_below, shipped.unsure_below_structured) == (0.5, 0.8)


@pytest.mark.skipif(not (SHIPPED / "model.onnx").exists(), reason="the shipped reader is not trained yet")
@pytest.mark.xfail(strict=True, reason="the reader of 2026-12-06 puts the fighting sentence first here (MODEL_CARD.md, Limits)")
def test_shipped_reader_ranks_the_answering_sentence_first() -> None:
    model = load_cross_encoder()
    title = "Azerbaijan Says 4 Soldiers Killed Amid Cease-Fire Violations in Nagorno-Karabakh"
    sentences = [
        "Azerbaijani defense officials say four soldiers have been killed since a cease-fire last month ended large-scale clashes.",
        "A day earlier, both Armenia and Azerbaijan traded accusations over heavy new fighting.",
        "The ministry did not give further details.",
    ]
    scores = model.score("How many soldiers have been killed?", [pair_text(title, s) for s in sentences])
    assert int(np.argmax(scores)) == 0




def test_rule_made_questions_ask_what_the_gold_sentence_does_not_say() -> None:
    from training.qadata import Paragraph, perturb

    gold = "In 1624 the highest point of the city, Todt Hill, was named by 30 Dutch traders."
    para = Paragraph("a", "New York", (gold, "The port opened in 1651 with 12 ships from Brooklyn."))
    question = "What did 30 traders name in 1624 at Todt Hill?"
    # each n tries another kind first (year, number, name), swapped for one the article says elsewhere
    assert perturb(question, para, 0, [para], [0], 0) == "What did 30 traders name in 1651 at Todt Hill?"
    assert perturb(question, para, 0, [para], [0], 1) == "What did 1651 traders name in 1624 at Todt Hill?"  # any number
    assert perturb(question, para, 0, [para], [0], 2) == "What did 30 traders name in 1624 at Brooklyn?"
    plain = Paragraph("a", "t", ("The train leaves at noon.",))
    # nothing to swap: a negation, for every other question
    assert perturb("When does the train leave?", plain, 0, [plain], [0], 0) == "When does not the train leave?"
    assert perturb("When does the train leave?", plain, 0, [plain], [0], 1) is None


def test_pairs_are_tokenised_once_with_their_answer_tokens() -> None:
    from training import reader as training
    from training.qadata import Pair

    tok = training.tokenizer(24)
    pairs = [Pair("Who ruled Normandy?", "Normans", "In 911 Rollo ruled Normandy for the king.", 1.0, (7, 12)),
             Pair("Who ruled Normandy?", "Normans", "The duchy grew.", 0.0, None),
             Pair("Who ruled it?", "Normans", "A very long sentence " * 10 + "names Rollo.", 1.0, (216, 221))]
    tokens = training.tokenise(tok, pairs)
    first = tok.encode(pairs[0].question, "Normans: " + pairs[0].sentence)
    assert tok.decode(first.ids[tokens[0].start : tokens[0].end + 1]) == "rollo"
    assert (tokens[1].start, tokens[1].end) == (0, 0)  # no answer: the first token
    assert (tokens[2].start, tokens[2].end) == (0, 0)  # the answer was cut off by truncation
    feed, starts, ends = training.collate(tokens)
    assert feed["input_ids"].shape == (3, max(len(t.ids) for t in tokens)) == feed["attention_mask"].shape
    assert feed["attention_mask"][1].sum() == len(tokens[1].ids) and starts.tolist()[1:] == [0, 0]
    assert feed["input_ids"][0, : len(first.ids)].tolist() == first.ids and ends[0] == tokens[0].end


def test_a_checkpoint_of_another_run_is_not_resumed(tmp_path: Path) -> None:
    import torch

    from training import reader as training
    from training.qadata import Pair

    pairs = [Pair("Who ruled Normandy?", "Normans", "Rollo ruled Normandy.", 1.0, (0, 5))] * 4
    torch.save({"run": {"pairs": 99}}, tmp_path / "checkpoint.pt")
    with pytest.raises(SystemExit, match="another run"):
        training.train(pairs, 1, 1, 24, work=tmp_path, log=False)


def test_the_span_margin_is_the_lowest_at_which_marks_stay_right_often_enough() -> None:
    from training.probe import lowest_bar

    marks = [(5.0, True), (3.0, True), (1.0, False), (0.0, True), (-1.0, True), (-2.0, False), (-3.0, False), (-4.0, False)]
    assert lowest_bar(marks, 0.8) == -1.0  # 4 of the 5 marks at -1 or above are right; going lower falls under 80%
    assert lowest_bar(marks, 1.0) == 3.0
    assert lowest_bar([(1.0, False)], 0.5) == float("inf")  # no margin is right often enough: mark nothing


def test_qatrain_shares_of_every_nth_question_split_it_without_overlap() -> None:
    from training import qadata

    root = SHARED / "eval" / "qatrain"
    name = "squadshifts/new_wiki_v1.0.json.gz"
    if not (root / name).exists():
        pytest.skip("needs ../shared/eval/qatrain (public data, not in a user's clone)")
    shares = [qadata.load(root, 2, (name,), qed=False, offset=k)[1] for k in range(2)]
    whole = qadata.load(root, 1, (name,), qed=False)[1]
    assert len(shares[0]) + len(shares[1]) == len(whole) and abs(len(shares[0]) - len(shares[1])) <= len(whole) // 50
    assert sorted(map(repr, shares[0] + shares[1])) == sorted(map(repr, whole))


def test_training_computes_in_bf16_only_where_the_cpu_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """bf16 autocast where torch emulates it (AVX2 alone) trained 20x slower than fp32: auto picks by the CPU's flags."""
    from training import precision as training

    monkeypatch.setattr(training, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512_bf16"}))
    assert training.chosen_precision("auto", "cpu") == "bf16"
    monkeypatch.setattr(training, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert training.chosen_precision("auto", "cpu") == "fp32"
    monkeypatch.setattr(training, "cpu_flags", lambda: None)  # flags that cannot be read: the safe side
    assert training.chosen_precision("auto", "cpu") == "fp32"
    assert training.chosen_precision("bf16", "cpu") == "bf16" and training.chosen_precision("fp32", "cpu") == "fp32"


def test_the_products_candidates_train_a_fold_only_on_its_own_articles() -> None:
    """A fold reader never sees a held-out article: neither its questions nor its sentences among another's candidates."""
    from training.candidates import Negative, negative_pairs

    negatives = [Negative("Normans", "Who ruled Normandy?", "Normans", "The Normans were Norse."),
                 Negative("Normans", "Who ruled Normandy?", "Oxygen", "Oxygen was found in 1774."),  # held out below
                 Negative("Normans", "Who ruled Normandy?", "Normans", "Normandy lies in France."),
                 Negative("Normans", "Who ruled Normandy?", "Normans", "Rollo had a son."),
                 Negative("Oxygen", "Who found oxygen?", "Normans", "The Normans were Norse.")]
    pairs = negative_pairs(negatives, {"Normans"}, 2)
    assert [(p.question, p.title, p.sentence, p.label) for p in pairs] == [
        ("Who ruled Normandy?", "Normans", "The Normans were Norse.", 0.0),
        ("Who ruled Normandy?", "Normans", "Normandy lies in France.", 0.0)]  # the best 2 of its own article's, no more
    assert negative_pairs(negatives, {"Normans"}, 0) == []
    assert len(negative_pairs(negatives, {"Normans", "Oxygen"}, 4)) == 5
