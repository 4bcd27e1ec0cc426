"""Where a model runs: ``--device cpu`` or ``cuda``, checked before loading, and recorded as
the runtime reports it (onnxruntime's execution provider, torch's device; TensorFlow places
Keras models and SavedModels itself, so it is shown only the devices asked for)."""

from __future__ import annotations

import importlib.util
from typing import Any

from fairio_tools.errors import InputError

_ONNX_PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def runtime_devices(weight_format: str, device: str) -> list[str]:
    """The device names bioimageio.core's adapter for ``weight_format`` takes for
    ``device``; refuses ``cuda`` in one line where the runtime has no CUDA here."""
    if device not in _ONNX_PROVIDERS:
        raise InputError(f"unknown device {device!r} (cpu or cuda)", field="--device")
    if weight_format == "onnx":
        import onnxruntime

        provider = _ONNX_PROVIDERS[device]
        if provider not in onnxruntime.get_available_providers():
            raise InputError(
                f"--device {device}: onnxruntime has no {provider} here (it has "
                f"{', '.join(onnxruntime.get_available_providers())}; CUDA needs "
                "onnxruntime-gpu and a GPU)",
                field="--device",
            )
        return [provider]
    if weight_format in ("keras_hdf5", "tensorflow_saved_model_bundle"):
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if device == "cuda" and not gpus:
            raise InputError(
                "--device cuda: TensorFlow finds no GPU here (tensorflow-cpu has none), so "
                f"{weight_format} weights would run on the CPU",
                field="--device",
            )
        if device == "cpu" and gpus:
            tf.config.set_visible_devices([], "GPU")
        return [device]
    if device == "cuda" and not _torch_cuda():
        raise InputError(
            f"--device cuda: torch finds no CUDA device here, so {weight_format} weights "
            "would run on the CPU",
            field="--device",
        )
    return [device]


def _torch_cuda() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def used_device(adapter: Any, requested: str) -> str:
    """The device the loaded adapter really runs on, e.g. ``cpu (CPUExecutionProvider)``."""
    # bioimageio.core keeps the devices it initialised, best first (no public accessor)
    initialised = list(getattr(adapter, "_initialized_devices", None) or [])
    if not initialised or initialised[0] == "None":  # Keras: placed by TensorFlow
        return requested
    return initialised[0] if initialised[0] == requested else f"{requested} ({initialised[0]})"
