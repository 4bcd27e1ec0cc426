"""Load bioimage.io model descriptions offline and tell which weights can run here.

bioimage.io's loader, left to its defaults, downloads every remote file a description
names (to check its sha256) and fails without internet. fairio-tools loads with
``perform_io_checks=False`` and checks the files it uses itself (``package.verify_sha256``);
for bioimageio.core's own test it passes ``known_files`` so nothing remote is fetched.

A package's own code (a ``pytorch_state_dict`` architecture, a ``custom`` processing step, a
Keras ``Lambda`` layer: ``keras_config``, a TensorFlow SavedModel's graph: ``saved_model``) runs
only when the user opts in
(``--allow-model-code``) or a server's admin does (``$FAIRIO_ALLOW_MODEL_CODE``); until then
such weights are never chosen and such models never run. This does not depend on whether
torch or TensorFlow is installed.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import os
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fairio_tools import extras
from fairio_tools.errors import InputError
from fairio_tools.models.package import (
    ModelPackage,
    is_remote,
    local_file,
    sha256_of,
    verify_sha256,
)

if TYPE_CHECKING:
    from bioimageio.spec.model.v0_5 import ModelDescr

WEIGHT_PREFERENCE = (
    "onnx",
    "torchscript",
    "pytorch_state_dict",
    "keras_hdf5",
    "tensorflow_saved_model_bundle",
)
"""Weight formats fairio-tools runs, most preferred first."""

CODE_FREE_FORMATS = ("onnx", "torchscript")
"""Weight formats that never run Python code from the package (Keras HDF5 may carry some)."""
ALLOW_MODEL_CODE_ENV = "FAIRIO_ALLOW_MODEL_CODE"
"""Set to ``1`` (e.g. in a Galaxy job configuration) to let packages' own Python code run."""
OPT_IN = f"--allow-model-code, or ${ALLOW_MODEL_CODE_ENV}=1 set by the server's admin"
"""How to allow a package's code, as error messages say it."""

_RUNTIME = {
    "onnx": "onnxruntime",
    "torchscript": "torch",
    "pytorch_state_dict": "torch",
    "keras_hdf5": "tensorflow",
    "tensorflow_saved_model_bundle": "tensorflow",
}
_EXTRA = {
    "torchscript": "torch",
    "pytorch_state_dict": "torch",
    "keras_hdf5": "tensorflow",
    "tensorflow_saved_model_bundle": "tensorflow",
}
"""Weight format -> the extra that installs its runtime (onnxruntime is in the runtime)."""
_PLACEHOLDER_SHA256 = "0" * 64


def quiet_bioimageio() -> None:
    """Silence bioimage.io's loguru logging and progress bars (we report errors ourselves)."""
    import os

    os.environ.setdefault("BIOIMAGEIO_LOG_WARNINGS", "false")
    from loguru import logger

    logger.disable("bioimageio")


def quiet_tensorflow() -> None:
    """Before TensorFlow starts: no C++ log lines, no oneDNN notice, no Keras progress bars on
    stdout (errors stay one line, JSON on stdout stays JSON)."""
    import logging

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    logging.getLogger("absl").setLevel(logging.ERROR)
    import keras

    keras.utils.disable_interactive_logging()


def model_code_allowed(flag: bool = False) -> bool:
    """Whether a package's Python code may run: ``flag`` (``--allow-model-code``) or the
    admin's ``$FAIRIO_ALLOW_MODEL_CODE``."""
    setting = os.environ.get(ALLOW_MODEL_CODE_ENV, "").strip().lower()
    return flag or setting in ("1", "true", "yes")


def refuse_custom_processing(package: ModelPackage, descr: ModelDescr, allow_code: bool) -> None:
    """Refuse a model whose pre- or postprocessing imports a ``.py`` from the package, unless
    its code is allowed (it would run whatever the weight format)."""
    if allow_code:
        return
    for tensor in [*descr.inputs, *descr.outputs]:
        for step in [*getattr(tensor, "preprocessing", []), *getattr(tensor, "postprocessing", [])]:
            if step.id == "custom":
                raise InputError(
                    f"tensor {str(tensor.id)!r} has custom processing that runs Python code "
                    f"from the package ({step.source}): refused (allow it with {OPT_IN})",
                    path=package.source,
                )


