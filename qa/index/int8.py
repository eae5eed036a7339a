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
import platform
from pathlib import Path

X86 = ("x86_64", "amd64", "i386", "i686", "x86")


@functools.cache
def saturates() -> bool:
    """Does this CPU run onnxruntime's U8S8 kernels with saturating 16-bit sums (x86 without VNNI)?"""
    if platform.machine().lower() not in X86:
        return False  # ARM's int8 dot products are exact
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    except OSError:
        return True  # no way to tell: the exact kernels are the safe side
    return not {"avx512_vnni", "avx_vnni"} & set(flags.split())


def exact_model(path: str | Path) -> str | bytes:
    """What to give ``onnxruntime.InferenceSession`` for the model at ``path``: the path itself, or, on a CPU whose
    U8S8 kernels saturate, the model with its MatMulInteger weights as uint8 (zero point 128), the same values."""
    if not saturates():
        return str(path)
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
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
    return model.SerializeToString() if shifted else str(path)
