"""Checking what a caller asks: the question (text, not empty, valid UTF-8, cut to a limit) and ``k``."""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, QuestionError, shown


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
