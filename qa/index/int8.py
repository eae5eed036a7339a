"""int8 ONNX models that compute the same numbers on every x86 CPU.

A dynamically quantised MatMul multiplies uint8 activations by int8 weights (onnxruntime's U8S8 kernels). CPUs with
VNNI (AVX512-VNNI, AVX-VNNI) sum those products exactly. On the others (AVX2 alone: many laptops, and some cloud
machines) the kernel adds each pair of products into 16 bits, which saturates, so the same model gives other
numbers there: the reader's logits moved by up to 0.25 and some answers changed (models/reader/MODEL_CARD.md).
Stored as uint8 with zero point 128, every weight keeps its value and onnxruntime takes its U8U8 kernels, which
widen to 16 bits before multiplying: exact on every CPU. VNNI machines keep the faster U8S8 path (also exact).
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .model_files import made_once

X86 = ("x86_64", "amd64", "i386", "i686", "x86")


@functools.cache
def cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags as Linux lists them (``/proc/cpuinfo``); None where they cannot be read."""
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    except OSError:
        return None
    return frozenset(flags.partition(":")[2].split())


@functools.cache
def saturates() -> bool:
    """Does this CPU run onnxruntime's U8S8 kernels with saturating 16-bit sums (x86 without VNNI)?"""
    if platform.machine().lower() not in X86:
        return False  # ARM's int8 dot products are exact
    flags = cpu_flags()
    if flags is None:
        return True  # no way to tell: the exact kernels are the safe side
    return not {"avx512_vnni", "avx_vnni"} & flags


def exact_model_file(path: Path, cache_dir: str = "") -> Path:
    """The model at ``path``, or, on a CPU whose U8S8 kernels saturate, a copy with its MatMulInteger weights stored as
    uint8 with zero point 128 (the same values), made once into the cache (``model_files.made_once``). A model without
    such weights (int8 stored, fp32 computed) is itself."""
    if not saturates():
        return path
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    exact = made_once(f"{path.stem}-{digest}{EXACT}.onnx", cache_dir, lambda target: _write_shifted(path, target))
    return exact or path


EXACT = "-exact"  # in the name of a model file whose weights were shifted here


def _write_shifted(source: Path, target: Path) -> bool:
    try:
        import onnx
    except ImportError as error:
        raise ModelError("On a CPU without VNNI the int8 models are stored anew to compute exactly, which needs the onnx "
                         "package: `pip install onnx`.") from error
    model = onnx.load(str(source))
    if not shift_weights(model):
        return False
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(model.SerializeToString())
        os.replace(temporary, target)  # atomic: a concurrent maker or reader sees a whole file or none
    finally:
        temporary.unlink(missing_ok=True)
    return True


def shift_weights(model: Any) -> int:
    """Store the weights of ``model``'s MatMulInteger nodes (an ``onnx.ModelProto``) as uint8 with zero point 128 where
    they are int8 with a stored zero point; how many tensors moved."""
    import onnx
    from onnx import numpy_helper

    weights = {tensor.name: tensor for tensor in model.graph.initializer}
    shifted: set[str] = set()
    for node in model.graph.node:
        # the weights (B) and their zero point, both stored (without a zero point, B's would become 0, not 128)
        pair = [weights.get(name) for name in node.input[1::2]] if node.op_type == "MatMulInteger" else []
        if len(pair) != 2 or not all(t is not None and (t.name in shifted or t.data_type == onnx.TensorProto.INT8) for t in pair):
            continue
        for tensor in pair:
            if tensor is not None and tensor.name not in shifted:
                values = numpy_helper.to_array(tensor).astype("int16") + 128
                tensor.CopyFrom(numpy_helper.from_array(values.astype("uint8"), tensor.name))
                shifted.add(tensor.name)
    return len(shifted)