def load_model(package: ModelPackage) -> ModelDescr:
    """Load the package's description as a spec-0.5 model, without touching the network
    (format 0.4 idioms the conversion rejects are re-stated first: ``format04``)."""
    quiet_bioimageio()
    from bioimageio.spec import InvalidDescr, ValidationContext, build_description
    from bioimageio.spec.model.v0_5 import ModelDescr

    from fairio_tools.models.format04 import convertible

    context = ValidationContext(
        root=package.description.parent,
        file_name=package.description.name,
        perform_io_checks=False,
    )
    try:
        with warnings.catch_warnings():  # conversion notes from 0.4; errors are reported below
            warnings.simplefilter("ignore")
            descr = build_description(
                convertible(package.content), context=context, format_version="latest"
            )
    except ValueError as error:  # unknown format version, ...
        lines = [line.strip(" -") for line in str(error).splitlines() if line.strip(" -")]
        details = "; ".join(lines[1:4])
        raise InputError(
            f"not a usable bioimage.io model description: {' '.join([*lines[:1], details])}",
            path=package.source,
        ) from error
    if isinstance(descr, InvalidDescr):
        raise InputError(
            f"invalid bioimage.io model description: {first_error(descr)}",
            path=package.source,
        )
    if not isinstance(descr, ModelDescr):
        raise InputError(
            f"not a bioimage.io model description (its type is {descr.type!r})",
            path=package.source,
        )
    return descr


def first_error(descr: Any) -> str:
    """The first validation error of a description, as one line."""
    for detail in descr.validation_summary.details:
        for error in detail.errors:
            where = ".".join(str(part) for part in error.loc)
            return f"{where}: {error.msg}" if where else error.msg
    return "unknown validation error"


@dataclass
class WeightsAvailability:
    """One weight format of a description: where its file is and whether it can run here."""

    format: str
    source: str
    local: bool
    runtime: str
    runtime_installed: bool
    declared_sha256: str | None
    missing_files: list[str]
    code: str | None = None
    """The package code these weights run (an architecture, a Lambda layer), or None."""
    code_allowed: bool = False

    @property
    def location(self) -> str:
        """``local`` (in the package), ``remote`` (a URL) or ``missing`` (named, not present)."""
        if self.local:
            return "local"
        return "remote" if is_remote(self.source) else "missing"

    @property
    def runnable(self) -> bool:
        return (
            self.local
            and self.runtime_installed
            and not self.missing_files
            and (self.code is None or self.code_allowed)
        )

    def reason(self) -> str:
        """Why the format cannot run here (empty when it can)."""
        if not self.local:
            if self.location == "missing":
                return f"{self.source} is not in the package"
            return f"weights are only remote ({self.source})"
        if self.missing_files:
            return f"{', '.join(self.missing_files)} not in the package"
        if self.code is not None and not self.code_allowed:
            return (
                f"runs code from the package ({self.code}), refused: "
                f"{' and '.join(CODE_FREE_FORMATS)} weights run without code "
                f"(allow it with {OPT_IN})"
            )
        if self.format not in _RUNTIME:
            return (
                f"fairio-tools does not run {self.format} weights; it runs "
                f"{', '.join(WEIGHT_PREFERENCE)}"
            )
        if not self.runtime_installed:
            extra = _EXTRA.get(self.format)
            install = f": pip install 'fairio-tools[{extra}]'" if extra else ""
            return f"needs {self.runtime}, which is not installed{install}"
        return ""

    @property
    def missing_extra(self) -> str | None:
        """The extra to install when that alone keeps these weights from running."""
        if self.runtime_installed or not self.local or self.missing_files:
            return None
        if self.code is not None and not self.code_allowed:
            return None
        return _EXTRA.get(self.format)


