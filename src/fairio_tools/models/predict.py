"""Run a bioimage.io model on images: declared processing, seamless tiling, provenance.

Preprocessing is applied to each whole input at once, so statistics such as the mean and
standard deviation of ``zero_mean_unit_variance`` are those of the whole image, shared by
every tile. The preprocessed inputs are cut into tiles the model accepts (``tiling``), each
tile's halo-free centre is stitched into every output on its (possibly rescaled) grid
(``axes``), and postprocessing runs on the whole outputs. Model inference itself is
bioimageio.core's model adapter (onnxruntime, torch).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fairio_tools import limits
from fairio_tools.errors import InputError
from fairio_tools.models import tiling
from fairio_tools.models.axes import check_output_shape, grid_link, input_halo
from fairio_tools.models.describe import model_version
from fairio_tools.models.descriptions import (
    choose_weights,
    load_adapter,
    load_model,
    refuse_custom_processing,
    verify_weight_files,
)
from fairio_tools.models.devices import used_device
from fairio_tools.models.layout import arrange_for_model, guess_axes, model_axis_name
from fairio_tools.models.package import ModelPackage
from fairio_tools.models.provenance import PredictionProvenance, now, software_versions

if TYPE_CHECKING:
    from bioimageio.spec.model.v0_5 import ModelDescr

Progress = Callable[[int, int], None]


@dataclass
class InputImage:
    """One input tensor's image: pixels, their axes (None: guess) and where they came from."""

    data: np.ndarray
    axes: list[str] | None
    source: Any


@dataclass
class OutputImage:
    """One output tensor of the model (batch axis dropped) with its axis names."""

    output_id: str
    data: np.ndarray
    axes: list[str]


@dataclass
class Prediction:
    """Every output of the model and how they were made."""

    outputs: list[OutputImage]
    provenance: PredictionProvenance

    @property
    def data(self) -> np.ndarray:
        """The first output's pixels (the only one of most models)."""
        return self.outputs[0].data

    @property
    def axes(self) -> list[str]:
        return self.outputs[0].axes

    def output(self, output_id: str) -> OutputImage:
        return next(o for o in self.outputs if o.output_id == output_id)


