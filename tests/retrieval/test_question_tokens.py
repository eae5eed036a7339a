"""A question is split into words once, when it is read (``Question``'s tokens): the lexical search and the word
weights take its tokens instead of tokenising its text again, and the split gives exactly bm25s's tokens."""

from __future__ import annotations

import random
from typing import Any

import bm25s
import pytest

from qa.index import lexical
from qa.index.lexical import _stemmer, split, stems, tokenize

BOTH_STORES = True  # the PostgreSQL lexical search takes the tokens too

TEXTS = [
    "",
    "   ",
    "How many Russian peacekeepers were deployed?",
    "What did Armenia's Defense Ministry say about Azerbaijan's losses?",
    "Who won the 2018 football World Cup?",
    "What does the --max-columns flag do when --encoding is set to auto?",
    "CamelCaseOptions, HTTPServer and parseJSONResponse() in x86_64 builds",
    "__init__.py defines __all__; see os.path.join(a, b) and foo_bar-baz",
    "don't won't can't O'Brien l'homme rock'n'roll it’s “quoted” ‘single’",
    "2,783 soldiers; 1.5 km; 3rd of 10; 2020-11-10; v0.1.12; 0x1F; ½ ² ٣٤ \uff11\uff12",
    "Éric's café à Zürich: naïve coöperation, ÉCOLE, Straße, STRASSE, ﬁnance",
    "ΟΔΟΣ ΣΑΣ Ποιος; Σίσυφος ΣΊΣΥΦΟΣ \u03c3",
    "İstanbul IĞDIR \u0131i Iİ",
    "Москва и Санкт-Петербург — города",
    "日本語のテキスト 中文 한국어 문장",
    "हिन्दी पाठ; العربية نص",
    "emoji 🙂 here 👍🏽 and ZWJ 👩‍💻 text",
    "tabs\tand\nnewlines\r\nand\u00a0non-breaking\u2009spaces",
    "a b c d e I x y z",
    "the of and what why who which when where how is are was",
    "What? Why? Who? Which one? When and where, and how?",
    "running runs ran runner easily fairly generously generations",
    "Nagorno-Karabakh cease-fire Russian-brokered Hadrut district",
    "https://example.com/path?query=1&b=two#frag user@example.com",
    "C++ C# F# .NET Node.js opt-level=3 [profile.release] `cargo build --release`",
    "AND ARMENIA? and armenia? And Armenia?",
    "e.g. i.e. etc. Mr. Dr. U.S.A. U.K.",
    "ﬀ ﬃ Ǆ ǅ ǆ ẞ ß Å Å",
    "combining: e\u0301 n\u0303 a\u0308 versus é ñ ä",
    "long " + "word" * 50 + " and a name McDonald's MacArthur",
]


def _random_texts(n: int) -> list[str]:
    """Strings of letters from several scripts, digits, marks, apostrophes, dashes and spaces."""
    alphabet = "aAbBzZ09_ '’-.,?!ΣσςΟİıßẞéÉ\u0301日本Жж٣\t\n🙂"
    rng = random.Random(20241213)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))) for _ in range(n)]


@pytest.mark.parametrize("stopwords", ["en", "en_plus"])
def test_the_split_gives_bm25s_tokens_exactly(stopwords: str) -> None:
    texts = TEXTS + _random_texts(200)
    for text in texts:  # one at a time, as the question was tokenised
        expected = bm25s.tokenize([text], stopwords=stopwords, stemmer=_stemmer(), return_ids=False, show_progress=False)[0]
        assert stems(split(text), stopwords) == expected, text
    batch = bm25s.tokenize(texts, stopwords=stopwords, stemmer=_stemmer(), return_ids=False, show_progress=False)
    assert [stems(split(text), stopwords) for text in texts] == batch
    assert tokenize(texts, stopwords) == batch  # what the answer's scoring and the word weights tokenise with


QUESTIONS = [
    ("How many Russian peacekeepers were deployed?", None),
    ("What did Armenia's Defense Ministry say about the deaths?", None),
    ("Did they blame anyone?", [["Who fought in Nagorno-Karabakh?", "Armenia and Azerbaijan."]]),
    ("And Armenia?", [["How many soldiers did Azerbaijan lose?", "2,783."]]),
]


@pytest.mark.parametrize(("question", "history"), QUESTIONS)
def test_a_question_is_tokenised_only_when_read(fake_index, monkeypatch: pytest.MonkeyPatch, question: str,
                                                history: list[list[str]] | None) -> None:
    """Answering and retrieving never pass the question's text to bm25s: its tokens were split once, when it was read."""
    tokenised: list[list[str]] = []
    real_bm25s, real_split = bm25s.tokenize, lexical.split

    def counting(texts: str | list[str], *args: Any, **kwargs: Any) -> Any:
        tokenised.append([texts] if isinstance(texts, str) else list(texts))
        return real_bm25s(texts, *args, **kwargs)

    def counting_split(text: str) -> list[str]:  # what ``tokenize`` splits (a question's own split is imported apart)
        tokenised.append([text])
        return real_split(text)

    monkeypatch.setattr(bm25s, "tokenize", counting)
    monkeypatch.setattr(lexical, "split", counting_split)
    asked = fake_index.retriever.read(question, history, 2000)
    fake_index.answer(question, history)
    fake_index.retrieve(question, k=3)
    fake_index.retrieve(question, k=3, mode="lexical")
    assert tokenised  # the candidate sentences are tokenised as they are scored, not the question
    of_question = [texts for texts in tokenised if any(said in text for text in texts for said in (asked.text, asked.words))]
    assert of_question == []
    assert asked.query_tokens == bm25s.tokenize([asked.query], stopwords="en", stemmer=_stemmer(), return_ids=False,
                                                show_progress=False)[0]
    assert asked.query_tokens and asked.word_tokens  # what the lexical search and the word weights read
