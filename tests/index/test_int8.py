"""int8 models compute exactly on every CPU: on one whose U8S8 kernels saturate (x86 without VNNI), the weights of a
dynamically quantised MatMul are stored as uint8 with zero point 128 (the same values), so that onnxruntime takes its
exact U8U8 kernels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from qa.index import int8


def matmul_integer(path: Path, weights: np.ndarray, zero_point: int | None) -> None:
    """A model computing MatMulInteger(A, weights[, a_zero_point, weights' zero point]) with int8 weights."""
    inputs = ["A", "B", "a_zero", "b_zero"] if zero_point is not None else ["A", "B"]
    stored = [numpy_helper.from_array(weights.astype(np.int8), "B")]
    if zero_point is not None:
        stored += [numpy_helper.from_array(np.array(0, np.uint8), "a_zero"),
                   numpy_helper.from_array(np.array(zero_point, np.int8), "b_zero")]
    graph = helper.make_graph([helper.make_node("MatMulInteger", inputs, ["Y"])], "g",
                              [helper.make_tensor_value_info("A", TensorProto.UINT8, [1, weights.shape[0]])],
                              [helper.make_tensor_value_info("Y", TensorProto.INT32, [1, weights.shape[1]])], stored)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what every onnxruntime since 1.10 reads
    onnx.save(model, str(path))


def run(model: str | bytes, activations: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"A": activations})[0])


def extreme(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A model and activations whose products overflow 16-bit pair sums, and the exact result."""
    rng = np.random.default_rng(0)
    weights = rng.integers(-128, 128, size=(64, 16))
    weights[:, 0] = -128  # beside activations of 255, every pair of products passes what 16 bits hold
    activations = rng.integers(0, 256, size=(1, 64)).astype(np.uint8)
    activations[0, :8] = 255
    matmul_integer(path, weights, zero_point=0)
    return activations, activations.astype(np.int64) @ weights


def test_this_cpu_is_told_apart(tmp_path: Path) -> None:
    """The model as stored is exact here exactly when ``saturates`` says so (an AVX2-only x86 was off by 195,328)."""
    activations, exact = extreme(tmp_path / "m.onnx")
    assert np.array_equal(run(str(tmp_path / "m.onnx"), activations), exact) is not int8.saturates()


def test_on_a_saturating_cpu_the_weights_become_uint8_and_the_products_are_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(int8, "saturates", lambda: True)
    activations, exact = extreme(tmp_path / "m.onnx")
    made = int8.exact_model_file(tmp_path / "m.onnx", str(tmp_path / "cache"))
    assert made.parent == tmp_path / "cache" and made.name.startswith("m-")
    shifted = {t.name: t for t in onnx.load(str(made)).graph.initializer}
    assert shifted["B"].data_type == TensorProto.UINT8 and shifted["b_zero"].data_type == TensorProto.UINT8
    stored = numpy_helper.to_array(onnx.load(str(tmp_path / "m.onnx")).graph.initializer[0]).astype(np.int64)
    assert np.array_equal(numpy_helper.to_array(shifted["B"]).astype(np.int64) - 128, stored)  # the same values
    assert np.array_equal(run(str(made), activations), exact)
    made.write_bytes(made.read_bytes())  # made once: the next call finds it
    assert int8.exact_model_file(tmp_path / "m.onnx", str(tmp_path / "cache")) == made


def test_weights_without_a_zero_point_and_other_cpus_keep_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matmul_integer(tmp_path / "m.onnx", np.ones((4, 2), np.int64), zero_point=None)  # a uint8 B would need zero point 128
    monkeypatch.setattr(int8, "saturates", lambda: True)
    assert int8.exact_model_file(tmp_path / "m.onnx", str(tmp_path / "cache")) == tmp_path / "m.onnx"
    assert int8.exact_model_file(tmp_path / "m.onnx", str(tmp_path / "cache")) == tmp_path / "m.onnx"  # remembered
    matmul_integer(tmp_path / "z.onnx", np.ones((4, 2), np.int64), zero_point=0)
    monkeypatch.setattr(int8, "saturates", lambda: False)
    assert int8.exact_model_file(tmp_path / "z.onnx", str(tmp_path / "cache")) == tmp_path / "z.onnx"


def test_the_shipped_reader_keeps_every_weight_value() -> None:
    from qa.answer.crossencoder import MODEL_FILE
    from qa.settings import default_reader_path

    path = Path(default_reader_path()) / MODEL_FILE
    before = {t.name: numpy_helper.to_array(t).astype(np.int64) for t in onnx.load(str(path)).graph.initializer
              if t.data_type == TensorProto.INT8}
    model = onnx.load(str(path))
    assert int8.shift_weights(model) > 0
    after = {t.name: numpy_helper.to_array(t).astype(np.int64) for t in model.graph.initializer}
    moved = [name for name in before if not np.array_equal(after[name], before[name])]
    assert moved and all(np.array_equal(after[name] - 128, before[name]) for name in moved)
