"""The command line: `qa index`, `qa retrieve`, `qa ask`, `qa eval`. It only calls the public API."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .evaluate import QuestionResult


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from .errors import QAError

    try:
        return int(args.handler(args) or 0)
    except QAError as error:
        print(f"qa: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask questions of your own documents, offline, with quoted citations.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    from .settings import BACKENDS, DEVICES, MODES

    model = argparse.ArgumentParser(add_help=False)
    model.add_argument("--backend", choices=BACKENDS, default=None,
                       help=f"embedding backend (default: $QA_BACKEND or {BACKENDS[0]}); "
                            "an index is queried with the backend that built it")

    index = commands.add_parser("index", parents=[model], help="build or update the index from files and folders")
    index.add_argument("paths", nargs="*", default=["seeds"], help="files or folders to index (default: seeds)")
    _location_option(index)
    index.add_argument("--add", action="store_true",
                       help="keep the indexed documents of other paths: several `qa index --add` workers can fill one "
                            "PostgreSQL database at once, each with its own files")
    index.add_argument("--device", choices=DEVICES, default=None,
                       help=f"where to embed: auto uses a GPU when one is usable (default: $QA_DEVICE or {DEVICES[0]})")
    index.set_defaults(handler=_index)

    retrieve = commands.add_parser("retrieve", parents=[model], help="show the passages that best match a question")
    retrieve.add_argument("question")
    retrieve.add_argument("-k", type=int, default=5, help="how many passages (default: 5)")
    retrieve.add_argument("--mode", choices=MODES, default=None, help=f"how passages are ranked (default: {MODES[0]})")
    _location_option(retrieve)
    retrieve.add_argument("--json", action="store_true", help="print JSON")
    retrieve.set_defaults(handler=_retrieve)

    ask = commands.add_parser("ask", parents=[model], help="answer a question with verbatim quotes")
    ask.add_argument("question")
    _location_option(ask)
    ask.add_argument("--json", action="store_true", help="print JSON")
    ask.add_argument("--llm-url", help="an OpenAI-compatible server that writes the answer in words from the quotes "
                                       "(http://localhost:11434/v1 for Ollama; default: $QA_LLM_URL, else none)")
    ask.add_argument("--llm-model", help="the model the server should use (default: $QA_LLM_MODEL); "
                                         "an API key is read from $QA_LLM_API_KEY only")
    ask.set_defaults(handler=_ask)

    evaluate = commands.add_parser("eval", parents=[model], help="score answers against a JSONL file of questions and gold answers")
    evaluate.add_argument("file", help='JSONL lines {"question": ..., "answers": [...]} ([] = unanswerable)')
    _location_option(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(handler=_eval)
    return parser


def _location_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", "--store", dest="index", default=os.environ.get("QA_STORE", "index"),
                        help="index folder, or a PostgreSQL URL postgresql://USER@HOST/DB (default: $QA_STORE, else index)")


def _settings(args: argparse.Namespace) -> Any:
    """The settings the flags ask for, over those the QA_* variables set (``settings.from_environment``)."""
    from dataclasses import replace

    from .settings import from_environment

    chosen = {flag: getattr(args, flag) for flag in ("backend", "device") if getattr(args, flag, None)}
    settings = replace(from_environment(os.environ), **chosen)
    llm = {field: getattr(args, f"llm_{field}") for field in ("url", "model") if getattr(args, f"llm_{field}", None)}
    return replace(settings, llm=replace(settings.llm, **llm)) if llm else settings


def _index(args: argparse.Namespace) -> int:
    from . import Index

    with warnings.catch_warnings():  # each said when it happens (a worker waiting for the lock says so at once)
        warnings.simplefilter("always")
        warnings.showwarning = _say_warning
        index = Index.build(args.paths, args.index, settings=_settings(args), progress=sys.stderr.isatty(),
                            scope=args.paths if args.add else None)
    report, counts = index.report, index.passages_per_source()
    print(
        f"Indexed {len(counts)} documents, {sum(counts.values())} passages into "
        f"{index.shown_location()} "
        f"({len(report.embedded)} embedded, {len(report.reused)} unchanged, {len(report.removed)} removed, "
        f"{len(report.skipped)} skipped)."
    )
    return 0


def _say_warning(message: Warning | str, *_: object, **__: object) -> None:
    print(f"qa: warning: {message}", file=sys.stderr, flush=True)


def _retrieve(args: argparse.Namespace) -> int:
    from . import open_index

    passages = open_index(args.index, _settings(args)).retrieve(args.question, args.k, mode=args.mode)
    if args.json:
        _print_json([asdict(p) for p in passages])
        return 0
    for p in passages:
        where = f"page {p.page}" if p.page else f"line {p.line}"
        print(f"[{p.rank}] {p.source}, {where} (chars {p.start}-{p.end}, score {p.score:.3f})")
        print("    " + " ".join(p.text.split()))
    return 0


def _ask(args: argparse.Namespace) -> int:
    from . import ask

    answer = ask(args.question, index_dir=args.index, settings=_settings(args))
    if args.json:
        _print_json(answer.to_dict())
        return 0
    print(answer.to_text())
    return 0


def _eval(args: argparse.Namespace) -> int:
    from . import open_index
    from .evaluate import evaluate_file

    evaluation = evaluate_file(open_index(args.index, _settings(args)), args.file)
    if args.json:
        _print_json({"results": [asdict(r) for r in evaluation.results], "totals": asdict(evaluation.report)})
        return 0
    for r in evaluation.results:
        print(_result_line(r))
    print()
    print(evaluation.report.summary())
    return 0


def _result_line(r: QuestionResult) -> str:
    """`  ok  answered  "question" → “first quote” [source, line n]`; MISS marks what the totals count as wrong."""
    line = f'{"  ok" if r.correct else "MISS"}  {"answered" if r.answered else "declined"}  "{_shorten(r.question, 80)}"'
    if r.answered:
        where = f"page {r.page}" if r.page else f"line {r.line}"
        line += f" → “{_shorten(r.first_quote, 100)}” [{r.source}, {where}]"
    if r.answered and r.expected and not r.correct:
        line += f" (a gold answer is in quote {r.gold_quote})" if r.gold_quote else " (no quote holds a gold answer)"
    return line


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())  # quotes keep the source's line breaks
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    sys.exit(main())
