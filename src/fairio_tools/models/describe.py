"""What a model expects and offers: tensors, axes, sizes, halos, processing and weights."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fairio_tools.models.descriptions import model_code_allowed, weights_availability
from fairio_tools.models.package import ModelPackage, local_file, sha256_of

if TYPE_CHECKING:
    from bioimageio.spec.model.v0_5 import ModelDescr


def describe_model(package: ModelPackage, descr: ModelDescr) -> dict[str, Any]:
    """The ``model-info`` report of a loaded description, as plain JSON-ready data
    (``runnable_here`` says whether ``predict`` would run the weights as the server is set:
    weights that run the package's code only where the admin allows it)."""
    raw = package.content
    return {
        "name": descr.name,
        "id": None if descr.id is None else str(descr.id),
        "version": model_version(descr),
        "format_version": str(raw.get("format_version", descr.format_version)),
        "license": None if descr.license is None else str(descr.license),
        "description": descr.description,
        "inputs": [_tensor(t, "preprocessing") for t in descr.inputs],
        "outputs": [_tensor(t, "postprocessing") for t in descr.outputs],
        "weights": [
            _weights(package, w) for w in weights_availability(package, descr, model_code_allowed())
        ],
    }


def model_version(descr: ModelDescr) -> str | None:
    """The model's version (spec 0.5 ``version``, else the 0.4 ``version`` field)."""
    version = getattr(descr, "version", None)
    return None if version is None else str(version)


def axis_size(axis: Any) -> Any:
    """An axis size as data: an int, ``{min, step}``, a reference to another tensor's axis
    (``{"tensor", "axis", "offset"}``) or None (any size / data dependent)."""
    size = getattr(axis, "size", None)
    if size is None or isinstance(size, int):
        return size
    if hasattr(size, "step"):
        return {"min": size.min, "step": size.step}
    if hasattr(size, "tensor_id"):
        return {"tensor": str(size.tensor_id), "axis": str(size.axis_id), "offset": size.offset}
    return {"data_dependent": True}


def _tensor(tensor: Any, processing: str) -> dict[str, Any]:
    axes = []
    for axis in tensor.axes:
        entry: dict[str, Any] = {"id": str(axis.id), "type": axis.type, "size": axis_size(axis)}
        if axis.type == "channel":
            entry["size"] = len(axis.channel_names)
            entry["channel_names"] = [str(n) for n in axis.channel_names]
        if getattr(axis, "halo", 0):
            entry["halo"] = axis.halo
        if getattr(axis, "unit", None):
            entry["unit"] = str(axis.unit)
        axes.append(entry)
    steps = getattr(tensor, processing, [])
    return {
        "id": str(tensor.id),
        "description": tensor.description,
        "axes": axes,
        "axes_string": "".join(_axis_letter(a) for a in tensor.axes),
        processing: [_step(s) for s in steps],
    }


def _axis_letter(axis: Any) -> str:
    return {"batch": "b", "channel": "c", "index": "i", "time": "t"}.get(axis.type, str(axis.id))


def _step(step: Any) -> dict[str, Any]:
    kwargs = getattr(step, "kwargs", None)
    if kwargs is None:
        kwargs = {}
    elif not isinstance(kwargs, dict):
        kwargs = kwargs.model_dump(mode="json", exclude_none=True)
    entry = {"id": step.id, "kwargs": kwargs}
    if step.id == "custom":  # Python code from the package
        entry["runs_package_code"] = f"{step.source}, callable {step.callable}"
    return entry


def _weights(package: ModelPackage, weights: Any) -> dict[str, Any]:
    path = local_file(package, weights.source) if weights.local else None
    actual = None if path is None else sha256_of(path)
    return {
        "format": weights.format,
        "source": weights.source,
        "location": weights.location,
        "runnable_here": weights.runnable,
        "why_not": weights.reason() or None,
        "runs_package_code": weights.code,
        "sha256_declared": weights.declared_sha256,
        "sha256_matches": None
        if actual is None or weights.declared_sha256 is None
        else actual == weights.declared_sha256,
    }
