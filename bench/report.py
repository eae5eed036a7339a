"""Writing the results: ``results.json`` (kept, so one section can be re-run alone) and ``RESULTS.md``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .common import Section, Table

HEADER = """# Benchmark results

Reproduce with `make bench` (or `python -m bench.run`; `python -m bench.run scifact latency` re-runs
some sections, `--quick` is a smoke check that writes under `data/bench/` instead).
Evaluation data is read in place from `{eval_dir}`; nothing is downloaded.
The PostgreSQL store's figures are in [RESULTS-postgres.md](RESULTS-postgres.md)
(`python -m bench.run postgres --output bench/results/RESULTS-postgres.md`).
"""


def load(path: Path) -> dict[str, Any]:
    """The stored results: {"runs": {...}, "sections": {name: section}}; empty when there are none."""
    if not path.exists():
        return {"run": {}, "sections": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def render(results: dict[str, Any], order: list[str]) -> str:
    run = results["run"]
    sections = [Section.from_json(results["sections"][name]) for name in order if name in results["sections"]]
    lines = [HEADER.format(eval_dir=run.get("eval_dir", "../shared/eval"))]
    lines += [f"Last run: {run.get('date', '?')} (`{run.get('command', '')}`).", ""]
    lines += table_lines(Table("Machine", ["", ""], [[k, v] for k, v in run.get("machine", {}).items()]))
    lines += table_lines(Table("Package versions", ["package", "version"], [[k, v] for k, v in run.get("versions", {}).items()]))
    lines += summary_lines(sections)
    for section in sections:
        lines += section_lines(section)
    return "\n".join(lines).rstrip() + "\n"


def summary_lines(sections: list[Section]) -> list[str]:
    table = Table("Targets", ["section", "target", "measured", "wanted", "result", "what limits it"])
    for section in sections:
        for check in section.checks:
            table.rows.append([section.name, check.name, check.measured, check.target,
                               "PASS" if check.passed else "**MISS**", check.reason])
    missed = sum(row[4] != "PASS" for row in table.rows)
    lines = ["## Targets", "", f"{len(table.rows) - missed} of {len(table.rows)} targets met.", ""]
    return lines + table_lines(table, heading=False)


def section_lines(section: Section) -> list[str]:
    ran = f"Ran {section.ran_at}, {section.seconds:.0f} s" + (", **--quick**" if section.quick else "")
    ran += f"; load average {section.load_average} (other processes shared the machine)." if section.load_average else "."
    lines = [f"## {section.title}", "", ran, ""]
    for table in section.tables:
        lines += table_lines(table)
    if section.notes:
        lines += [f"- {note}" for note in section.notes] + [""]
    return lines


def table_lines(table: Table, heading: bool = True) -> list[str]:
    lines = [f"**{table.title}**", ""] if heading else []
    lines.append("| " + " | ".join(table.header) + " |")
    lines.append("|" + "|".join("---" for _ in table.header) + "|")
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table.rows]
    return [*lines, ""]
