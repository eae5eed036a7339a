"""Run the benchmarks and write bench/results/RESULTS.md: ``python -m bench.run [SECTION ...] [--quick]``.

Sections (all by default, in this order): scifact, xquad_retrieval, xquad_answers,
build, latency, coldstart, scale, haystack (needs the `bench` extra), onnx, onnx_latency,
onnx_docs, postgres, pgscale, reader, docs_answers, textscale, written, int8. A run of some sections keeps the others' figures
from ``bench/results/results.json``. The full run takes about an hour on 2 cores the first
time (the SciFact index is embedded once and kept under ``data/bench``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from . import report
from .common import REPO, Config, Section, machine, versions

SECTIONS = {  # name -> module with run(config) -> Section
    "scifact": "bench.scifact",
    "xquad_retrieval": "bench.xquad_retrieval",
    "xquad_answers": "bench.answers",
    "build": "bench.build",
    "latency": "bench.latency",
    "coldstart": "bench.coldstart",
    "scale": "bench.scale",
    "haystack": "bench.haystack",
    "onnx": "bench.onnx",
    "onnx_latency": "bench.onnx:run_latency",
    "onnx_docs": "bench.onnx:run_docs",
    "postgres": "bench.postgres",
    "pgscale": "bench.pgscale",
    "reader": "bench.reader",
    "docs_answers": "bench.docs_answers",
    "textscale": "bench.textscale",
    "written": "bench.written",
    "int8": "bench.int8",
}
BENCH = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=f"sections to run (default: all): {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke check; results go under the cache folder")
    parser.add_argument("--eval-dir", type=Path, default=Path(os.environ.get("QA_EVAL_DIR", REPO.parent / "shared" / "eval")),
                        help="evaluation data, read in place (default: $QA_EVAL_DIR or ../shared/eval)")
    parser.add_argument("--cache", type=Path, default=REPO / "data" / "bench",
                        help="built indexes and generated corpora kept between runs (default: data/bench)")
    parser.add_argument("--output", type=Path, default=None,
                        help="results file (default: bench/results/RESULTS.md; with --quick: CACHE/RESULTS-quick.md)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return args


def run_section(name: str, config: Config) -> Section:
    start, load = time.perf_counter(), os.getloadavg()[0]
    try:
        module, _, function = SECTIONS[name].partition(":")
        section = getattr(importlib.import_module(module), function or "run")(config)
    except Exception as error:  # noqa: BLE001 - a broken section is reported (traceback printed), the others still run
        traceback.print_exc()
        section = Section(name, f"{name}: failed", notes=[f"The benchmark raised {type(error).__name__}: {error}"])
    section.ran_at = time.strftime("%Y-%m-%d %H:%M")
    section.seconds = time.perf_counter() - start
    section.quick = config.quick
    section.load_average = f"{load:.1f} → {os.getloadavg()[0]:.1f} on {len(os.sched_getaffinity(0))} cores"
    return section


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    eval_dir = args.eval_dir.resolve()
    if not (eval_dir / "scifact").is_dir():
        print(f"bench: no evaluation data in {eval_dir}; pass --eval-dir or set QA_EVAL_DIR.", file=sys.stderr)
        return 1
    config = Config(eval_dir, args.cache.resolve(), args.quick)
    output = args.output or (config.cache_dir / "RESULTS-quick.md" if args.quick else BENCH / "results" / "RESULTS.md")
    store = output.with_name("results.json" if output.name == "RESULTS.md" else output.stem + ".json")
    results = report.load(store)
    names = args.sections or list(SECTIONS)
    results["run"] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "eval_dir": os.path.relpath(eval_dir, REPO),
        "machine": machine(),
        "versions": versions(),
    }
    for name in names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        section = run_section(name, config)
        results["sections"][name] = section.to_json()
        report.save(store, results)
        output.write_text(report.render(results, list(SECTIONS)), encoding="utf-8")
        for check in section.checks:
            print(f"  {'PASS' if check.passed else 'MISS'}  {check.name}: {check.measured} (wanted {check.target})", file=sys.stderr)
        print(f"bench: {name} done in {section.seconds:.0f} s", file=sys.stderr, flush=True)
    print(f"bench: wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
