"""Run a model package's own test (bioimageio.core) offline, per runnable weight format."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fairio_tools.errors import InputError
from fairio_tools.models.descriptions import (
    WEIGHT_PREFERENCE,
    load_adapter,
    load_model,
    model_workspace,
    offline_test_content,
    quiet_bioimageio,
    refuse_custom_processing,
    require_runtime,
    verify_weight_files,
    weights_availability,
)
from fairio_tools.models.package import ModelPackage


@dataclass
class Check:
    """One check of bioimageio.core's test, as it reported it."""

    name: str
    status: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ModelTestReport:
    """The outcome of ``model-test``: tested and skipped weight formats, checks, pass/fail."""

    model: str
    passed: bool
    tested_weight_formats: list[str]
    skipped_weight_formats: dict[str, str]
    checks: list[Check]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_model_test(
    package: ModelPackage,
    weight_format: str | None = None,
    device: str = "cpu",
    allow_code: bool = False,
    threads: int | None = None,
) -> ModelTestReport:
    """Run bioimageio.core's test of ``package`` with every locally runnable weight format
    (or only ``weight_format``), without network access. Weights that run the package's own
    code are tested only with ``allow_code``; their files' sha256 are checked first. Models
    run on ``threads`` CPU threads (None: the runtime's default)."""
    descr = load_model(package)
    refuse_custom_processing(package, descr, allow_code)
    available = weights_availability(package, descr, allow_code)
    skipped = {w.format: w.reason() for w in available if not w.runnable}
    runnable = [w.format for w in available if w.runnable]
    if weight_format is not None:
        if weight_format not in {w.format for w in available}:
            raise InputError(
                f"the model has no {weight_format} weights", path=package.source, field="weights"
            )
        if weight_format in skipped:
            require_runtime(package, [w for w in available if w.format == weight_format])
            raise InputError(
                f"{weight_format} weights cannot run here: {skipped[weight_format]}",
                path=package.source,
                field=f"weights.{weight_format}",
            )
        runnable = [weight_format]
    if not runnable:
        require_runtime(package, available)
        reasons = "; ".join(f"{name}: {why}" for name, why in skipped.items())
        raise InputError(
            f"no runnable weights in the package, nothing to test ({reasons})",
            path=package.source,
            field="weights",
        )
    runnable.sort(key=lambda name: WEIGHT_PREFERENCE.index(name))
    for weights in available:
        if weights.format in runnable:  # corrupt files are refused, not reported as failed
            verify_weight_files(package, descr, weights)
            load_adapter(package, descr, weights, device, threads).unload()

    quiet_bioimageio()
    from bioimageio.core import test_description
    from bioimageio.spec import ValidationContext

    from fairio_tools.threads import model_threads

    content, known_files = offline_test_content(package)
    checks: list[Check] = []
    passed = True
    by_format = {w.format: w for w in available}
    for name in runnable:
        with (
            model_threads(name, threads),
            model_workspace(package, descr, by_format[name]),
            ValidationContext(
                root=package.description.parent,
                file_name=package.description.name,
                perform_io_checks=True,
                known_files=dict(known_files),
            ),
        ):
            summary = test_description(
                content, weight_format=name, devices=[device], expected_type="model"
            )
        passed = passed and summary.status == "passed"
        checks += [_check(detail, name) for detail in summary.details]
    return ModelTestReport(descr.name, passed, runnable, skipped, checks)


def _check(detail: Any, weight_format: str) -> Check:
    label = (
        detail.name if f"({weight_format})" in detail.name else f"{detail.name} [{weight_format}]"
    )
    return Check(
        name=label,
        status=str(detail.status),
        errors=[_entry(e) for e in detail.errors],
        warnings=[_entry(w) for w in detail.warnings],
    )


def _entry(entry: Any) -> str:
    where = ".".join(str(part) for part in entry.loc)
    message = str(entry.msg).strip().splitlines()[0] if str(entry.msg).strip() else ""
    return f"{where}: {message}" if where else message
