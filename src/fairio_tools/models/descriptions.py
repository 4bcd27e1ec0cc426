"""Load bioimage.io model descriptions offline and tell which weights can run here.

bioimage.io's loader, left to its defaults, downloads every remote file a description
names (to check its sha256) and fails without internet. fairio-tools loads with
``perform_io_checks=False`` and checks the files it uses itself (``package.verify_sha256``);
for bioimageio.core's own test it passes ``known_files`` so nothing remote is fetched.
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from fairio_tools.errors import InputError
from fairio_tools.models.package import ModelPackage, is_remote, local_file, sha256_of

if TYPE_CHECKING:
    from bioimageio.spec.model.v0_5 import ModelDescr

WEIGHT_PREFERENCE = ("onnx", "torchscript", "pytorch_state_dict")
"""Weight formats fairio-tools runs, most preferred first."""

_RUNTIME = {"onnx": "onnxruntime", "torchscript": "torch", "pytorch_state_dict": "torch"}
_PLACEHOLDER_SHA256 = "0" * 64


def quiet_bioimageio() -> None:
    """Silence bioimage.io's loguru logging and progress bars (we report errors ourselves)."""
    import os

    os.environ.setdefault("BIOIMAGEIO_LOG_WARNINGS", "false")
    from loguru import logger

    logger.disable("bioimageio")


def load_model(package: ModelPackage) -> ModelDescr:
    """Load the package's description as a spec-0.5 model, without touching the network."""
    quiet_bioimageio()
    from bioimageio.spec import InvalidDescr, load_model_description

    try:
        with warnings.catch_warnings():  # conversion notes from 0.4; errors are reported below
            warnings.simplefilter("ignore")
            descr = load_model_description(
                package.description, perform_io_checks=False, format_version="latest"
            )
    except ValueError as error:  # not a model, unknown format version, ...
        raise InputError(
            f"not a usable bioimage.io model description: {error}", path=package.source
        ) from error
    if isinstance(descr, InvalidDescr):
        raise InputError(
            f"invalid bioimage.io model description: {first_error(descr)}",
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

    @property
    def location(self) -> str:
        """``local`` (in the package), ``remote`` (a URL) or ``missing`` (named, not present)."""
        if self.local:
            return "local"
        return "remote" if is_remote(self.source) else "missing"

    @property
    def runnable(self) -> bool:
        return self.local and self.runtime_installed and not self.missing_files

    def reason(self) -> str:
        """Why the format cannot run here (empty when it can)."""
        if not self.local:
            if self.location == "missing":
                return f"{self.source} is not in the package"
            return f"weights are only remote ({self.source})"
        if self.missing_files:
            return f"{', '.join(self.missing_files)} not in the package"
        if not self.runtime_installed:
            extra = " (install fairio-tools[torch])" if self.runtime == "torch" else ""
            return f"needs {self.runtime}, which is not installed{extra}"
        return ""


def weights_availability(package: ModelPackage, descr: ModelDescr) -> list[WeightsAvailability]:
    """Every weight format of ``descr`` with its local/remote status and runtime."""
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
        found.append(
            WeightsAvailability(
                format=name,
                source=str(entry.source),
                local=local_file(package, entry.source) is not None,
                runtime=runtime,
                runtime_installed=name in _RUNTIME and _installed(runtime),
                declared_sha256=None if entry.sha256 is None else str(entry.sha256),
                missing_files=missing,
            )
        )
    return found


def choose_weights(
    package: ModelPackage, descr: ModelDescr, requested: str | None
) -> WeightsAvailability:
    """The weight format to run: ``requested``, or the first runnable of onnx > torchscript >
    pytorch_state_dict. Explains plainly when none can run."""
    available = {w.format: w for w in weights_availability(package, descr)}
    if requested is not None:
        weights = available.get(requested)
        if weights is None:
            raise InputError(
                f"the model has no {requested} weights (it has {', '.join(available) or 'none'})",
                path=package.source,
                field="weights",
            )
        if not weights.runnable:
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
    reasons = "; ".join(f"{w.format}: {w.reason()}" for w in available.values())
    raise InputError(
        f"no runnable weights in the package ({reasons or 'no weights declared'})",
        path=package.source,
        field="weights",
    )


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def offline_test_content(package: ModelPackage) -> tuple[dict[str, Any], dict[str, str]]:
    """The raw description and ``known_files`` with which bioimageio.core tests offline.

    Local files are given their real sha256 (bioimage.io compares them with the declared
    ones); files that are remote or absent keep their declared hash and are never fetched.
    """
    content = yaml.safe_load(package.description.read_text(encoding="utf-8"))
    if not isinstance(content, dict):
        raise InputError("description is not a YAML mapping", path=package.description)
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
