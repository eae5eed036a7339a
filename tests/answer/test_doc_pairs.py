"""Documentation pairs for the reader (training/docpairs.py): the rules' questions and their labels, on a README made
here, indexed with the fake embedder."""

from __future__ import annotations

import random
from pathlib import Path

from qa import Index

from helpers import FakeEmbedder

README = """# fastgrep

## Install

To install the command line tool, run:

```
pip install fastgrep
```

## Options

- `--max-depth`: stop descending into folders below the given depth.

The default is `30` for `--line-width`, after which long lines are cut.
"""


def test_the_rules_ask_what_the_readme_says_and_name_what_answers(tmp_path: Path) -> None:
    from training.docpairs import mine, questions, unanswerable, unit_of

    (tmp_path / "fastgrep-README.md").write_text(README, encoding="utf-8")
    index = Index.build([tmp_path / "fastgrep-README.md"], tmp_path / "index", embedder=FakeEmbedder())
    asked = {a.question: a for a in questions(index.corpus)}
    assert set(asked) == {"How do I install the command line tool?", "What does --max-depth do?",
                          "What is the default value of --line-width?"}
    install = asked["How do I install the command line tool?"]
    assert "pip install fastgrep" in unit_of(index.corpus, install.sentence)  # read with the code block it introduces
    assert asked["What is the default value of --line-width?"].span == "30"
    made_up = unanswerable(list(asked.values()), [README], random.Random(0))
    assert made_up and all(a.sentence == -1 and a.key not in README for a in made_up)
    assert mine("install your package yourself") == "install my package myself"


def test_a_question_keeps_its_positives_and_few_negatives() -> None:
    from training.docpairs import NEGATIVES, balanced
    from training.qadata import Pair

    pairs = [Pair("q", "t", f"sentence {n}", float(n == 3), None) for n in range(6)]
    kept = balanced(pairs, answerable=True)
    assert [p.sentence for p in kept] == ["sentence 3", *(f"sentence {n}" for n in range(NEGATIVES))]
    assert [p.label for p in balanced([p for p in pairs if not p.label], answerable=False)] == [0.0]
