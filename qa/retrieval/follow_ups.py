"""What a question means before it is searched: what it asks for, and whether it borrows from the previous turn.

Pure logic on the question's words. ``questions.read_question`` calls these once per question; answering
reads the result (``Question``) instead of working it out again.
"""

from __future__ import annotations

import re

from ..index.lexical import split, stems

NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")  # capitalised words, not a sentence's first
_KINDS = {
    "number": re.compile(r"\bhow (?:many|much|long|far|old|large|big|high|tall)\b"
                         r"|\b(?:number|total|toll|percentage|percent|amount|count|population|size)\b", re.I),
    "date": re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|decade|century|time)\b|\bin which year\b", re.I),
    "person": re.compile(r"\bwho(?:m|se)?\b", re.I),
    "place": re.compile(r"\bwhere\b|\bwhat (?:country|city|state|region|place|town|location)\b", re.I),
}
_PRONOUN = r"(?:it|its|they|them|their|theirs|he|him|his|she|her|hers|that|those|these|this|there|the same)"
_BORROWS = re.compile(rf"\b{_PRONOUN}\b", re.I)
# The subject of a question sits right after its first auxiliary ("When did Azerbaijan start its offensive?"); a
# pronoun there ("Did they blame anyone?", "What is its capital?") is a subject the question does not name.
_SUBJECT = re.compile(r"\b(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|might|must)\s+"
                      r"((?:the same)|[\w'-]+)", re.I)


def question_kinds(question: str) -> set[str]:
    """What the question asks for: any of number, date, person, place."""
    return {kind for kind, pattern in _KINDS.items() if pattern.search(question)}


def is_follow_up(question: str) -> bool:
    """A question that cannot be understood alone ("And Armenia?", "Did they blame anyone?", "On what date?"). One that
    names its own subject is a new question whatever pronouns it holds ("When did Azerbaijan start its offensive?",
    "How is ripgrep licensed and what are its terms?"), so the previous turn never takes it over."""
    if _LEAD.match(question) or len(stems(split(question))) <= 2:
        return True
    pronoun = _BORROWS.search(question)
    if pronoun is None:
        return False
    subject = _SUBJECT.search(question)
    if subject is not None:  # "there" after "is"/"are" is no one's subject ("Is there a way to ...?")
        return bool(re.fullmatch(_PRONOUN, subject.group(1), re.I)) and subject.group(1).lower() != "there"
    return not any(name.start() < pronoun.start() for name in NAME.finditer(question))  # "Who brokered it?"


_LEAD = re.compile(r"^\s*(?:and|but|also|or|so|what about|how about|what of)\b[\s,]*", re.I)
_PREPOSITION = re.compile(r"^(?:on|in|for|about|of|at|from|with|to)\s+", re.I)
_OWN_QUESTION = re.compile(r"^(?:how|what|who|whom|whose|when|where|which|why|is|are|was|were|do|does|did|can|could|has|have|had)\b", re.I)


def follow_up_question(previous: str, question: str) -> str | None:
    """A follow-up that names a new thing ("And Armenia?", "And on the Armenian side?") asked as the previous
    question about it ("How many soldiers has Armenia lost?"), so that the previous question's subject no longer
    pulls its old answer. None when the follow-up is a question of its own or names nothing (it is then asked as
    it is, beside the previous question)."""
    rest = _LEAD.sub("", question).strip().rstrip("?.!").strip()
    bare = rest == question.strip().rstrip("?.!").strip()  # no "and", "what about"...: only a short one counts
    if not rest or _OWN_QUESTION.match(rest) or (bare and len(stems(split(rest))) > 2):
        return None
    names, new = list(NAME.finditer(previous)), list(NAME.finditer(" " + rest))
    if not names or not new:
        return None
    replacement = _PREPOSITION.sub("", rest)
    head = new[-1].group(0).split()[-1]  # "Defense Ministry" takes the place of "Foreign Ministry", else of the last name
    old = next((m for m in reversed(names) if m.group(0).split()[-1] == head), names[-1])
    before = previous[: old.start()]
    first = replacement.split()[0]
    if re.search(rf"(?:^|\s){re.escape(first)}\s+$", before, re.I):  # "the", "Armenia's" said once, not twice
        before = before[: before.lower().rindex(first.lower())]
    return before + replacement + previous[old.end():]
