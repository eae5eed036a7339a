"""The Gradio page: chat, sources panel, library (uploads and removal), and the `ask` / `retrieve` API.

Only ``app.py`` imports this module (it imports gradio). Every handler turns a ``QAError``
into a message on the page and logs anything unexpected: the page never shows a traceback.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from .. import Answer, QAError
from ..errors import QuestionError
from .access import Access
from .endpoints import FAILED, api
from .librarytab import library_tab
from .render import (
    answer_html,
    citation_label,
    empty_sources_html,
    notice_html,
    passage_html,
    pending_html,
    question_html,
    stopped_html,
)
from .service import Service

log = logging.getLogger("qa.app")

EMPTY_PROMPT = "Type a question about your sources, for example: “{}”"
GENERIC_EXAMPLE = "What does the introduction say?"  # for the empty-question prompt when no seed has examples
# After an answer: the question box has the focus again; a [n] clicked on a narrow screen scrolls to its passage.
FOCUS_JS = "() => { document.querySelector('#question textarea')?.focus(); }"
SHOW_PASSAGE_JS = """() => {
  const panel = document.querySelector('#passage');
  if (window.qaCited && panel && panel.getBoundingClientRect().top > window.innerHeight) panel.scrollIntoView({behavior: 'smooth'});
}"""
# Remembers which [n] of a chat message was clicked, for the chat's select event (runs first: capture phase).
# A Copy button (render.answer_html) copies its value, the answer as plain text, and is not a click on the answer.
# Gradio's chatbot sanitizer drops aria-* attributes, so the chat's answers and [n] buttons are named again here.
CITE_CLICK_JS = """<script>
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const copy = target && target.closest(".qa-copy");
  if (copy) {
    event.stopPropagation();
    qaCopy(copy);
    return;
  }
  const cite = target && target.closest(".qa-cite");
  window.qaCited = cite ? Number(cite.textContent.replace(/\\D/g, "")) : null;
}, true);
function qaCopy(button) {
  const done = () => { button.textContent = "Copied"; setTimeout(() => { button.textContent = "Copy"; }, 1500); };
  const fallback = () => {  // the clipboard API is refused on plain http and in some headless browsers
    const area = document.createElement("textarea");
    area.value = button.value;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    button.focus();
    if (copied) done();
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(button.value).then(done, fallback);
  else fallback();
}
new MutationObserver(() => {
  const name = (selector, label) => document.querySelectorAll(`#chat ${selector}:not([aria-label])`)
    .forEach((el) => el.setAttribute("aria-label", label(el)));
  name(".qa-cite", (el) => el.title);
  name(".qa-answer", () => "Answer");
  name(".qa-abstain", (el) => el.querySelector(".qa-abstain-title")?.textContent || "Not found in the sources");
}).observe(document.documentElement, {childList: true, subtree: true});
</script>"""

PAGE_TURNS = 30  # answers the page keeps on screen and in its state (guard.MAX_BODY bounds what it may send)
Turn = dict[str, Any]  # one assistant message: question, answer text (for follow-ups), citation labels and panels


class Page(gr.Blocks):
    """The page's Blocks: a request with too few values gets a message saying so, not Gradio's empty error."""

    def validate_inputs(self, block_fn: Any, inputs: list[Any]) -> None:
        try:
            super().validate_inputs(block_fn, inputs)
        except ValueError as error:
            try:
                names = " (" + ", ".join(inspect.signature(block_fn.fn).parameters) + ")"
            except (TypeError, ValueError):
                names = ""
            raise gr.Error(f"This endpoint takes {len(block_fn.inputs)} values{names}; the request had {len(inputs)}.") from error

    async def preprocess_data(self, block_fn: Any, inputs: list[Any], state: Any, explicit_call: bool = False) -> Any:
        """Gradio's reading of the values; one it refuses (a file the client did not upload, sent as the question)
        gets a message saying so instead of an empty error."""
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error:
            raise
        except Exception as error:
            log.info("refused a request's values: %s", error)
            raise gr.Error("The request's values could not be read: send the question as text, the conversation as "
                           "[question, answer] pairs of text.") from error


def build_app(service: Service, access: Access | None = None) -> gr.Blocks:
    """The page and the API; ``access`` says who may change the library and how often anyone may ask."""
    access = access or Access()

    def asked(question: str, chat: list[dict], turns: list[Turn], request: gr.Request) -> Iterator[tuple]:
        yield from ask_turn(service, question, chat, turns, lambda: access.ask(request))

    def asked_example(sample: list[str], chat: list[dict], turns: list[Turn], request: gr.Request) -> Iterator[tuple]:
        yield from ask_turn(service, sample[0], chat, turns, lambda: access.ask(request))

    # delete_cache: upload temp files a client left behind are gone within 11 minutes
    with Page(title="qa: ask your documents", analytics_enabled=False, delete_cache=(60, 600)) as demo:
        turns = gr.State([])  # one Turn per assistant message, in order
        saved = gr.BrowserState({}, storage_key="qa-conversation")  # the chat and its turns, kept over a reload
        shown = gr.State({})  # the Turn whose sources are on screen
        gr.Markdown("## Ask your documents\nAnswers are verbatim quotes from your sources, numbered; "
                    "choose a number to read the passage around it under *Sources of this answer*.")
        with gr.Row(equal_height=False, elem_id="page-row"):
            with gr.Column(scale=3, min_width=300):
                chat = gr.Chatbot(label="Chat", show_label=False, height=520, latex_delimiters=[], elem_id="chat",
                                  feedback_options=None, buttons=[], group_consecutive_messages=False)
                with gr.Row(elem_id="ask-row"):
                    box = gr.Textbox(placeholder="Ask a question about your sources…", show_label=False,
                                     scale=5, autofocus=True, elem_id="question")
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                    stop = gr.Button("Stop", variant="stop", scale=1, min_width=80, visible=False, elem_id="stop")
                samples = [[q] for q in service.library.examples()]
                examples = gr.Dataset(components=[box], samples=samples or [[""]], visible=bool(samples),
                                      label="Example questions (click to ask)", elem_id="examples")
                clear = gr.Button("New conversation", size="sm")
            with gr.Column(scale=2, min_width=300):
                with gr.Tab("Sources of this answer"):
                    chooser = gr.Radio([], label="Citation", visible=False, elem_id="citations")
                    panel = gr.HTML(empty_sources_html(), elem_id="passage")
                with gr.Tab("Library") as library:
                    tab = library_tab(service, examples, access)

        # An answer in two steps of one event: the question shows at once with a placeholder and Ask is disabled,
        # then the answer replaces the placeholder. While it is pending, the same trigger is ignored ("once").
        ask_inputs = [box, chat, turns]
        ask_outputs = [box, chat, turns, shown, chooser, panel, send, stop]
        answered: list[Any] = [event(asked, ask_inputs, ask_outputs, api_visibility="private", concurrency_id="answer",
                          show_progress="hidden", trigger_mode="once") for event in (send.click, box.submit)]
        answered.append(examples.click(asked_example, [examples, chat, turns], ask_outputs, api_visibility="private",
                                       concurrency_id="answer", show_progress="hidden", trigger_mode="once"))
        for done in answered:
            done.then(None, js=FOCUS_JS)
            done.then(keep, [chat, turns], saved, api_visibility="private", queue=False)
        stop.click(stop_writing, chat, [chat, send, stop], cancels=answered, api_visibility="private", queue=False).then(
            keep, [chat, turns], saved, api_visibility="private", queue=False)
        chooser.input(show_citation, [chooser, shown], panel, api_visibility="private", queue=False)
        cited = gr.Number(visible=False)  # the [n] clicked in the chat, set by CITE_CLICK_JS
        chat.select(select_turn, [chat, turns, cited], [shown, chooser, panel], api_visibility="private",
                    queue=False, js="(chat, turns, n) => [chat, turns, window.qaCited ?? null]").then(
            None, js=SHOW_PASSAGE_JS)
        reset = [chat, turns, shown, chooser, panel]
        for cleared in (clear.click, chat.clear):
            cleared(lambda: ([], [], {}, *sources_view({})), None, reset, api_visibility="private", queue=False).then(
                keep, [chat, turns], saved, api_visibility="private", queue=False)
        demo.load(restore, saved, [chat, turns], api_visibility="private", queue=False)
        for event in (demo.load, library.select):  # the library on disk, whatever this server process saw before
            event(tab.read, None, tab.listing, api_visibility="private", queue=False, show_progress="hidden")
        demo.load(tab.controls, None, tab.editing, api_visibility="private", queue=False, show_progress="hidden")
        api(service, access)
    return demo


# ----- chat ----------------------------------------------------------------------


def keep(chat: list[dict], turns: list[Turn]) -> dict[str, Any]:
    """What the browser keeps of the conversation (``recent`` bounds it), so that a reload shows it again: JSON,
    whose keys are text (a turn's panels are by citation number)."""
    return {"chat": chat, "turns": [{**t, "panels": {str(n): html for n, html in t.get("panels", {}).items()}} for t in turns]}


def restore(saved: Any) -> tuple[list[dict], list[Turn]]:
    """The conversation the browser kept; anything else (nothing yet, an older shape) is a new conversation."""
    chat, turns = (saved.get("chat"), saved.get("turns")) if isinstance(saved, dict) else (None, None)
    try:
        turns = [{**t, "labels": [tuple(label) for label in t.get("labels", [])],
                  "panels": {int(n): str(html) for n, html in t.get("panels", {}).items()}} for t in turns]  # type: ignore[union-attr]
    except (AttributeError, TypeError, ValueError):
        return [], []
    return recent(chat, turns) if isinstance(chat, list) else ([], [])


def ask_turn(service: Service, question: str, chat: list[dict], turns: list[Turn],
             allow: Callable[[], None] = lambda: None) -> Iterator[tuple]:
    """The page's ask event: first the question with a "looking" placeholder and Ask disabled, then the quotes;
    with a model configured, its words as each sentence is written and checked, Stop shown meanwhile (``allow``
    raises a QAError for a client over its share)."""
    if (question or "").strip():
        waiting = [*chat, user_message(question), {"role": "assistant", "content": pending_html()}]
        yield "", waiting, turns, gr.update(), gr.update(), gr.update(), gr.update(interactive=False), gr.update()
    answer, turn, content = reply(service, question, turns, allow, write=False)
    shown = [*chat, *([user_message(question.strip())] if (question or "").strip() else [])]
    busy = answer is not None and service.writes(answer)
    words = service.writing(answer) if answer is not None and busy else iter(())
    while True:
        page, kept = recent([*shown, {"role": "assistant", "content": content}], [*turns, turn])
        yield "", page, kept, turn, *sources_view(turn), gr.update(interactive=not busy), gr.update(visible=busy)
        if (answer := next(words, None)) is None:
            return
        turn, content = make_turn(question.strip(), answer), answer_html(answer, service.index.settings.max_question_chars)
        busy = answer.written is not None and not answer.written.finished


def stop_writing(chat: list[dict]) -> tuple:
    """Stop: the model's words so far stay (each checked), Ask is back, Stop hides."""
    if chat and chat[-1].get("role") == "assistant":  # the page sends a message's content back as text parts
        content = chat[-1]["content"]
        parts = content if isinstance(content, list) else [{"type": "text", "text": str(content)}]
        text = "".join(str(part.get("text", "")) for part in parts if isinstance(part, dict))
        chat = [*chat[:-1], {**chat[-1], "content": stopped_html(text)}]
    return chat, gr.update(interactive=True), gr.update(visible=False)


def user_message(question: str) -> dict[str, str]:
    # The chat shows a lone surrogate (bytes a client sent that were not UTF-8) as "?": the page's JSON cannot
    # carry it. The question itself goes to the library as it came, which refuses it with its own message.
    return {"role": "user", "content": question_html(printable(question.strip()))}


def reply(service: Service, question: str, turns: list[Turn], allow: Callable[[], None] = lambda: None,
          write: bool = True) -> tuple[Answer | None, Turn, str]:
    """The answer (None for a notice), its turn and its chat message."""
    question = (question or "").strip()
    history = [(t["question"], t["text"]) for t in turns if "text" in t]  # answers and abstentions, not errors
    try:
        if not question:
            raise QuestionError(EMPTY_PROMPT.format(next(iter(service.library.examples()), GENERIC_EXAMPLE)))
        allow()
        answer = service.ask(question, history, write)
        return answer, make_turn(question, answer), answer_html(answer, service.index.settings.max_question_chars)
    except QuestionError as error:
        return None, {"question": printable(question)}, notice_html(str(error))
    except QAError as error:
        return None, {"question": printable(question)}, notice_html(str(error), "error")
    except Exception:  # shown as a chat message, details in the log
        log.exception("answering %r failed", question)
        return None, {"question": printable(question)}, notice_html(FAILED, "error")


def recent(chat: list[dict], turns: list[Turn], kept: int = PAGE_TURNS) -> tuple[list[dict], list[Turn]]:
    """The conversation's last ``kept`` answers and their turns: the page sends it all back with every question."""
    drop = len(turns) - kept
    if drop <= 0:
        return chat, turns
    answers = [i for i, message in enumerate(chat) if message["role"] == "assistant"]
    return chat[answers[drop - 1] + 1 :] if len(answers) >= drop else chat, turns[drop:]


def printable(text: str) -> str:
    """``text`` with anything UTF-8 cannot encode (lone surrogates) replaced by "?"."""
    return text.encode("utf-8", "replace").decode("utf-8") if not text.isascii() else text


def make_turn(question: str, answer: Answer) -> Turn:
    return {
        "question": question,
        "text": answer.text,
        "labels": [(citation_label(c), c.n) for c in answer.citations],
        "panels": {c.n: passage_html(c) for c in answer.citations},
    }


def sources_view(turn: Turn, n: int | None = None) -> tuple[Any, str]:
    """The citation chooser and the passage panel for a turn (citation ``n``, default the first)."""
    labels = turn.get("labels") or []
    if not labels:
        return gr.update(choices=[], value=None, visible=False), empty_sources_html()
    n = n if n in turn["panels"] else labels[0][1]
    return gr.update(choices=labels, value=n, visible=True), turn["panels"][n]


def show_citation(n: int | None, turn: Turn) -> str:
    return sources_view(turn, n)[1]


def select_turn(chat: list[dict], turns: list[Turn], cited: float | None, event: gr.SelectData) -> tuple:
    """Clicking an answer shows its sources; clicking one of its [n] shows that citation's passage."""
    index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
    answers = sum(1 for message in chat[: int(index) + 1] if message["role"] == "assistant")
    turn = turns[answers - 1] if 0 < answers <= len(turns) else {}
    return turn, *sources_view(turn, int(cited) if cited else None)