class Predictor:
    """A loaded model, ready to predict images one after another."""

    def __init__(
        self,
        package: ModelPackage,
        weight_format: str | None = None,
        device: str = "cpu",
        allow_code: bool = False,
        threads: int | None = None,
    ) -> None:
        """Load ``package``'s weights (``weight_format``, or the preferred runnable one) to
        run on ``device`` with ``threads`` CPU threads (default: the runtime's own choice).

        Weights that run the package's own Python code, and custom processing, are refused
        unless ``allow_code``.
        """
        self.package = package
        self.descr: ModelDescr = load_model(package)
        refuse_custom_processing(package, self.descr, allow_code)
        self.weights = choose_weights(package, self.descr, weight_format, allow_code)
        self.weights_sha256 = verify_weight_files(package, self.descr, self.weights)
        self.adapter = load_adapter(package, self.descr, self.weights, device, threads)
        self.device = used_device(self.adapter, device)
        self._pipeline = self._create_pipeline()
        self._software = software_versions()  # read once: package metadata parsing is slow

    @property
    def input_ids(self) -> list[str]:
        return [str(t.id) for t in self.descr.inputs]

    @property
    def output_ids(self) -> list[str]:
        return [str(t.id) for t in self.descr.outputs]

    @property
    def tiled_axes(self) -> list[str]:
        """The inputs' spatial (and time) axes, in the order ``--tile`` names them."""
        names: list[str] = []
        for tensor in self.descr.inputs:
            names += [str(a.id) for a in _spatial(tensor) if str(a.id) not in names]
        return names

    def predict(
        self,
        data: np.ndarray,
        axes: list[str] | None,
        source: Any,
        tile: dict[str, int] | None = None,
        progress: Progress | None = None,
    ) -> Prediction:
        """Predict ``data`` (whose axes are ``axes``; guessed when None) with a one-input
        model."""
        if len(self.descr.inputs) != 1:
            raise InputError(
                f"the model has {len(self.descr.inputs)} inputs "
                f"({', '.join(self.input_ids)}): give an image for each",
                path=self.package.source,
            )
        return self.predict_images(
            {self.input_ids[0]: InputImage(data, axes, source)}, tile, progress
        )

    def predict_images(
        self,
        images: dict[str, InputImage],
        tile: dict[str, int] | None = None,
        progress: Progress | None = None,
    ) -> Prediction:
        """Predict with one image per input tensor (by its id), tile by tile."""
        from bioimageio.core import Sample, Tensor

        started = now()
        missing = [i for i in self.input_ids if i not in images]
        unknown = [i for i in images if i not in self.input_ids]
        if missing or unknown:
            raise InputError(
                f"the model's inputs are {', '.join(self.input_ids)}; "
                + (
                    f"no image given for {', '.join(missing)}"
                    if missing
                    else f"it has no input {', '.join(unknown)}"
                ),
                path=self.package.source,
                field="--input",
            )
        members = {}
        for tensor in self.descr.inputs:
            image = images[str(tensor.id)]
            axes = image.axes or guess_axes(image.data.shape, tensor, image.source)
            arranged, _ = arrange_for_model(image.data, axes, tensor, image.source)
            members[tensor.id] = Tensor.from_numpy(arranged, dims=_dims(tensor))
        sample = Sample(members=members, stat={}, id="image")
        del members  # the sample holds them; preprocessing replaces them
        self._pipeline.apply_preprocessing(sample)  # statistics of the WHOLE images
        prepared = {str(t.id): _as_declared(sample.members[t.id], t) for t in self.descr.inputs}
        sample.members.clear()  # only its statistics are needed again (postprocessing)
        first_source = next(iter(images.values())).source
        plans = self._plans(prepared, tile or {}, first_source)
        results, count = self._predict_tiles(prepared, plans, progress, first_source)

        out_sample = Sample(
            members={
                t.id: Tensor.from_numpy(results[str(t.id)], dims=_dims(t))
                for t in self.descr.outputs
            },
            stat=sample.stat,
            id="image",
        )
        del results  # the sample holds them; postprocessing replaces them
        self._pipeline.apply_postprocessing(out_sample)
        outputs = []
        for tensor in self.descr.outputs:
            values = out_sample.members[tensor.id].transpose(_dims(tensor)).data.to_numpy()
            names = [model_axis_name(a) for a in tensor.axes]
            if names[0] == "b":
                values, names = values[0], names[1:]
            outputs.append(OutputImage(str(tensor.id), values, names))
        tile_size: dict[str, int] = {}
        for tensor_plans in plans.values():
            for axis_id, plan in tensor_plans.items():
                tile_size.setdefault(axis_id, plan.tile_size)
        provenance = PredictionProvenance(
            model_name=self.descr.name,
            model_id=None if self.descr.id is None else str(self.descr.id),
            model_version=model_version(self.descr),
            model_source=Path(self.package.source).name,
            weight_format=self.weights.format,
            weights_sha256=self.weights_sha256,
            tile_size=tile_size,
            tiles=count,
            device=self.device,
            input_images={k: Path(str(v.source)).name for k, v in images.items()},
            started=started,
            ended=now(),
            software=dict(self._software),
        )
        return Prediction(outputs, provenance)

    def _predict_tiles(
        self,
        prepared: dict[str, np.ndarray],
        plans: dict[str, dict[str, tiling.AxisPlan]],
        progress: Progress | None,
        source: Any,
    ) -> tuple[dict[str, np.ndarray], int]:
        """Run the model tile by tile over the preprocessed inputs; stitch the tiles' centres
        into every output. Returns the raw (not yet postprocessed) outputs in their axis
        order, and the number of tiles."""
        from bioimageio.core import Tensor

        padded = {
            str(t.id): _padded(prepared[str(t.id)], t, plans[str(t.id)]) for t in self.descr.inputs
        }
        grid = _tile_grid(plans)
        extents = {
            (t, a): prepared[t].shape[_position(_tensor(self.descr.inputs, t), a)]
            for t, axes in plans.items()
            for a in axes
        }
        prepared.clear()  # the padded copies replace them: one copy of each input while tiling
        results: dict[str, np.ndarray] = {}
        for done, indices in enumerate(grid, start=1):
            blocks, origin, keep, tile_sizes = {}, {}, {}, {}
            for tensor in self.descr.inputs:
                tensor_id = str(tensor.id)
                index = [slice(None)] * padded[tensor_id].ndim
                for axis_id, plan in plans[tensor_id].items():
                    piece = plan.tiles[indices[axis_id] if len(plan.tiles) > 1 else 0]
                    index[_position(tensor, axis_id)] = slice(piece.start, piece.start + piece.size)
                    origin[tensor_id, axis_id] = piece.start - plan.pad_before
                    keep[tensor_id, axis_id] = (piece.keep_start, piece.keep_stop)
                    tile_sizes[tensor_id, axis_id] = piece.size
                block = np.ascontiguousarray(padded[tensor_id][tuple(index)])
                blocks[tensor.id] = Tensor.from_numpy(block, dims=_dims(tensor))
            produced = self.adapter.forward(blocks)
            for output in self.descr.outputs:
                values = produced[output.id].transpose(_dims(output)).data.to_numpy()
                if output.id not in results:
                    check_output_shape(
                        self.descr, output, values.shape, tile_sizes, self.package.source
                    )
                    results[str(output.id)] = self._allocate(output, values, extents, source)
                take, put = self._placement(output, values, origin, keep, extents)
                results[str(output.id)][put] = values[take]
            if progress is not None:
                progress(done, len(grid))
        return results, len(grid)

    def _allocate(
        self, output: Any, first: np.ndarray, extents: dict[tuple[str, str], int], source: Any
    ) -> np.ndarray:
        """The whole output image: rescaled input extents on linked axes, else the tile's."""
        shape = list(first.shape)
        for i, axis in enumerate(output.axes):
            link = grid_link(self.descr, axis)
            if link is not None and (link.tensor_id, link.axis_id) in extents:
                extent = extents[link.tensor_id, link.axis_id]
                what = f"output {str(output.id)!r} axis {axis.id}"
                shape[i] = tiling.scaled(extent, link.factor, what) + link.offset
        what = f"bytes of the model's output {str(output.id)!r} in memory"
        nbytes = int(np.prod(shape, dtype=np.int64)) * first.dtype.itemsize
        limits.enforce("FAIRIO_MAX_DECODED_BYTES", nbytes, what, source)
        return np.empty(shape, dtype=first.dtype)

    def _placement(
        self,
        output: Any,
        values: np.ndarray,
        origin: dict[tuple[str, str], int],
        keep: dict[tuple[str, str], tuple[int, int]],
        extents: dict[tuple[str, str], int],
    ) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
        """Which part of a tile's output to keep, and where it goes in the whole output."""
        take = [slice(None)] * values.ndim
        put = [slice(None)] * values.ndim
        for i, axis in enumerate(output.axes):
            link = grid_link(self.descr, axis)
            if link is None or (link.tensor_id, link.axis_id) not in keep:
                continue
            key = (link.tensor_id, link.axis_id)
            start, stop = keep[key]
            what = f"output {str(output.id)!r} axis {axis.id}"
            if start == 0 and stop == extents[key] and origin[key] == 0:  # the whole axis
                stop_out = tiling.scaled(stop, link.factor, what) + link.offset
                take[i] = put[i] = slice(0, stop_out)
                continue
            first = tiling.scaled(start - origin[key], link.factor, what)
            last = tiling.scaled(stop - origin[key], link.factor, what)
            take[i] = slice(first, last)
            put[i] = slice(
                tiling.scaled(start, link.factor, what), tiling.scaled(stop, link.factor, what)
            )
        return tuple(take), tuple(put)

    def _create_pipeline(self) -> Any:
        from bioimageio.core import create_prediction_pipeline

        pipeline = create_prediction_pipeline(
            self.descr, weights_format=self.weights.format, model_adapter=self.adapter
        )
        _one_calculator_per_statistic(pipeline)
        return pipeline

    def _plans(
        self, prepared: dict[str, np.ndarray], requested: dict[str, int], source: Any
    ) -> dict[str, dict[str, tiling.AxisPlan]]:
        """Per input and spatial axis, how it is tiled; refuses what cannot be stitched."""
        unknown = set(requested) - set(self.tiled_axes)
        if unknown:
            raise InputError(
                f"--tile names axes {sorted(unknown)} the model inputs do not have "
                f"(their spatial axes: {', '.join(self.tiled_axes)})",
                field="--tile",
            )
        plans: dict[str, dict[str, tiling.AxisPlan]] = {}
        for tensor in self.descr.inputs:
            tensor_id = str(tensor.id)
            plans[tensor_id] = {}
            for axis in _spatial(tensor):
                axis_id = str(axis.id)
                extent = prepared[tensor_id].shape[_position(tensor, axis_id)]
                size = _axis_size(axis, source)
                halo = input_halo(self.descr, tensor_id, axis_id)
                tile = tiling.choose_tile_size(extent, size, halo, requested.get(axis_id))
                multiple = self._input_multiple(tensor_id, axis_id)
                plans[tensor_id][axis_id] = tiling.plan_axis(extent, tile, halo, multiple)
        self._refuse_unstitchable(plans, source)
        return plans

    def _input_multiple(self, tensor_id: str, axis_id: str) -> int:
        """Input pixels per output pixel (1 unless an output on this axis' grid is coarser)."""
        multiple = 1
        for output in self.descr.outputs:
            for axis in output.axes:
                link = grid_link(self.descr, axis)
                if link and (link.tensor_id, link.axis_id) == (tensor_id, axis_id):
                    multiple = np.lcm(multiple, link.factor.denominator)
        return int(multiple)

    def _refuse_unstitchable(
        self, plans: dict[str, dict[str, tiling.AxisPlan]], source: Any
    ) -> None:
        tiled = {
            (t, a)
            for t, axes in plans.items()
            for a, p in axes.items()
            if len(p.tiles) > 1 or p.pad_after or p.pad_before
        }
        if not tiled:
            return
        for output in self.descr.outputs:
            links = [grid_link(self.descr, a) for a in _spatial(output)]
            if any(
                link is None or (link.offset and (link.tensor_id, link.axis_id) in tiled)
                for link in links
            ):
                raise InputError(
                    "the image needs tiling or padding, but the model's output "
                    f"{str(output.id)!r} is not on the input's pixel grid, so fairio-tools "
                    "cannot stitch or crop it",
                    path=source,
                    hint="give an image of exactly a size the model accepts",
                )
        by_axis: dict[str, set[tiling.AxisPlan]] = {}
        for axes in plans.values():
            for axis_id, plan in axes.items():
                if len(plan.tiles) > 1:
                    by_axis.setdefault(axis_id, set()).add(plan)
        if any(len(found) > 1 for found in by_axis.values()):
            raise InputError(
                "the model's inputs need tiling but differ in size or tile: fairio-tools "
                "tiles several inputs only on one shared grid",
                path=source,
                hint="give inputs of the same size, or small enough to run whole",
            )


