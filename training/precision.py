"""How the training scripts compute: bf16 autocast over fp32 weights where the hardware computes in bf16, fp32 elsewhere.

On a CPU with AVX-512 BF16 a reader training step in bf16 on 2 threads ran 2.9x faster than fp32 on one thread
(``../shared/FINDINGS.md``). Where torch emulates bf16 (an AVX2-only CPU, measured 2026-12-06) it ran 20x slower
than fp32: 1.4 against 28 pairs/s on 2 threads. So ``auto``, the default, chooses by the hardware.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from qa.index.int8 import cpu_flags

PRECISIONS = ("auto", "bf16", "fp32")  # bf16: autocast over fp32 weights (the optimiser's state stays fp32)
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def chosen_precision(precision: str, device: str) -> str:
    """``precision``, with ``auto`` made bf16 where the hardware computes in it (a CPU with AVX-512 BF16 or AMX, a GPU
    that supports it) and fp32 elsewhere, flags that cannot be read included."""
    if precision != "auto":
        return precision
    import torch

    if device.startswith("cuda"):
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if BF16_FLAGS & (cpu_flags() or frozenset()) else "fp32"


def autocast(precision: str, device: str) -> Callable[[], Any]:
    """A context for each forward pass: bf16 autocast, or nothing (fp32)."""
    import torch

    if precision == "bf16":
        return lambda: torch.autocast(device.split(":")[0], dtype=torch.bfloat16)
    return contextlib.nullcontext
