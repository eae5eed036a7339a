"""The two embedding backends (int8 ONNX and torch): equal vectors within a tolerance, equal
truncation, equal results on the seed; the model loads once; the manifest records the backend.

Tolerance: every text's ONNX vector has cosine >= 0.99 to its torch vector (measured:
0.996 or more; int8 weights cost a little precision, mostly on very short texts).
"""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from qa import Index, Settings
from qa.errors import ModelError
from qa.index.embedders import load_embedder

from helpers import REPO, SEED_FILE
from helpers.index import QUESTIONS

BOTH_STORES = True  # tests that take an index location run on a folder and on PostgreSQL (conftest.py)

COSINE_TOLERANCE = 0.99

TEXTS = [
    "How many Russian peacekeepers were deployed?",
    "Who brokered the cease-fire?",
    "x",
    "",
    "   ",
    "42",
    "The mitochondria is the powerhouse of the cell.",
    "Überprüfung der Straße: naïve café, résumé, jalapeño.",
    "東京は日本の首都です。",
    "Emoji 😀🚀 and symbols ∑ ∫ √ ≠ ≤.",
    "def f(x):\n    return x ** 2  # squares\n",
    "<p>HTML <b>markup</b> &amp; entities</p>",
    "https://example.com/path?query=1&other=2",
    "A" * 300,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Vaccination reduces the incidence of measles in children under five.",
    "The committee approved the budget on 3 March 2021, after a two-hour debate.",
    "Node.js fs.readFile(path, options, callback) reads the entire contents of a file.",
    "cargo build --release compiles the package with optimizations.",
    "Question: what is the boiling point of water at sea level? Answer: 100 °C.",
    "\n\n\tTabs\tand\nnewlines\n",
    "Overall, Azerbaijan has reported 2,783 of its soldiers killed in the latest bout of fighting.",
    "word " * 600,  # truncated at 256 word pieces
    "The quick brown fox jumps over the lazy dog. " * 80,  # truncated mid-sentence
    "Ünïcödé 東京 text that repeats. " * 100,  # long and multilingual
    " ".join(f"token{i}" for i in range(400)),  # many word pieces per word
    "Short. " * 253,  # near the limit
]


@pytest.fixture(scope="module")
def backends():
    model_path = Settings().model_path
    return load_embedder(model_path, "onnx"), load_embedder(model_path, "torch")


@pytest.mark.model
def test_backends_give_the_same_vectors_within_tolerance(backends):
    onnx, torch = backends
    assert (onnx.name, onnx.dim, onnx.max_tokens) == (torch.name, torch.dim, torch.max_tokens)
    a, b = onnx.embed(TEXTS), torch.embed(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), onnx.dim) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(a * b, axis=1)
    assert cosines.min() >= COSINE_TOLERANCE, dict(zip(TEXTS, cosines.round(4), strict=True))


@pytest.mark.model
def test_the_dynamic_int8_backend_stays_close(backends, tmp_path, monkeypatch):
    """onnx-dynamic trades a little precision for int8 arithmetic: cosine >= 0.95 on every text (short and
    empty texts move most), >= 0.99 on the median, and the same passages on the seed."""
    from qa.index.embedding_onnx import OnnxEmbedder

    dynamic = OnnxEmbedder(Settings().model_path, "all-MiniLM-L6-v2", dynamic=True, cache_dir=str(tmp_path / "cache"))
    assert dynamic.backend == "onnx-dynamic" and len(list((tmp_path / "cache").glob("*.onnx"))) == 1
    cosines = np.sum(dynamic.embed(TEXTS) * backends[1].embed(TEXTS), axis=1)
    assert cosines.min() >= 0.95 and np.median(cosines) >= 0.99, dict(zip(TEXTS, cosines.round(4), strict=True))
    # its activations are quantised per run, so texts are embedded one per run: a vector does not depend on its batch mates
    single = np.stack([dynamic.embed([text], threads=1)[0] for text in TEXTS])
    np.testing.assert_array_equal(dynamic.embed(TEXTS, batch_size=64), single)
    settings = Settings(backend="onnx-dynamic")
    fast = Index.build([SEED_FILE], tmp_path / "dynamic", settings=settings, embedder=dynamic)
    plain = Index.build([SEED_FILE], tmp_path / "plain", embedder=backends[0])
    for question in QUESTIONS:
        assert fast.retrieve(question, k=1)[0].start == plain.retrieve(question, k=1)[0].start, question


@pytest.mark.model
def test_onnx_batching_and_the_question_session_agree(backends):
    onnx, _ = backends
    whole = onnx.embed(TEXTS, batch_size=64)
    small = onnx.embed(TEXTS, batch_size=3)  # other padding, other batch mates
    single = np.stack([onnx.embed([text], threads=1)[0] for text in TEXTS])
    np.testing.assert_allclose(small, whole, atol=1e-4)
    np.testing.assert_allclose(single, whole, atol=1e-4)
    assert onnx.embed([]).shape == (0, onnx.dim)


