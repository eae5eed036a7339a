"""What a question asks for (a number, date, person or place), and where a quote holds it (pure logic)."""

from __future__ import annotations

import re

from .lexical import tokenize

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
NUMBER = re.compile(r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion)\b", re.I)
DATE = re.compile(rf"\b(?:1[0-9]{{3}}|20[0-9]{{2}})s?\b|\b(?:{_MONTHS})\b|\bcentury\b", re.I)
NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")  # capitalised words, not a sentence's first
_KINDS = {
    "number": re.compile(r"\bhow (?:many|much|long|far|old|large|big|high|tall)\b|\b(?:number|total|toll|percentage|percent|amount|count|population|size)\b", re.I),
    "date": re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|decade|century|time)\b|\bin which year\b", re.I),
    "person": re.compile(r"\bwho(?:m|se)?\b", re.I),
    "place": re.compile(r"\bwhere\b|\bwhat (?:country|city|state|region|place|town|location)\b", re.I),
}
_FOLLOW_UP = re.compile(r"^(?:and|but|also|or|what about|how about|what of|so)\b|\b(?:it|its|they|them|their|he|she|his|her|that|those|these|this|there|the same)\b", re.I)


def question_kinds(question: str) -> set[str]:
    """What the question asks for: any of number, date, person, place."""
    return {kind for kind, pattern in _KINDS.items() if pattern.search(question)}


def holds(kind: str, sentence: str, question: str = "") -> bool:
    """Whether the sentence names a thing of this kind that the question does not already name."""
    pattern = NUMBER if kind == "number" else DATE if kind == "date" else NAME  # person, place: a name
    asked = question.lower()
    return any(match.group(0).lower() not in asked for match in pattern.finditer(sentence))


def is_follow_up(question: str) -> bool:
    """A question that leans on the previous one ("And Armenia?", "How many of them?")."""
    return bool(_FOLLOW_UP.search(question)) or len(tokenize([question])[0]) <= 2


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
