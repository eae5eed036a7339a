"""Answers in words from the user's own model, written only from the verified quotes and checked before shown.

Off unless ``Settings.llm.url`` names an OpenAI-compatible server (Ollama, llama.cpp's server, vLLM,
LM Studio). The model gets the question and the numbered quotes with their passages, and writes a short
answer that cites [n] after each sentence. Every sentence is checked (``check``): it must cite quotes that
exist, and every number, quoted string, code token and name in it must appear in the passages it cites
or in the question. A sentence that fails is dropped and the note says so; when none passes, the quotes
stand alone. A declined question never reaches the model: it must not answer from its own knowledge.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from bm25s.stopwords import STOPWORDS_EN_PLUS

from ..index.chunk import split_sentences
from ..settings import LlmSettings
from ..types import Answer, Citation, SentenceCheck, Span, Written

log = logging.getLogger(__name__)
INSTRUCTIONS = (
    "Answer the question using only the numbered quotes below. Write one to three short sentences. End every "
    "sentence with the number of the quote it comes from, like [1]. Copy numbers, names, commands and options "
    "exactly as the quotes write them. If the quotes do not answer the question, say only that they do not."
)
CITE = re.compile(r"\[(\d+)\]")
# A capitalised first word that is no name ("The", "They", "About", "Yes"): bm25s's English stop list and a few more.
COMMON_FIRST_WORDS = frozenset(STOPWORDS_EN_PLUS) | {"yes", "also", "however", "according", "overall", "both", "use", "run"}
NUMBER = re.compile(r"(?<![\w.])\d[\d,.]*\d(?![\w])|(?<![\w.,])\d(?![\w,.]\d)")
QUOTED = re.compile(r"[\"“]([^\"”]{2,})[\"”]")
NAMES = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")  # whole words: "EventEmitter", "TLS"
FIRST = re.compile(r"\s*([A-Z][\w'’-]*)")  # a sentence's capitalised first word
CODE = re.compile(r"`([^`]+)`|(?<![\w-])(--?[A-Za-z][\w-]*(?:=\S+)?)|(\b\w+(?:[./_]\w+)+\b)")


def write_answer(answer: Answer, llm: LlmSettings) -> Written:
    """The answer in words for an answered question, checked sentence by sentence against its quotes."""
    model = llm.model or "the configured model"
    try:
        reply = complete(prompt(answer.question, answer.citations), llm)
    except ModelServerError as error:
        log.warning("no written answer from %s: %s", llm.url, error)  # where the server is: for the operator's log only
        return Written("", model, (), f"No written answer: {error} The quotes below are the answer.")
    checks = tuple(check(sentence, answer.citations, answer.question) for sentence in sentences(reply))
    kept = [c.text for c in checks if c.supported]
    dropped = len(checks) - len(kept)
    if not kept:
        return Written("", model, checks, f"No written answer: {model} wrote nothing the quotes support. "
                                          "The quotes below are the answer.")
    note = f"{dropped} sentence{'s' if dropped != 1 else ''} the quotes do not support left out." if dropped else ""
    return Written(" ".join(kept), model, checks, note)


def prompt(question: str, citations: Sequence[Citation]) -> list[dict[str, str]]:
    """The chat messages: the instructions, then the question and each quote with its passage."""
    quotes = "\n\n".join(f"[{c.n}] {c.quote}\n(from {c.source}{', ' + c.section if c.section else ''}: "
                         f"{' '.join(c.passage.split()) or c.quote})" for c in citations)
    return [{"role": "system", "content": INSTRUCTIONS},
            {"role": "user", "content": f"Question: {question}\n\nQuotes:\n\n{quotes}"}]


def sentences(text: str) -> list[str]:
    """The reply's sentences (the index's own splitter), each with the [n] that follow its full stop."""
    text = " ".join(text.split())
    parts = [text[s.start : s.end] for s in split_sentences(text, Span(0, len(text)), lines=False)]
    joined: list[str] = []
    for part in parts:
        leading = re.match(r"(?:\s*\[\d+\])+", part)  # "… 2,000. [1] Next …": the [1] belongs to the sentence before
        if leading and joined:
            joined[-1] += " " + " ".join(leading.group(0).split())
            part = part[leading.end() :].strip()
        if part:
            joined.append(part)
    return joined


def check(sentence: str, citations: Sequence[Citation], question: str) -> SentenceCheck:
    """Whether ``sentence`` cites quotes that exist and says nothing their passages (or the question) do not."""
    cites = tuple(dict.fromkeys(int(n) for n in CITE.findall(sentence)))
    by_n = {c.n: c for c in citations}
    evidence = " ".join([question, *(f"{by_n[n].quote} {by_n[n].passage}" for n in cites if n in by_n)])
    missing = [f"[{n}]" for n in cites if n not in by_n]
    claims = facts(CITE.sub(" ", sentence))
    unsupported = tuple(missing + [claim for claim in claims if not said(claim, evidence)])
    return SentenceCheck(sentence, cites, unsupported, bool(cites) and not unsupported)


def facts(sentence: str) -> list[str]:
    """What a sentence claims that can be checked word for word: numbers, quoted text, code tokens, names."""
    found = [m.group(0) for m in NUMBER.finditer(sentence)]
    found += [m.group(1) for m in QUOTED.finditer(sentence)]
    found += [next(g for g in m.groups() if g) for m in CODE.finditer(sentence)]
    found += [m.group(0) for m in NAMES.finditer(sentence)]
    first = FIRST.match(sentence)  # NAMES skips a sentence's first word: a name unless it is a common word
    if first and first.group(1).lower() not in COMMON_FIRST_WORDS:
        found.append(first.group(1))
    return list(dict.fromkeys(f.strip() for f in found if f.strip()))


def said(claim: str, evidence: str) -> bool:
    """Whether ``claim`` appears in ``evidence`` as whole words (case and spacing aside; a number also without its
    commas): "12" is not said by "2012", nor "Rust" by "trust"."""
    flat, claim_flat = (" ".join(text.lower().replace("’", "'").split()) for text in (evidence, claim))
    if _whole(claim_flat, flat) or (claim_flat.endswith("'s") and _whole(claim_flat[:-2], flat)):  # "Russia's"
        return True
    digits = claim_flat.replace(",", "")
    return digits.replace(".", "").isdigit() and _whole(digits, flat.replace(",", ""))


def _whole(claim: str, text: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(claim)}(?![\w])", text) is not None


class ModelServerError(Exception):
    """The model server could not be reached, refused, or took too long (the message says which, in one line; not
    where the server is: readers of a shared app see it)."""


def complete(messages: list[dict[str, str]], llm: LlmSettings) -> str:
    """The model's reply to ``messages`` from the OpenAI-compatible server at ``llm.url``."""
    import httpx

    headers = {"Authorization": f"Bearer {llm.api_key}"} if llm.api_key else {}
    body: dict[str, Any] = {"model": llm.model, "messages": messages, "temperature": 0, "max_tokens": llm.max_tokens}
    url = llm.url.rstrip("/") + "/chat/completions"
    try:
        response = httpx.post(url, json=body, headers=headers, timeout=llm.timeout)
    except httpx.TimeoutException:
        raise ModelServerError(f"the model server did not answer within {llm.timeout:g} s.") from None
    except httpx.HTTPError as error:
        raise ModelServerError(f"the model server cannot be reached ({type(error).__name__}).") from None
    if response.status_code != 200:
        raise ModelServerError(f"the model server answered HTTP {response.status_code}.")
    try:
        return str(response.json()["choices"][0]["message"]["content"] or "")
    except (ValueError, KeyError, IndexError, TypeError):
        raise ModelServerError("the model server sent a reply that is not a chat completion.") from None
