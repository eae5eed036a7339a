"""Where a quote holds what the question asks for (a number, date, person or place): pure logic."""

from __future__ import annotations

import re

from ..retrieval.follow_ups import NAME, question_kinds

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
NUMBER = re.compile(
    r"\b\d[\d,.]*\b"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion)\b",
    re.I,
)
DATE = re.compile(rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b(?:{_MONTHS})\b|\bcentury\b", re.I)


def holds(kind: str, sentence: str, question: str = "") -> bool:
    """Whether the sentence names a thing of this kind that the question does not already name."""
    pattern = NUMBER if kind == "number" else DATE if kind == "date" else NAME  # person, place: a name
    asked = question.lower()
    return any(match.group(0).lower() not in asked for match in pattern.finditer(sentence))


def answer_span(question: str, quote: str) -> tuple[int, int] | None:
    """Offsets in ``quote`` of the number or date the question asks for, when exactly one new one is there."""
    kinds = question_kinds(question)
    pattern = DATE if "date" in kinds else NUMBER if "number" in kinds else None
    if pattern is None:
        return None
    asked = {m.group(0).lower() for m in pattern.finditer(question)}
    found = [m for m in pattern.finditer(quote) if m.group(0).lower() not in asked]
    if len(found) != 1:
        return None
    match = found[0]
    end = match.end()
    while end > match.start() and quote[end - 1] in ".,":
        end -= 1
    return match.start(), end