def _as_declared(member: Any, tensor: Any) -> np.ndarray:
    """A preprocessed tensor as numpy, in the tensor's axis order and declared data type."""
    values = member.transpose(_dims(tensor)).data.to_numpy()
    declared = _data_type(tensor)
    return values.astype(declared) if declared and values.dtype != np.dtype(declared) else values


def _padded(array: np.ndarray, tensor: Any, plans: dict[str, tiling.AxisPlan]) -> np.ndarray:
    """``array`` mirrored at its borders by what its tile plans ask for."""
    padding = [(0, 0)] * array.ndim
    for axis_id, plan in plans.items():
        padding[_position(tensor, axis_id)] = (plan.pad_before, plan.pad_after)
    return np.pad(array, padding, mode="symmetric") if any(map(any, padding)) else array


def _tile_grid(plans: dict[str, dict[str, tiling.AxisPlan]]) -> list[dict[str, int]]:
    """Every combination of tile indices over the axes tiled in more than one tile."""
    counts: dict[str, int] = {}
    for axes in plans.values():
        for axis_id, plan in axes.items():
            counts[axis_id] = max(counts.get(axis_id, 1), len(plan.tiles))
    names = list(counts)
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(range(counts[n]) for n in names))
    ]


def _spatial(tensor: Any) -> list[Any]:
    return [a for a in tensor.axes if a.type in ("space", "time")]


