"""The answer figures on XQuAD, from ``bench.xquad_answers`` (written with the answer settings).

That module's ``run(eval_dir) -> dict`` returns figures by name (nested dicts are
flattened to "a.b", dataclasses such as ``EvalReport`` too); figures named like ``qa.evaluate.EvalReport``'s fields are
checked against the answer issue's targets.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator
from typing import Any

from .common import Check, Config, Section, Table, fmt, pct

TARGETS = {  # figure name (last part) -> least acceptable value
    "first_quote_correct": 0.82,
    "further_quotes_from_answer_paragraph": 0.90,
    "any_quote_correct": 0.90,
    "abstention_rate": 0.95,
    "answered_rate": 0.90,
    "citation_validity": 1.0,
    "answer_marked": 0.70,  # issue 22's bar for SQuAD 2.0 (reader section), here on questions no part was tuned on
}


REASON = ("the reader's decision threshold, calibrated on SQuAD 2.0's adversarial questions, also declines answerable "
          "XQuAD questions (see the operating points in the reader section); among the answered ones the first quote "
          "holds the answer about as often as before (the cheap score, AnswerSettings in qa/settings.py, still ranks)")
REASONS = {"answer_marked": "the span head (models/reader/MODEL_CARD.md) marks the gold answer in about 7 of 10 gold sentences "
                            "when every span it finds is kept, and a span it is unsure of is left unmarked"}


def flatten(figures: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in figures.items():
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def shown(value: Any) -> str:
    """Rates as percentages with two decimals, so that 79.95% is not shown as a missed 80.0%."""
    return f"{100 * value:.2f}%" if isinstance(value, float) and 0.0 <= value <= 1.0 else fmt(value)


def run(config: Config) -> Section:
    section = Section("xquad_answers", "Answer quality: XQuAD quotes, abstention and citations")
    try:
        module = importlib.import_module("bench.xquad_answers")
    except ModuleNotFoundError as error:
        if error.name != "bench.xquad_answers":
            raise
        section.notes.append("bench/xquad_answers.py is not in the repository yet: these figures are pending.")
        return section
    figures = dict(flatten(module.run(config.eval_dir)))
    table = Table("Figures from bench/xquad_answers.py", ["figure", "value"])
    for name, value in figures.items():
        table.add(name, shown(value))
        key = name.rsplit(".", 1)[-1]
        target = TARGETS.get(key)
        if target is not None and isinstance(value, (int, float)):
            reason = "" if value >= target else REASONS.get(key, REASON)
            section.checks.append(Check(name, shown(value), f"≥ {pct(target)}", value >= target, reason))
    section.tables.append(table)
    answered = figures.get("report.answered_rate")
    if answered:  # the targets count declined answerable questions as misses; this is the quoting alone
        section.notes.append(
            f"Of the answerable questions that got an answer, the first quote holds a gold answer for "
            f"{figures['report.first_quote_correct'] / answered:.1%} and some quote for "
            f"{figures['report.any_quote_correct'] / answered:.1%}.")
    if config.quick:
        section.notes.append("--quick does not shorten this section.")
    return section
