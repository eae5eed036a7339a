"""Which embedder to load: one model per (path, backend, device) and process, on the device asked for."""

from __future__ import annotations

import functools
import threading

from ..errors import ModelError
from ..settings import BACKENDS, DEVICES, listed
from .embedding import Embedder, model_name
from .embedding_torch import check_folder


def resolve_device(device: str, backend: str) -> str:
    """"cpu" or "cuda": "auto" picks the GPU when the backend can use one."""
    if device not in DEVICES:
        raise ModelError(f"Unknown device {device!r}; use {listed(DEVICES)}.")
    if device == "cpu":
        return device
    found = _cuda_available(backend)
    if device == "cuda" and not found:
        hint = "a CUDA build of torch" if backend == "torch" else "onnxruntime-gpu"
        raise ModelError(f"No GPU is usable by the {backend} backend (it needs {hint}). Use --device cpu or auto.")
    return "cuda" if found else "cpu"


def _cuda_available(backend: str) -> bool:
    if backend != "torch":
        from .embedding_onnx import cuda_available

        return cuda_available()
    import torch

    return bool(torch.cuda.is_available())


_LOAD_LOCK = threading.Lock()


def load_embedder(model_path: str, backend: str = BACKENDS[0], device: str = DEVICES[0], onnx_file: str = "",
                  cache_dir: str = "") -> Embedder:
    """One model per (path, backend, device, files) and process, loaded once even when two threads ask at once.

    ``onnx_file`` and ``cache_dir`` are ``Settings``'s: another ONNX file, and where "onnx-dynamic" keeps its own."""
    if backend not in BACKENDS:
        raise ModelError(f"Unknown embedding backend {backend!r}; use {listed(BACKENDS)} (QA_BACKEND).")
    with _LOAD_LOCK:
        return _load(model_path, backend, resolve_device(device, backend), onnx_file, cache_dir)


@functools.cache
def _load(model_path: str, backend: str, device: str, onnx_file: str, cache_dir: str) -> Embedder:
    if backend == "torch":
        from .embedding_torch import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model_path, device)
    from .embedding_onnx import OnnxEmbedder, onnx_model_file

    check_folder(model_path)
    return OnnxEmbedder(model_path, model_name(model_path), onnx_model_file(onnx_file), device, backend == "onnx-dynamic", cache_dir)