def _dims(tensor: Any) -> list[Any]:
    return [axis.id for axis in tensor.axes]


def _position(tensor: Any, axis_id: str) -> int:
    return [str(a.id) for a in tensor.axes].index(axis_id)


def _tensor(tensors: Any, tensor_id: str) -> Any:
    return next(t for t in tensors if str(t.id) == tensor_id)


def _axis_size(axis: Any, source: Any) -> tiling.AxisSize:
    size = axis.size
    if isinstance(size, int):
        return tiling.AxisSize(size)
    if hasattr(size, "step"):
        return tiling.AxisSize(size.min, size.step)
    raise InputError(
        f"the model's input axis {axis.id} has a size fairio-tools cannot tile ({size!r})",
        path=source,
    )


def _data_type(tensor: Any) -> str | None:
    data = getattr(tensor, "data", None)
    kind = getattr(data, "type", None)
    return None if kind is None or kind == "bool" else str(kind)


def parse_tile(text: str | None, axis_ids: list[str]) -> dict[str, int]:
    """``--tile 512,512`` (sizes in the order of the model's spatial axes) as a dict."""
    if not text:
        return {}
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError as error:
        raise InputError(f"--tile {text!r} is not a list of integers", field="--tile") from error
    if len(sizes) != len(axis_ids):
        raise InputError(
            f"--tile gives {len(sizes)} sizes, but the model tiles {len(axis_ids)} axes "
            f"({','.join(axis_ids)})",
            field="--tile",
        )
    return dict(zip(axis_ids, sizes, strict=True))


