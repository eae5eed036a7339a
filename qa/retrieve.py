"""Ranking: preparing the question and fusing dense and lexical hits (pure logic)."""

from __future__ import annotations

import numpy as np

from .errors import QAError, QuestionError

MODES = ("hybrid", "dense", "lexical")


def check_question(question: object, max_chars: int) -> tuple[str, bool]:
    """The question stripped and cut to ``max_chars``; True when it was cut."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("The question is empty. Type a question about your sources.")
    question = " ".join(question.split())
    if len(question) > max_chars:
        return question[:max_chars].rsplit(" ", 1)[0] or question[:max_chars], True
    return question, False


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise QAError(f"Unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}.")
    return mode


def _min_max(scores: np.ndarray) -> np.ndarray:
    if len(scores) == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.ones_like(scores)
    return (scores - low) / (high - low)


def fuse(
    dense: tuple[np.ndarray, np.ndarray],
    lexical: tuple[np.ndarray, np.ndarray],
    dense_weight: float,
) -> list[tuple[int, float]]:
    """Weighted min-max score fusion: (chunk id, score) best first.

    Each retriever's scores are scaled to [0, 1] over its own candidates; a chunk
    missing from one list gets 0 from it.
    """
    combined: dict[int, float] = {}
    for (scores, ids), weight in ((dense, dense_weight), (lexical, 1.0 - dense_weight)):
        for chunk, value in zip(ids.tolist(), _min_max(np.asarray(scores, dtype=np.float64)).tolist()):
            if chunk >= 0:
                combined[chunk] = combined.get(chunk, 0.0) + weight * value
    return sorted(combined.items(), key=lambda item: (-item[1], item[0]))


def single(scores: np.ndarray, ids: np.ndarray) -> list[tuple[int, float]]:
    """One retriever's hits as (chunk id, score), best first."""
    return [(int(c), float(s)) for s, c in zip(scores.tolist(), ids.tolist()) if c >= 0]
