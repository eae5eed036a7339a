"""Thread counts are never changed beyond the call that needs them: a question's single-threaded FAISS
search leaves its thread, later threads and a build running beside it as they were (fake embedder)."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
import pytest

faiss = pytest.importorskip("faiss")

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: one thread is all there is")


def in_thread(work):
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(value=work()))
    thread.start()
    thread.join()
    return result["value"]


def test_a_single_query_search_leaves_the_thread_count_as_it_was(fake_index):
    query = np.ones((1, fake_index.dense.dim), dtype=np.float32) / np.sqrt(fake_index.dense.dim)

    def search_then_count():
        before = faiss.omp_get_max_threads()
        fake_index.dense.search(query, 3)
        return before, faiss.omp_get_max_threads()

    before, after = in_thread(search_then_count)
    assert after == before == os.cpu_count()
    assert in_thread(faiss.omp_get_max_threads) == os.cpu_count()  # a thread started later: all cores


def test_a_build_beside_a_question_keeps_every_core(fake_index):
    """The build's thread sets its count; a question searching in another thread meanwhile does not change it."""
    query = np.ones((1, fake_index.dense.dim), dtype=np.float32) / np.sqrt(fake_index.dense.dim)
    searched, counted = threading.Event(), threading.Event()
    seen = {}

    def build():
        faiss.omp_set_num_threads(os.cpu_count())
        searched.wait(10)
        seen["build"] = faiss.omp_get_max_threads()
        counted.set()

    builder = threading.Thread(target=build)
    builder.start()
    in_thread(lambda: fake_index.dense.search(query, 3))
    searched.set()
    counted.wait(10)
    builder.join()
    assert seen["build"] == os.cpu_count()