def predict_with_model(
    model: Path,
    images: dict[str | None, Path],
    outputs: dict[str | None, Path],
    *,
    output_format: str | None,
    weight_format: str | None = None,
    tile: str | None = None,
    device: str = "cpu",
    axes: str | None = None,
    level: int = 0,
    provenance_path: Path | None = None,
    progress: Progress | None = None,
    allow_code: bool = False,
    threads: int | None = None,
    ngff_version: str | None = None,
) -> Prediction:
    """Predict with MODEL on ``images`` (by input id; None: the first input) and write
    ``outputs`` (by output id; None: the first output) as ``ome-zarr`` (NGFF
    ``ngff_version``, None: the default) or ``tiff`` (None: from each name's suffix) with
    provenance; the model runs on ``threads`` CPU threads. ``axes`` are those of images whose
    file does not say."""
    import json

    from fairio_tools.models.image_io import (
        prediction_format,
        read_image,
        refuse_existing,
        write_prediction,
    )
    from fairio_tools.models.package import open_model_package

    fmt = prediction_format(ngff_version)
    for target in outputs.values():
        refuse_existing(target)
    sources = {key: read_image(path, level) for key, path in images.items()}
    with open_model_package(model) as package:
        predictor = Predictor(package, weight_format, device, allow_code, threads)
        named_inputs = _by_id(images, predictor.input_ids, "input", package.source)
        absent = [i for i in predictor.input_ids if i not in named_inputs]
        if absent:
            raise InputError(
                f"the model's inputs are {', '.join(predictor.input_ids)}: no image given "
                f"for {', '.join(absent)} (--input ID=PATH)",
                path=package.source,
                field="--input",
            )
        named_outputs = _by_id(outputs, predictor.output_ids, "output", package.source)
        skipped = [i for i in predictor.output_ids if i not in named_outputs]
        if len(predictor.output_ids) > 1 and skipped and None in outputs:
            raise InputError(
                f"the model has outputs {', '.join(predictor.output_ids)}: name where each "
                f"goes (--output ID=PATH), none given for {', '.join(skipped)}",
                path=package.source,
                field="--output",
            )
        given = {}
        for input_id, key in named_inputs.items():
            source = sources[key]
            image_axes = list(axes) if axes else source.axes
            given[input_id] = InputImage(source.data, image_axes, images[key])
        sizes = parse_tile(tile, predictor.tiled_axes)
        prediction = predictor.predict_images(given, sizes, progress)
    scale_source = sources[named_inputs[predictor.input_ids[0]]]
    record = prediction.provenance.to_dict()
    for output_id, key in named_outputs.items():
        target = outputs[key]
        result = prediction.output(output_id)
        jsonld = prediction.provenance.to_jsonld(target.name, output_id)
        jsonld_text = json.dumps(jsonld, indent=2) + "\n"
        scale = {a: scale_source.scale[a] for a in result.axes if a in scale_source.scale}
        write_prediction(
            result.data,
            result.axes,
            _rescaled(scale, predictor, output_id),
            target,
            output_format or _format_of(target),
            {"fairio_prediction": {**record, "output_id": output_id}},
            jsonld_text,
            fmt,
        )
        if provenance_path is not None and output_id == predictor.output_ids[0]:
            provenance_path.write_text(jsonld_text, encoding="utf-8")
    return prediction