def weights_availability(
    package: ModelPackage, descr: ModelDescr, allow_code: bool = False
) -> list[WeightsAvailability]:
    """Every weight format of ``descr`` with its local/remote status, runtime and code."""
    found = []
    for name, entry in descr.weights:
        if entry is None:
            continue
        runtime = _RUNTIME.get(name, name)
        missing = []
        architecture = getattr(entry, "architecture", None)
        arch_source = getattr(architecture, "source", None)
        if arch_source is not None and local_file(package, arch_source) is None:
            missing.append(f"architecture {arch_source}")
        path = local_file(package, entry.source)
        installed = name in _RUNTIME and (
            not extras.missing(_EXTRA[name]) if name in _EXTRA else _installed(runtime)
        )
        code = None if architecture is None else _architecture_code(architecture)
        if name == "tensorflow_saved_model_bundle":
            code = f"the TensorFlow graph in {entry.source}"
        if name == "keras_hdf5" and path is not None and installed:
            from fairio_tools.models.keras_config import keras_code

            code = keras_code(path)
        found.append(
            WeightsAvailability(
                format=name,
                source=str(entry.source),
                local=path is not None,
                runtime=runtime,
                runtime_installed=installed,
                declared_sha256=None if entry.sha256 is None else str(entry.sha256),
                missing_files=missing,
                code=code,
                code_allowed=allow_code,
            )
        )
    return found


def require_runtime(package: ModelPackage, candidates: list[WeightsAvailability]) -> None:
    """Stop with the one line naming the extra to install when the first of ``candidates``
    (by preference) that only lacks its runtime's extra is all that keeps a model from
    running."""
    for weights in sorted(candidates, key=lambda w: _preference(w.format)):
        extra = weights.missing_extra
        if extra is not None:
            extras.require(extra, f"{package.source}: running {weights.format} weights")


def _preference(weight_format: str) -> int:
    if weight_format in WEIGHT_PREFERENCE:
        return WEIGHT_PREFERENCE.index(weight_format)
    return len(WEIGHT_PREFERENCE)


def _architecture_code(architecture: Any) -> str:
    source = getattr(architecture, "source", None)
    if source is not None:
        return f"{source}, callable {architecture.callable}"
    return f"{architecture.import_from}.{architecture.callable} with the package's arguments"


def choose_weights(
    package: ModelPackage, descr: ModelDescr, requested: str | None, allow_code: bool = False
) -> WeightsAvailability:
    """The weight format to run: ``requested``, or the first runnable of onnx > torchscript >
    pytorch_state_dict (the last only with ``allow_code``). Explains plainly when none can
    run."""
    available = {w.format: w for w in weights_availability(package, descr, allow_code)}
    if requested is not None:
        weights = available.get(requested)
        if weights is None:
            raise InputError(
                f"the model has no {requested} weights (it has {', '.join(available) or 'none'})",
                path=package.source,
                field="weights",
            )
        if not weights.runnable:
            require_runtime(package, [weights])
            raise InputError(
                f"{requested} weights cannot run here: {weights.reason()}",
                path=package.source,
                field=f"weights.{requested}",
            )
        return weights
    for name in WEIGHT_PREFERENCE:
        weights = available.get(name)
        if weights is not None and weights.runnable:
            return weights
    require_runtime(package, list(available.values()))
    reasons = "; ".join(f"{w.format}: {w.reason()}" for w in available.values())
    raise InputError(
        f"no runnable weights in the package ({reasons or 'no weights declared'})",
        path=package.source,
        field="weights",
    )


def verify_weight_files(
    package: ModelPackage, descr: ModelDescr, weights: WeightsAvailability
) -> str:
    """Check the sha256 of ``weights``' file (and its architecture's); return the weights'."""
    actual = verify_sha256(
        package, weights.source, weights.declared_sha256, f"weights.{weights.format}.sha256"
    )
    architecture = getattr(getattr(descr.weights, weights.format), "architecture", None)
    if getattr(architecture, "sha256", None) is not None:
        verify_sha256(
            package,
            architecture.source,
            architecture.sha256,
            f"weights.{weights.format}.architecture.sha256",
        )
    return actual


