"""The page's Library tab: the sources on disk, uploads, removal, and bringing a removed seed back.

What the page shows is read from the library on every page load, when the tab is opened, every few
seconds while the page is open, and after each change, so an upload or removal made in another tab or
process shows up. The page only ever sees names inside the library (``kind:relative``), never server paths.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr

from .. import MAIN_SUFFIXES, SUPPORTED_SUFFIXES, QAError
from .access import Access
from .render import empty_sources_html, notice_html, sources_table_html
from .service import Change, Service, SourceRow

log = logging.getLogger("qa.app")

UPLOAD_TYPES = sorted(SUPPORTED_SUFFIXES)
# Removing asks first, in the browser: an upload's copy is deleted for good; a seed can be brought back.
CONFIRM_REMOVE_JS = """(name, sure) => {
  if (!name) return [name, true];
  const shown = name.slice(name.indexOf(':') + 1);
  const what = name.startsWith('upload:') ? ' Its uploaded copy is deleted.' : ' The file stays where it is; you can bring it back.';
  return [name, window.confirm(`Remove ${shown} from the library?${what}`)];
}"""
REFRESH_SECONDS = 5  # how often an open page re-reads the library (changes made in another tab or process)


class LibraryTab(NamedTuple):
    read: Callable[[], tuple]  # reads the library into ``listing`` (on page load)
    listing: list[Any]
    controls: Callable[[gr.Request], tuple]  # shows ``editing`` to editors only (on page load)
    editing: list[Any]


def library_tab(service: Service, examples: gr.Dataset, access: Access) -> LibraryTab:
    """The tab's components and events. Each change asks ``access`` first (editors only, when there is a login);
    a reader sees the library without the controls that change it."""
    limit = service.library.max_upload_bytes / 2**20
    upload = gr.File(label=f"Add documents ({', '.join(MAIN_SUFFIXES)}; up to {limit:.0f} MiB each)",
                     file_count="multiple", file_types=UPLOAD_TYPES, elem_id="upload")
    hint = (f"Added files are kept in the app's data folder ({service.library.data.name}/{service.library.uploads.name}/) "
            "and can be asked about once indexed.")
    status = gr.HTML(empty_sources_html(hint), min_height=70, elem_id="library-status")
    rows, seeds = service.sources(), seed_choices(service)
    table = gr.HTML(sources_table_html(rows), elem_id="sources")
    with gr.Row() as removing:
        choice = gr.Dropdown(source_choices(rows), value=None, label="Remove a source", scale=3, elem_id="remove-choice")
        remove = gr.Button("Remove", variant="stop", scale=1, elem_id="remove")
    with gr.Row(visible=bool(seeds), elem_id="restore-row") as restoring:  # only once a seed is removed
        removed = gr.Dropdown(seeds, value=None, label="Bring back a removed seed", scale=3,
                              elem_id="restore-choice")
        restore = gr.Button("Bring back", scale=1, elem_id="restore")
    listing = [table, choice, removed, restoring, examples]
    outputs = [upload, status, *listing]

    def add(files: list[dict | str] | None, request: gr.Request, progress: Any = gr.Progress(track_tqdm=True)) -> tuple:
        return add_files(service, files, progress, lambda: access.change(request))

    def drop(name: str | None, sure: bool, request: gr.Request) -> tuple:
        if not sure:
            return gr.update(), notice_html("Nothing was removed."), *library_view(service, keep=True)
        return change(service, lambda: allowed(access, request, lambda: service.remove(find(service, name or ""))), "removing", name)

    def bring_back(name: str | None, request: gr.Request) -> tuple:
        return change(service, lambda: allowed(access, request, lambda: service.restore(seed_name(name or ""))), "bringing back", name)

    library: dict[str, Any] = {"outputs": outputs, "api_visibility": "private", "concurrency_id": "library", "concurrency_limit": 1,
               "show_progress_on": status}
    upload.upload(add, upload, preprocess=False, **library)
    sure = gr.Checkbox(True, visible=False)  # the answer to "Remove …?", set in the browser
    remove.click(drop, [choice, sure], js=CONFIRM_REMOVE_JS, **library)
    restore.click(bring_back, removed, **library)
    gr.Timer(REFRESH_SECONDS).tick(lambda: library_view(service, keep=True), None, listing, api_visibility="private",
                                    queue=False, show_progress="hidden")

    def controls(request: gr.Request) -> tuple:
        editor = access.may_change(request)
        note = gr.update() if editor else empty_sources_html(f"{request.username} may ask; an editor adds and removes documents.")
        return gr.update(visible=editor), gr.update(visible=editor), note

    return LibraryTab(lambda: library_view(service), listing, controls, [upload, removing, status])


def library_view(service: Service, keep: bool = False) -> tuple:
    """The source table, the two choosers (the second shown only when a seed was removed) and the examples, as the
    library on disk has them now. With ``keep``, a choice the user made stays chosen (a periodic refresh must not
    undo it)."""
    value: dict[str, Any] = {} if keep else {"value": None}
    samples = [[q] for q in service.library.examples()]
    rows, seeds = service.sources(), seed_choices(service)  # one reading of the library for the whole view
    return (sources_table_html(rows), gr.update(choices=source_choices(rows), **value),
            gr.update(choices=seeds, **value), gr.update(visible=bool(seeds)),
            gr.update(samples=samples, visible=bool(samples)))


def allowed(access: Access, request: Any, apply: Callable[[], Change]) -> Change:
    access.change(request)
    return apply()


def add_files(service: Service, files: list[dict | str] | None, progress: Any, allow: Callable[[], None] = lambda: None) -> tuple:
    """Index uploaded files. ``files``: Gradio's file data (not preprocessed: no empty temp file is left
    per upload, and our own checks give the messages); each temporary copy is deleted whatever happens.
    ``allow`` raises a QAError when this client may not add files now."""
    received = [uploaded(item) for item in files or []]
    try:
        allow()
        progress(0.0, desc=f"Reading {', '.join(name for _, name in received)}…")  # then "Embedding passages and their sentences n/N texts"
        result = service.add(received, progress=True)
        kind = "error" if result.rejected and not result.added else "notice"
        message = notice_html(result.summary(), kind if result.rejected else "ok")
    except QAError as error:
        message = notice_html(str(error), "error")
    except Exception:  # a bug: logged, and the page says so
        log.exception("indexing uploads failed")
        message = notice_html("Indexing the upload failed; the details are in the server log.", "error")
    finally:
        for path, _ in received:  # the copy under data/uploads/ is what is kept
            discard(path, service.library.incoming)
    return None, message, *library_view(service)


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
        with contextlib.suppress(OSError):  # other files still in it
            folder.rmdir()


def change(service: Service, apply: Callable[[], Change], doing: str, name: str | None) -> tuple:
    """A removal or a seed brought back: its message and the library as it is now."""
    try:
        if not name:
            raise QAError("Choose a source in the list first.")
        message = notice_html(apply().summary(), "ok")
    except QAError as error:
        message = notice_html(str(error), "error")
    except Exception:  # a bug: logged, and the page says so
        log.exception("%s %s failed", doing, name)
        message = notice_html(f"{doing.capitalize()} the source failed; the details are in the server log.", "error")
    return gr.update(), message, *library_view(service)


def choice_name(kind: str, relative: str) -> str:
    """What the page sends back for a source: its kind and its path inside its library folder."""
    return f"{kind}:{relative}"


def find(service: Service, name: str) -> str:
    """The server path of the source the page named, or a QAError when the library has no such source now."""
    for source in service.library.sources():
        if choice_name(source.kind, source.relative) == name:
            return source.path
    raise QAError(f"{name.partition(':')[2] or name} is not in the library any more. The list is refreshed; choose again.")


def seed_name(name: str) -> str:
    kind, _, relative = name.partition(":")
    if kind != "seed" or not relative:
        raise QAError("Choose a removed seed in the list first.")
    return relative


def source_choices(rows: list[SourceRow]) -> list[tuple[str, str]]:
    return [(f"{row.source.name} ({row.source.kind})", choice_name(row.source.kind, row.source.relative))
            for row in rows]


def seed_choices(service: Service) -> list[tuple[str, str]]:
    return [(seed.name, choice_name("seed", seed.relative)) for seed in service.library.removed_seeds()]