def _by_id(
    given: dict[str | None, Path], ids: list[str], kind: str, source: Path
) -> dict[str, str | None]:
    """Tensor id -> the key it was given by (None stands for the first tensor)."""
    unknown = [k for k in given if k is not None and k not in ids]
    if unknown:
        raise InputError(
            f"the model has no {kind} {', '.join(unknown)} (its {kind}s: {', '.join(ids)})",
            path=source,
            field=f"--{kind}",
        )
    named: dict[str, str | None] = {k: k for k in given if k is not None}
    if None in given:
        if ids[0] in named:
            raise InputError(f"{kind} {ids[0]} is given twice", path=source, field=f"--{kind}")
        named[ids[0]] = None
    return named


SUFFIX_FORMATS = {".zarr": "ome-zarr", ".tif": "tiff", ".tiff": "tiff"}
"""The output format a target's suffix names when ``--format`` is not given."""


def _format_of(target: Path) -> str:
    found = SUFFIX_FORMATS.get(target.suffix.lower())
    if found is None:
        raise InputError(
            "cannot tell the output format from the name",
            path=target,
            hint="end it in .ome.zarr or .tif, or pass --format",
        )
    return found


def _rescaled(
    scale: dict[str, tuple[float, str | None]], predictor: Predictor, output_id: str
) -> dict[str, tuple[float, str | None]]:
    """The input's pixel sizes on an output's grid (divided by its factor where rescaled)."""
    output = _tensor(predictor.descr.outputs, output_id)
    result = dict(scale)
    for axis in output.axes:
        link = grid_link(predictor.descr, axis)
        name = model_axis_name(axis)
        if link is not None and name in result and link.factor != 1:
            value, unit = result[name]
            result[name] = (float(value / link.factor), unit)
    return result


def _one_calculator_per_statistic(pipeline: Any) -> None:
    """Compute each tensor's mean, variance and standard deviation once per sample.

    bioimageio.core 0.11 adds one ``MeanVarStdCalculator`` for each of the three measures of
    a tensor, and each computes all three: identical work, done three times (a third of a
    512 x 512 prediction's overhead). The duplicates are dropped; the one kept is core's own,
    so the values are unchanged.
    """
    from bioimageio.core.proc_ops import UpdateStats
    from bioimageio.core.stat_calculators import MeanVarStdCalculator

    operators = [
        op
        for name in ("_samplewise_preprocessing", "_samplewise_postprocessing")
        for op in getattr(pipeline, name, ())
        if isinstance(op, UpdateStats)
    ]
    for op in operators:
        calculator = op.stats_calculator
        for name in ("sample_calculators", "dataset_calculators"):
            kept, seen = [], set()
            for each in getattr(calculator, name):
                key = (
                    (each._member_id, each._axes)
                    if type(each) is MeanVarStdCalculator
                    else id(each)
                )
                if key not in seen:
                    seen.add(key)
                    kept.append(each)
            setattr(calculator, name, kept)