def load_adapter(
    package: ModelPackage,
    descr: ModelDescr,
    weights: WeightsAvailability,
    device: str,
    threads: int | None = None,
) -> Any:
    """bioimageio.core's model adapter for exactly ``weights`` (no other format is tried),
    on ``device`` (refused when not available here) with ``threads`` CPU threads (None: the
    runtime's default)."""
    if weights.format == "pytorch_state_dict":
        _require_safe_torch_load()
    if weights.format in ("keras_hdf5", "tensorflow_saved_model_bundle"):
        quiet_tensorflow()
    # its adapter calls model.predict(*inputs): the 2nd is batch_size
    if weights.format == "keras_hdf5" and len(descr.inputs) > 1:
        raise InputError(
            f"keras_hdf5 weights with {len(descr.inputs)} inputs are not run: "
            "bioimageio.core would pass the second input to Keras as its batch size",
            path=package.source,
            field="weights.keras_hdf5",
        )
    quiet_bioimageio()
    from bioimageio.core.backends import create_model_adapter

    from fairio_tools.models.devices import runtime_devices
    from fairio_tools.threads import model_threads

    devices = runtime_devices(weights.format, device)
    with model_workspace(package, descr, weights):
        try:
            with model_threads(weights.format, threads):
                return create_model_adapter(
                    descr, devices=devices, weight_format_priority_order=[weights.format]
                )
        except Exception as error:
            while isinstance(error, BaseExceptionGroup) and error.exceptions:
                error = error.exceptions[0]  # the first device's reason, not "2 sub-exceptions"
            text = str(error).strip()
            raise InputError(
                f"cannot load the {weights.format} weights on {device}: "
                f"{text.splitlines()[0] if text else repr(error)}",
                path=package.source,
                field=f"weights.{weights.format}",
            ) from error


def model_workspace(
    package: ModelPackage, descr: ModelDescr, weights: WeightsAvailability
) -> contextlib.AbstractContextManager[Any]:
    """Where bioimageio.core loads ``weights``: for a SavedModel, a checked bundle's temporary
    folder as the working directory (``saved_model``); otherwise nothing changes."""
    if weights.format != "tensorflow_saved_model_bundle":
        return contextlib.nullcontext()
    from fairio_tools.models.saved_model import saved_model_workspace

    return saved_model_workspace(package, descr)


def _require_safe_torch_load() -> None:
    """Refuse torch versions whose ``torch.load`` cannot be restricted to ``weights_only``."""
    import torch

    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    if (major, minor) < (1, 13):
        raise InputError(
            f"torch {torch.__version__} cannot load state dicts with weights_only=True, so "
            "pytorch_state_dict weights are refused",
            field="weights.pytorch_state_dict",
            hint="install torch >= 1.13 or use the model's onnx or torchscript weights",
        )


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def offline_test_content(package: ModelPackage) -> tuple[dict[str, Any], dict[str, str]]:
    """The raw description and ``known_files`` with which bioimageio.core tests offline.

    Local files are given their real sha256 (bioimage.io compares them with the declared
    ones); files that are remote or absent keep their declared hash and are never fetched.
    """
    content = copy.deepcopy(package.content)
    known: dict[str, str] = {}
    _collect_known_files(package, content, known)
    return content, known


def _collect_known_files(package: ModelPackage, node: Any, known: dict[str, str]) -> None:
    if isinstance(node, dict):
        source = node.get("source")
        if isinstance(source, str):
            path = None if is_remote(source) else local_file(package, source)
            if path is not None:
                known[source] = sha256_of(path)
            else:
                # bioimage.io would download (or fail on) what is not here: declare it known
                # and drop the hash so its cache does not try to fetch it either.
                known[source] = str(node.pop("sha256", None) or _PLACEHOLDER_SHA256)
        for value in node.values():
            _collect_known_files(package, value, known)
    elif isinstance(node, list):
        for value in node:
            _collect_known_files(package, value, known)
    elif isinstance(node, str) and is_remote(node):
        for spelling in (node, node.rstrip("/") + "/"):  # pydantic may add a trailing slash
            known.setdefault(spelling, _PLACEHOLDER_SHA256)