@pytest.mark.model
def test_truncation_is_the_same_in_both_backends(backends):
    onnx, torch = backends
    for text in TEXTS:
        assert onnx.truncate(text) == torch.truncate(text), text[:40]
    long = "The quick brown fox jumps over the lazy dog. " * 80
    cut = onnx.truncate(long)
    assert long.startswith(cut) and 0 < len(cut) < len(long)
    # the model reads only the prefix: the vector of the whole text is the vector of the prefix
    np.testing.assert_allclose(onnx.embed([long]), onnx.embed([cut]), atol=1e-5)


@pytest.mark.model
def test_torch_backend_leaves_the_thread_count_alone(backends):
    import torch

    before = torch.get_num_threads()
    backends[1].embed(["one question"], threads=1)
    backends[1].embed(TEXTS[:4], threads=None)
    assert torch.get_num_threads() == before


@pytest.mark.model
def test_backends_find_the_same_passages_on_the_seed(tmp_path):
    indexes = [Index.build([SEED_FILE], tmp_path / backend, settings=Settings(backend=backend)) for backend in ("onnx", "torch")]
    for question in QUESTIONS:
        onnx, torch = ([p.start for p in index.retrieve(question, k=3)] for index in indexes)
        assert onnx[0] == torch[0], question
        assert set(onnx) == set(torch), question
        first, second = (index.answer(question) for index in indexes)
        assert first.answered == second.answered and first.citations[0].quote == second.citations[0].quote, question


@pytest.mark.model
def test_the_onnx_path_never_imports_torch(model_index_dir):
    script = (
        "import sys; from qa import Index; index = Index.load(sys.argv[1]); "
        "answer = index.answer('How many Russian peacekeepers were deployed?'); "
        "print(answer.answered, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script, str(model_index_dir)], cwd=REPO,  # the default: onnx-dynamic
                            capture_output=True, text=True, env=_env(), check=True)
    assert result.stdout.split() == ["True", "False", "False"]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "QA_BACKEND"}


# ----- loading ------------------------------------------------------------------------


def test_concurrent_first_uses_load_the_model_once(monkeypatch, tmp_path):
    import qa.index.embedders
    import qa.index.embedding_onnx

    made: list[object] = []
    arrived = threading.Barrier(8)
    release = threading.Event()

    class SlowModel:
        def __init__(self, *args: object, **kwargs: object) -> None:
            made.append(self)
            release.wait(timeout=30)  # hold the first loader inside the constructor

    monkeypatch.setattr(qa.index.embedding_onnx, "OnnxEmbedder", SlowModel)
    qa.index.embedders._load.cache_clear()
    results: list[object] = []

    def first_use() -> None:
        arrived.wait()
        results.append(load_embedder(str(tmp_path), "onnx"))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    while not made:  # one thread is loading; the others have reached the barrier and asked too
        threading.Event().wait(0.01)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    qa.index.embedders._load.cache_clear()
    assert len(made) == 1 and len(results) == 8 and all(r is made[0] for r in results)


def test_unknown_backend_and_device_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="backend 'tensorflow'"):
        load_embedder(str(tmp_path), "tensorflow")
    with pytest.raises(ModelError, match="device 'tpu'"):
        load_embedder(str(tmp_path), "onnx", "tpu")


def test_unknown_backend_in_the_environment_is_a_clear_error(monkeypatch):
    from qa.settings import from_environment

    monkeypatch.setenv("QA_BACKEND", "tensorflow")
    assert Settings().backend == "onnx-dynamic"  # the library reads no environment variable
    with pytest.raises(ModelError, match="QA_BACKEND"):
        from_environment({"QA_BACKEND": "tensorflow"})


def test_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    from qa.index.embedding_onnx import cuda_available

    if cuda_available():
        pytest.skip("this machine has a GPU for onnxruntime")
    with pytest.raises(ModelError, match="No GPU"):
        load_embedder(str(tmp_path), "onnx", "cuda")


def test_auto_device_falls_back_to_the_cpu():
    from qa.index.embedders import resolve_device
    from qa.index.embedding_onnx import cuda_available

    assert resolve_device("cpu", "onnx") == "cpu"
    assert resolve_device("auto", "onnx") == ("cuda" if cuda_available() else "cpu")


def test_missing_onnx_file_is_a_clear_error(tmp_path):
    from qa.settings import from_environment

    settings = from_environment({"QA_ONNX_MODEL": str(tmp_path / "nothing.onnx"), "QA_BACKEND": "onnx"})
    with pytest.raises(ModelError, match=r"nothing\.onnx"):
        load_embedder(*settings.model_files())
