"""What a caller asks, checked and understood once: the question, the conversation before it, and ``k``.

``read_question`` builds the ``Question`` every later stage reads: its text checked and cut to its limit,
the conversation checked, whether it borrows from the previous turn (and how it is rewritten then), what it
asks for, its words as the lexical search and the word weights read them, each text split once, and its
vectors, each embedded once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError, QuestionError, shown
from ..index.lexical import split, stems
from .follow_ups import NAME, follow_up_question, is_follow_up, question_kinds

HISTORY_HELP = (
    "The conversation (history) must be a list of [question, answer] pairs of text, such as "
    '[["Who brokered the cease-fire?", "Russia."]], or empty; got {}.'
)


@dataclass(frozen=True, eq=False)
class Question:
    """A question as understood before retrieval; retrieval and answering read it, none works it out again."""

    text: str  # as asked: whitespace collapsed, cut to the limit
    truncated: bool  # True when it was cut
    context: str  # the previous question when this one cannot be understood alone ("Did they blame anyone?"), else ""
    words: str  # what it asks: a follow-up that names a new thing rewritten as the previous question, else the text
    query: str  # what is searched: the context and the words
    kinds: frozenset[str]  # what the answer names: any of number, date, person, place (of the query)
    query_tokens: list[str]  # the query's stemmed words less bm25s's "en" stop words: what the lexical search looks up
    context_tokens: list[str]  # the context's less the "en_plus" stop words (question words too): what answer.weights.weigh weighs
    word_tokens: list[str]  # the same of the words
    name_tokens: list[str]  # the same of the names in the words (capitalised words after the first)
    vector: np.ndarray | None  # the query's vector (None when not embedded: a lexical search)
    focus: np.ndarray | None  # what sentences are compared with: the query's vector, a follow-up's own words added


def read_question(text: object, history: object, max_chars: int, embed: Callable[[str], np.ndarray] | None) -> Question:
    """The question checked and understood; ``embed`` (None: no vectors) is called once per text it embeds."""
    asked, truncated = check_question(text, max_chars)
    turns = check_history(history, max_chars)
    context = turns[-1][0] if turns and is_follow_up(asked) else ""
    rewritten = follow_up_question(context, asked) if context else None
    if rewritten:  # "And Armenia?" is asked as the previous question about Armenia, not beside it
        context, words = "", rewritten
    else:
        words = asked
    query = f"{context} {words}".strip()
    vector = embed(query) if embed is not None else None
    focus = vector
    if vector is not None and embed is not None and context:  # a follow-up: its own words matter more than the conversation's
        focus = vector + embed(asked)
        focus = focus / max(float(np.linalg.norm(focus)), 1e-9)
    names = " ".join(m.group(0) for m in NAME.finditer(words))
    context_words, own_words = split(context), split(words)  # the query is the two joined by a space: split once
    return Question(asked, truncated, context, words, query, frozenset(question_kinds(query)),
                    stems(context_words + own_words), stems(context_words, "en_plus"), stems(own_words, "en_plus"),
                    stems(split(names), "en_plus"), vector, focus)


def check_question(question: object, max_chars: int) -> tuple[str, bool]:
    """The question stripped and cut to ``max_chars``; True when it was cut."""
    if question is None or (isinstance(question, str) and not question.strip()):
        raise QuestionError("The question is empty. Type a question about your sources.")
    if not isinstance(question, str):
        raise QuestionError(f"The question must be text (a str), not {type(question).__name__}. Pass it as a string.")
    return clip(question, max_chars, "The question")


def clip(text: str, max_chars: int, what: str) -> tuple[str, bool]:
    """``text`` with its whitespace collapsed, cut at a word boundary to ``max_chars``; True when it was cut."""
    text = " ".join(text.split())
    cut = len(text) > max_chars
    if cut:
        text = text[:max_chars].rsplit(" ", 1)[0] or text[:max_chars]
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:  # lone surrogates: bytes that were not UTF-8 (argv, a bad client)
            raise QuestionError(
                f"{what} holds characters that are not valid text (undecodable bytes at position {error.start}). "
                "Type it again as plain UTF-8 text."
            ) from error
    return text, cut


def check_k(k: object) -> int:
    """``k`` as a whole number of at least 1."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ArgumentError(f"k must be a whole number of at least 1, such as k=5; got {shown(k)}.")
    return int(k)


def check_history(history: object, max_chars: int) -> list[tuple[str, str]]:
    """The earlier (question, answer) pairs, checked; each earlier question cut like the question."""
    if history is None:
        return []
    if isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Sequence):
        raise QuestionError(HISTORY_HELP.format(shown(history)))
    pairs = []
    for n, turn in enumerate(history, start=1):
        if isinstance(turn, (str, bytes)) or not isinstance(turn, Sequence) or len(turn) != 2 \
                or not all(isinstance(text, str) for text in turn):
            raise QuestionError(HISTORY_HELP.format(f"turn {n} is {shown(turn)}"))
        earlier, _ = clip(turn[0], max_chars, f"Question {n} of the conversation")
        reply, _ = clip(turn[1], max_chars, f"Answer {n} of the conversation")
        pairs.append((earlier, reply))
    return pairs
