"""The Gradio page: chat, sources panel, library (uploads and removal), and the `ask` / `retrieve` API.

Only ``app.py`` imports this module (it imports gradio). Every handler turns a ``QAError``
into a message on the page and logs anything unexpected: the page never shows a traceback.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr

from qa import SUPPORTED_SUFFIXES, Answer, QAError, QuestionError

from .render import (
    answer_html,
    citation_label,
    empty_sources_html,
    notice_html,
    passage_html,
    question_html,
    sources_table_html,
)
from .service import Service

log = logging.getLogger("qa.app")

EXAMPLES = [
    "How many Russian peacekeepers were deployed?",
    "What total military death toll did Azerbaijan report?",
    "Who brokered the cease-fire?",
    "When did the fighting formally end?",
    "Who won the 2018 football World Cup?",
]
EMPTY_PROMPT = "Type a question about your sources, for example: “{}”"
FAILED = "Something went wrong while answering. Please try again; the details are in the server log."
UPLOAD_TYPES = sorted(SUPPORTED_SUFFIXES)
# Remembers which [n] of a chat message was clicked, for the chat's select event (runs first: capture phase).
CITE_CLICK_JS = """<script>
document.addEventListener("click", (event) => {
  const cite = event.target.closest ? event.target.closest(".qa-cite") : null;
  window.qaCited = cite ? Number(cite.textContent.replace(/\\D/g, "")) : null;
}, true);
</script>"""

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


def build_app(service: Service) -> gr.Blocks:
    with Page(title="qa: ask your documents", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        turns = gr.State([])  # one Turn per assistant message, in order
        shown = gr.State({})  # the Turn whose sources are on screen
        gr.Markdown("## Ask your documents\nAnswers are verbatim quotes from your sources, numbered; "
                    "choose a number on the right to read the passage around it.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", show_label=False, height=520, latex_delimiters=[], elem_id="chat",
                                  feedback_options=None, buttons=["copy"], group_consecutive_messages=False)
                with gr.Row():
                    box = gr.Textbox(placeholder="Ask a question about your sources…", show_label=False,
                                     scale=5, autofocus=True, elem_id="question")
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                examples = gr.Dataset(components=[box], samples=[[q] for q in EXAMPLES],
                                      label="Example questions (click to ask)", elem_id="examples")
                clear = gr.Button("New conversation", size="sm")
            with gr.Column(scale=2):
                with gr.Tab("Sources of this answer"):
                    chooser = gr.Radio([], label="Citation", visible=False, elem_id="citations")
                    panel = gr.HTML(empty_sources_html(), elem_id="passage")
                with gr.Tab("Library"):
                    library_tab(service)

        ask_inputs = [box, chat, turns]
        ask_outputs = [box, chat, turns, shown, chooser, panel]
        for event in (send.click, box.submit):
            event(lambda q, c, t: respond(service, q, c, t), ask_inputs, ask_outputs,
                  api_visibility="private", concurrency_id="answer")
        examples.click(lambda sample, c, t: respond(service, sample[0], c, t), [examples, chat, turns], ask_outputs,
                       api_visibility="private", concurrency_id="answer")
        chooser.input(show_citation, [chooser, shown], panel, api_visibility="private", queue=False)
        cited = gr.Number(visible=False)  # the [n] clicked in the chat, set by CITE_CLICK_JS
        chat.select(select_turn, [chat, turns, cited], [shown, chooser, panel], api_visibility="private",
                    queue=False, js="(chat, turns, n) => [chat, turns, window.qaCited ?? null]")
        reset = [chat, turns, shown, chooser, panel]
        clear.click(lambda: ([], [], {}, *sources_view({})), None, reset, api_visibility="private", queue=False)
        chat.clear(lambda: ([], [], {}, *sources_view({})), None, reset, api_visibility="private", queue=False)
        api(service)
    return demo


# ----- chat ----------------------------------------------------------------------


def respond(service: Service, question: str, chat: list[dict], turns: list[Turn]) -> tuple:
    question = (question or "").strip()
    history = [(t["question"], t["text"]) for t in turns if "text" in t]  # answers and abstentions, not errors
    # The chat shows a lone surrogate (bytes a client sent that were not UTF-8) as "?": the page's JSON cannot
    # carry it. The question itself goes to the library as it came, which refuses it with its own message.
    messages = [{"role": "user", "content": question_html(printable(question))}] if question else []
    try:
        if not question:
            raise QuestionError(EMPTY_PROMPT.format(EXAMPLES[0]))
        answer = service.ask(question, history)
        turn = make_turn(question, answer)
        content = answer_html(answer, service.index.settings.max_question_chars)
    except QuestionError as error:
        turn, content = {"question": printable(question)}, notice_html(str(error))
    except QAError as error:
        turn, content = {"question": printable(question)}, notice_html(str(error), "error")
    except Exception:  # noqa: BLE001: shown as a chat message, details in the log
        log.exception("answering %r failed", question)
        turn, content = {"question": printable(question)}, notice_html(FAILED, "error")
    chat = [*chat, *messages, {"role": "assistant", "content": content}]
    return "", chat, [*turns, turn], turn, *sources_view(turn)


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


# ----- library -------------------------------------------------------------------


def library_tab(service: Service) -> None:
    limit = service.library.max_upload_bytes / 2**20
    upload = gr.File(label=f"Add documents (.txt, .md, .html, .pdf, .docx, .epub; up to {limit:.0f} MiB each)",
                     file_count="multiple", file_types=UPLOAD_TYPES, elem_id="upload")
    hint = f"Added files are stored in {service.library.uploads} and can be asked about once indexed."
    status = gr.HTML(empty_sources_html(hint), min_height=70, elem_id="library-status")
    table = gr.HTML(sources_table_html(service.sources()), elem_id="sources")
    with gr.Row():
        choice = gr.Dropdown(source_choices(service), value=None, label="Remove a source", scale=3, elem_id="remove-choice")
        remove = gr.Button("Remove", variant="stop", scale=1, elem_id="remove")
    outputs = [upload, status, table, choice]
    upload.upload(lambda files, progress=gr.Progress(track_tqdm=True): add_files(service, files, progress),
                  upload, outputs, api_visibility="private", concurrency_id="library", concurrency_limit=1,
                  show_progress_on=status, preprocess=False)
    remove.click(lambda path: remove_source(service, path), choice, outputs,
                 api_visibility="private", concurrency_id="library", concurrency_limit=1, show_progress_on=status)


def add_files(service: Service, files: list[dict | str] | None, progress: gr.Progress) -> tuple:
    """Index uploaded files. ``files``: Gradio's file data (not preprocessed: no empty temp file is left
    per upload, and our own checks give the messages); each temporary copy is deleted whatever happens."""
    received = [uploaded(item) for item in files or []]
    progress(0.0, desc=f"Indexing {len(received)} file(s)…")
    try:
        change = service.add(received, progress=True)
        kind = "error" if change.rejected and not change.added else "notice"
        message = notice_html(change.summary(), kind if change.rejected else "ok")
    except QAError as error:
        message = notice_html(str(error), "error")
    except Exception:  # noqa: BLE001
        log.exception("indexing uploads failed")
        message = notice_html("Indexing the upload failed; the details are in the server log.", "error")
    finally:
        for path, _ in received:  # the copy under data/uploads/ is what is kept
            discard(path, service.library.incoming)
    return None, message, sources_table_html(service.sources()), gr.update(choices=source_choices(service), value=None)


def uploaded(item: dict | str) -> tuple[Path, str]:
    """(temporary path, the name the user gave the file) of one uploaded file."""
    if isinstance(item, dict):
        path = Path(str(item.get("path") or ""))
        name = item.get("orig_name")
        return path, name if isinstance(name, str) and name.strip() else path.name
    return Path(item), Path(item).name


def discard(path: Path, incoming: Path) -> None:
    """Delete an upload's temporary copy, and Gradio's folder around it once empty; nothing outside ``incoming``."""
    root = incoming.resolve()
    path = path.absolute()
    if not path.resolve().is_relative_to(root) or path.resolve() == root:
        return
    path.unlink(missing_ok=True)
    folder = path.parent
    if folder.resolve() != root and folder.resolve().is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:  # other files still in it
            pass


def remove_source(service: Service, path: str | None) -> tuple:
    try:
        if not path:
            raise QAError("Choose a source to remove first.")
        message = notice_html(service.remove(path).summary(), "ok")
    except QAError as error:
        message = notice_html(str(error), "error")
    except Exception:  # noqa: BLE001
        log.exception("removing %s failed", path)
        message = notice_html("Removing the source failed; the details are in the server log.", "error")
    return gr.update(), message, sources_table_html(service.sources()), gr.update(choices=source_choices(service), value=None)


def source_choices(service: Service) -> list[tuple[str, str]]:
    return [(f"{row.source.name} ({row.source.kind})", row.source.path) for row in service.sources()]


# ----- API -----------------------------------------------------------------------


def api(service: Service) -> None:
    """Named endpoints for scripts: `/ask` and `/retrieve` return plain JSON data.

    Every failure reaches the client as a message that says what was wrong (a ``gr.Error``),
    never Gradio's generic one; paths are shown inside their library folder, never as server paths.
    """

    def ask(question: str, history: list[list[str]] | None = None) -> dict:
        """Answer `question` with verbatim quotes. `history`: earlier [question, answer] pairs, for follow-ups."""
        with api_errors("answering"):
            data = service.ask(question, history).to_dict()
            shown = service.library.relative_paths()
            return {**data, "citations": [client_safe(c, shown) for c in data["citations"]]}

    def retrieve(question: str, k: int = 5) -> list[dict]:
        """The `k` passages that best match `question`, best first."""
        with api_errors("retrieving"):
            passages = service.retrieve(question, whole_number(k))
            shown = service.library.relative_paths()
            return [client_safe(asdict(passage), shown) for passage in passages]

    gr.api(ask, api_name="ask", concurrency_id="answer")
    gr.api(retrieve, api_name="retrieve", concurrency_id="answer")


@contextmanager
def api_errors(doing: str) -> Iterator[None]:
    """A QAError becomes its own message for the client; anything else is logged and gets FAILED."""
    try:
        yield
    except QAError as error:
        raise gr.Error(str(error)) from error
    except Exception as error:  # noqa: BLE001: a bug; the client gets a message, the log the details
        log.exception("%s failed", doing)
        raise gr.Error(FAILED) from error


def whole_number(k: Any) -> Any:
    """JSON has one number type: 5.0 is 5. Anything else is passed on for ``retrieve`` to refuse clearly."""
    return int(k) if isinstance(k, float) and k.is_integer() else k


def client_safe(row: dict[str, Any], shown: dict[str, str]) -> dict[str, Any]:
    """The row with ``path`` (the server's absolute path) replaced by ``file_path``, the source's path inside
    its library folder (``path`` would make gradio_client download it as a file)."""
    data = {key: value for key, value in row.items() if key != "path"}
    return {**data, "file_path": shown.get(row["path"], Path(row["path"]).name)}
