"""Answers in words from the user's own model, written only from the verified quotes and checked before shown.

Off unless ``Settings.llm.url`` names an OpenAI-compatible server (Ollama, llama.cpp's server, vLLM,
LM Studio). The model gets the question and the numbered quotes with their passages, and writes a short
answer that cites [n] after each sentence. Every sentence is checked (``check``): it must cite quotes that
exist, and every number, quoted string, code token and name in it must appear in the passages it cites
or in the question. A sentence that fails is dropped and the note says so; when none passes, the quotes
stand alone. A declined question never reaches the model: it must not answer from its own knowledge.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from bm25s.stopwords import STOPWORDS_EN_PLUS

from ..index.chunk import split_sentences
from ..settings import LlmSettings
from ..types import Answer, Citation, SentenceCheck, Span, Written

log = logging.getLogger(__name__)
INSTRUCTIONS = (
    "Answer the question using only the numbered quotes below, in one short sentence (two or three only if the "
    "question needs them). End every "
    "sentence with the number of the quote it comes from, like [1]. Copy numbers, names, commands and options "
    "exactly as the quotes write them. If the quotes do not answer the question, say only that they do not."
)
# Said last again: small models follow the end of the prompt best (SmolLM2-135M: 7 of 50 answers passed the check
# with it, 4 without; bench/results/RESULTS.md, "written").
REMINDER = "Answer in one sentence that ends with the number of its quote, like [1]."
# A small local model (SmolLM2-135M) cites [n] at all only after seeing it done once.
EXAMPLE = [{"role": "user", "content": "Question: How many ships did the fleet have?\n\nQuotes:\n\n[1] The fleet had 12 "
                                      "ships.\n(from fleet.txt: In 1805 the fleet had 12 ships. The harbour was closed.)"
                                      f"\n\n{REMINDER}"},
           {"role": "assistant", "content": "The fleet had 12 ships [1]."}]
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
    return deque(writing(answer, llm), maxlen=1)[0]  # the finished one


def writing(answer: Answer, llm: LlmSettings) -> Iterator[Written]:
    """The answer in words as the model writes it: one ``Written`` (``finished=False``) each time a sentence is
    complete and checked, then the finished one. Closing the iterator early stops the model server's work too."""
    model = llm.model or "the configured model"
    checks: list[SentenceCheck] = []
    pending = ""  # text of the sentence the model is still writing
    try:
        for piece in stream(prompt(answer.question, answer.citations), llm):
            done, pending = complete_sentences(pending + piece)
            checks += [check(sentence, answer.citations, answer.question) for sentence in done]
            if done:
                yield Written(" ".join(c.text for c in checks if c.supported), model, tuple(checks), finished=False)
    except ModelServerError as error:
        log.warning("no written answer from %s: %s", llm.url, error)  # where the server is: for the operator's log only
        yield finish(model, checks, f"{error} The quotes below are the answer."
                     if not any(c.supported for c in checks) else f"{error} The rest was not written.")
        return
    checks += [check(sentence, answer.citations, answer.question) for sentence in sentences(pending)]
    yield finish(model, checks)


def finish(model: str, checks: list[SentenceCheck], trouble: str = "") -> Written:
    """The finished answer: the sentences that passed, and a note saying what was left out and why."""
    kept = [c.text for c in checks if c.supported]
    dropped = len(checks) - len(kept)
    if not kept:
        why = trouble or f"{model} wrote nothing the quotes support. The quotes below are the answer."
        return Written("", model, tuple(checks), f"No written answer: {why}")
    notes = [f"{dropped} sentence{'s' if dropped != 1 else ''} the quotes do not support left out."] if dropped else []
    return Written(" ".join(kept), model, tuple(checks), " ".join([*notes, *([trouble] if trouble else [])]))


def complete_sentences(text: str) -> tuple[list[str], str]:
    """The sentences of streamed ``text`` that are complete (another one has begun after them), and the rest."""
    parts = sentences(text)
    held = 2 if len(parts) > 1 and parts[-1].startswith("[") else 1  # "… 2,000. [1": its citation is not finished
    if len(parts) <= held:
        return [], text
    return parts[:-held], " ".join(parts[-held:]) + (" " if text[-1:].isspace() else "")


def prompt(question: str, citations: Sequence[Citation]) -> list[dict[str, str]]:
    """The chat messages: the instructions, one worked example, then the question and each quote with its passage."""
    return [{"role": "system", "content": INSTRUCTIONS}, *EXAMPLE, {"role": "user", "content": asking(question, citations)}]


def asking(question: str, citations: Sequence[Citation]) -> str:
    quotes = "\n\n".join(f"[{c.n}] {c.quote}\n(from {c.source}{', ' + c.section if c.section else ''}: "
                         f"{' '.join(c.passage.split()) or c.quote})" for c in citations)
    return f"Question: {question}\n\nQuotes:\n\n{quotes}\n\n{REMINDER}"


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


def stream(messages: list[dict[str, str]], llm: LlmSettings) -> Iterator[str]:
    """The model's reply to ``messages`` from the OpenAI-compatible server at ``llm.url``, piece by piece as it is
    written (server-sent events; a server that sends the whole reply at once is read as one piece)."""
    import httpx

    headers = {"Authorization": f"Bearer {llm.api_key}"} if llm.api_key else {}
    body: dict[str, Any] = {"model": llm.model, "messages": messages, "temperature": 0, "max_tokens": llm.max_tokens,
                            "stream": True}
    deadline = time.monotonic() + llm.timeout
    try:
        with httpx.stream("POST", llm.url.rstrip("/") + "/chat/completions", json=body, headers=headers,
                          timeout=llm.timeout) as response:
            if response.status_code != 200:
                raise ModelServerError(f"the model server answered HTTP {response.status_code}.")
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                yield _text(_choice(json.loads(response.read())), "message")
                return
            finished = False  # a reply that ends without [DONE] or a finish_reason was cut short
            for line in response.iter_lines():
                if time.monotonic() > deadline:
                    raise ModelServerError(f"the model server did not finish within {llm.timeout:g} s.")
                data = line[5:].strip() if line.startswith("data:") and not finished else None
                if data == "[DONE]":
                    finished = True
                elif data is not None:
                    choice = _choice(json.loads(data))
                    yield _text(choice, "delta")
                    finished = bool(choice.get("finish_reason"))
            if not finished:
                raise httpx.RemoteProtocolError("no end of stream")
    except httpx.TimeoutException:
        raise ModelServerError(f"the model server did not answer within {llm.timeout:g} s.") from None
    except (httpx.RemoteProtocolError, httpx.ReadError):
        raise ModelServerError("the model server stopped before the answer was finished.") from None
    except httpx.HTTPError as error:
        raise ModelServerError(f"the model server cannot be reached ({type(error).__name__}).") from None
    except ValueError:
        raise ModelServerError("the model server sent a reply that is not a chat completion.") from None


def _choice(reply: Any) -> dict[str, Any]:
    """The first choice of a chat completion or of a stream's event ({} when it has none)."""
    choices = (reply.get("choices") or []) if isinstance(reply, dict) else None
    choice = (choices or [{}])[0] if isinstance(choices, list) else None
    if not isinstance(choice, dict):
        raise ValueError("not a chat completion")
    return choice


def _text(choice: dict[str, Any], key: str) -> str:
    """A choice's text: its "message" (a whole reply) or its "delta" (a stream's piece)."""
    if choice and not isinstance(choice.get(key), dict):
        raise ValueError("not a chat completion")
    return str(choice[key].get("content") or "") if choice else ""
