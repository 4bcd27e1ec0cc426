"""Run a bioimage.io model on an image: declared processing, seamless tiling, provenance.

Preprocessing is applied to the whole image at once, so statistics such as the mean and
standard deviation of ``zero_mean_unit_variance`` are those of the whole image, shared by
every tile. The preprocessed image is cut into tiles the model accepts (``tiling``), each
tile's halo-free centre is stitched into the output, and postprocessing runs on the whole
output. Model inference itself is bioimageio.core's model adapter (onnxruntime, torch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fairio_tools.errors import InputError
from fairio_tools.models import tiling
from fairio_tools.models.describe import model_version
from fairio_tools.models.descriptions import (
    choose_weights,
    load_adapter,
    load_model,
    refuse_custom_processing,
    verify_weight_files,
)
from fairio_tools.models.layout import arrange_for_model, guess_axes, model_axis_name
from fairio_tools.models.package import ModelPackage
from fairio_tools.models.provenance import PredictionProvenance, now, software_versions

if TYPE_CHECKING:
    from bioimageio.spec.model.v0_5 import ModelDescr

Progress = Callable[[int, int], None]


@dataclass
class Prediction:
    """The model's output image (batch axis dropped) and how it was made."""

    data: np.ndarray
    axes: list[str]
    output_id: str
    provenance: PredictionProvenance


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
        run on ``threads`` CPU threads (default: the runtime's own choice).

        Weights that run the package's own Python code, and custom processing, are refused
        unless ``allow_code``.
        """
        self.package = package
        self.device = device
        self.descr: ModelDescr = load_model(package)
        refuse_custom_processing(package, self.descr, allow_code)
        self.weights = choose_weights(package, self.descr, weight_format, allow_code)
        if len(self.descr.inputs) != 1:
            raise InputError(
                f"the model has {len(self.descr.inputs)} inputs; only single-input models "
                "are supported",
                path=package.source,
                field="inputs",
            )
        self.input = self.descr.inputs[0]
        self.output = self.descr.outputs[0]
        self.weights_sha256 = verify_weight_files(package, self.descr, self.weights)
        self.adapter = load_adapter(package, self.descr, self.weights, device, threads)
        self._spatial = [a for a in self.input.axes if a.type in ("space", "time")]
        self._halo = {str(a.id): _output_halo(self.descr, str(a.id)) for a in self._spatial}
        self._pipeline = self._create_pipeline()
        self._software = software_versions()  # read once: package metadata parsing is slow

    @property
    def tiled_axes(self) -> list[str]:
        """The model input's spatial (and time) axes, in the order ``--tile`` names them."""
        return [str(a.id) for a in self._spatial]

    def predict(
        self,
        data: np.ndarray,
        axes: list[str] | None,
        source: Any,
        tile: dict[str, int] | None = None,
        progress: Progress | None = None,
    ) -> Prediction:
        """Predict ``data`` (whose axes are ``axes``; guessed when None) tile by tile."""
        from bioimageio.core import Sample, Tensor
        from bioimageio.core.digest_spec import get_member_id

        started = now()
        axes = axes or guess_axes(data.shape, self.input, source)
        arranged, names = arrange_for_model(data, axes, self.input, source)
        input_id = get_member_id(self.input)
        sample = Sample(
            members={input_id: Tensor.from_numpy(arranged, dims=self._dims(self.input))},
            stat={},
            id="image",
        )
        self._pipeline.apply_preprocessing(sample)  # statistics of the WHOLE image
        prepared = sample.members[input_id].data.to_numpy()
        declared = _data_type(self.input)
        if declared and prepared.dtype != np.dtype(declared):
            prepared = prepared.astype(declared)

        position = {str(a.id): names.index(model_axis_name(a)) for a in self._spatial}
        plans = self._plans(prepared.shape, position, tile or {}, source)
        result, count = self._predict_tiles(prepared, position, plans, progress)

        output_id = get_member_id(self.output)
        out_dims = self._dims(self.output)
        out_names = [model_axis_name(a) for a in self.output.axes]
        out_sample = Sample(
            members={output_id: Tensor.from_numpy(result, dims=out_dims)},
            stat=sample.stat,
            id="image",
        )
        self._pipeline.apply_postprocessing(out_sample)
        values = out_sample.members[output_id].transpose(out_dims).data.to_numpy()
        if out_names[0] == "b":
            values, out_names = values[0], out_names[1:]
        provenance = PredictionProvenance(
            model_name=self.descr.name,
            model_id=None if self.descr.id is None else str(self.descr.id),
            model_version=model_version(self.descr),
            model_source=Path(self.package.source).name,
            weight_format=self.weights.format,
            weights_sha256=self.weights_sha256,
            tile_size={axis_id: plan.tile_size for axis_id, plan in plans.items()},
            tiles=count,
            device=self.device,
            input_image=Path(str(source)).name,
            started=started,
            ended=now(),
            software=dict(self._software),
        )
        return Prediction(values, out_names, str(output_id), provenance)

    def _predict_tiles(
        self,
        prepared: np.ndarray,
        position: dict[str, int],
        plans: dict[str, tiling.AxisPlan],
        progress: Progress | None,
    ) -> tuple[np.ndarray, int]:
        """Run the model tile by tile over the preprocessed image; stitch the tiles' centres.

        Returns the raw (not yet postprocessed) output in the output's axis order, and the
        number of tiles.
        """
        from bioimageio.core import Tensor
        from bioimageio.core.digest_spec import get_member_id

        input_id, output_id = get_member_id(self.input), get_member_id(self.output)
        dims, out_dims = self._dims(self.input), self._dims(self.output)
        padding = [(0, 0)] * prepared.ndim
        for axis_id, plan in plans.items():
            padding[position[axis_id]] = (0, plan.pad)
        padded = np.pad(prepared, padding, mode="symmetric") if any(map(any, padding)) else prepared
        out_position = {str(a.id): i for i, a in enumerate(self.output.axes)
                        if a.type in ("space", "time")}  # fmt: skip
        all_tiles = tiling.tiles(list(plans.values()))
        result: np.ndarray | None = None
        for done, piece in enumerate(all_tiles, start=1):
            index = [slice(None)] * padded.ndim
            for axis_id, read in zip(plans, piece.read, strict=True):
                index[position[axis_id]] = read
            block = Tensor.from_numpy(np.ascontiguousarray(padded[tuple(index)]), dims=dims)
            output = self.adapter.forward({input_id: block})[output_id]
            values = output.transpose(out_dims).data.to_numpy()
            if result is None:
                shape = list(values.shape)
                for axis_id, i in out_position.items():
                    if axis_id in plans:
                        shape[i] = prepared.shape[position[axis_id]]
                result = np.empty(shape, dtype=values.dtype)
            take = [slice(None)] * values.ndim
            put = [slice(None)] * values.ndim
            for axis_id, keep, write in zip(plans, piece.keep_in_tile, piece.write, strict=True):
                if axis_id in out_position:
                    take[out_position[axis_id]] = keep
                    put[out_position[axis_id]] = write
            result[tuple(put)] = values[tuple(take)]
            if progress is not None:
                progress(done, len(all_tiles))
        assert result is not None, "a plan always has at least one tile"
        return result, len(all_tiles)

    @staticmethod
    def _dims(tensor: Any) -> list[Any]:
        return [axis.id for axis in tensor.axes]

    def _create_pipeline(self) -> Any:
        from bioimageio.core import create_prediction_pipeline

        return create_prediction_pipeline(
            self.descr, weights_format=self.weights.format, model_adapter=self.adapter
        )

    def _plans(
        self,
        shape: tuple[int, ...],
        position: dict[str, int],
        requested: dict[str, int],
        source: Any,
    ) -> dict[str, tiling.AxisPlan]:
        unknown = set(requested) - set(position)
        if unknown:
            raise InputError(
                f"--tile names axes {sorted(unknown)} the model input does not have "
                f"(its spatial axes: {', '.join(position)})",
                field="--tile",
            )
        plans = {}
        for axis in self._spatial:
            axis_id = str(axis.id)
            extent = shape[position[axis_id]]
            size = _axis_size(axis, source)
            halo = self._halo[axis_id]
            tile = tiling.choose_tile_size(extent, size, halo, requested.get(axis_id))
            plans[axis_id] = tiling.plan_axis(extent, tile, halo)
        if (
            any(len(p.tiles) > 1 or p.pad for p in plans.values())
            and not self._output_on_input_grid()
        ):
            raise InputError(
                "the image needs tiling or padding, but the model's output is not on the "
                "input's pixel grid, so fairio-tools cannot stitch or crop it",
                path=source,
                hint="give an image of exactly a size the model accepts",
            )
        return plans

    def _output_on_input_grid(self) -> bool:
        for axis in self.output.axes:
            if axis.type not in ("space", "time"):
                continue
            size = axis.size
            if not hasattr(size, "tensor_id") or size.offset != 0:
                return False
            if str(size.tensor_id) != str(self.input.id) or str(size.axis_id) != str(axis.id):
                return False
        return True


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


def _output_halo(descr: Any, axis_id: str) -> int:
    halos = [
        getattr(axis, "halo", 0) or 0
        for output in descr.outputs
        for axis in output.axes
        if str(axis.id) == axis_id
    ]
    return max(halos, default=0)


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
    image: Path,
    output: Path,
    *,
    output_format: str,
    weight_format: str | None = None,
    tile: str | None = None,
    device: str = "cpu",
    axes: str | None = None,
    level: int = 0,
    provenance_path: Path | None = None,
    progress: Progress | None = None,
    allow_code: bool = False,
    threads: int | None = None,
) -> Prediction:
    """Predict IMAGE with MODEL and write OUTPUT (``ome-zarr`` or ``tiff``) with provenance;
    the model runs on ``threads`` CPU threads."""
    import json

    from fairio_tools.models.image_io import (
        read_image,
        refuse_existing,
        write_ome_tiff,
        write_ome_zarr,
    )
    from fairio_tools.models.package import open_model_package

    if output_format not in ("ome-zarr", "tiff"):
        raise InputError(f"unknown output format {output_format!r}", field="--format")
    refuse_existing(output)
    source = read_image(image, level)
    image_axes = list(axes) if axes else source.axes
    with open_model_package(model) as package:
        predictor = Predictor(package, weight_format, device, allow_code, threads)
        sizes = parse_tile(tile, predictor.tiled_axes)
        prediction = predictor.predict(source.data, image_axes, image, sizes, progress)
    scale = {a: source.scale[a] for a in prediction.axes if a in source.scale}
    record = prediction.provenance.to_dict()
    jsonld = prediction.provenance.to_jsonld(output.name)
    jsonld_text = json.dumps(jsonld, indent=2) + "\n"
    if output_format == "ome-zarr":
        write_ome_zarr(
            prediction.data,
            prediction.axes,
            scale,
            output,
            {"fairio_prediction": record},
            files={"provenance.jsonld": jsonld_text},
        )
    else:
        write_ome_tiff(
            prediction.data, prediction.axes, scale, output, {"fairio_prediction": record}
        )
    if provenance_path is not None:
        provenance_path.write_text(jsonld_text, encoding="utf-8")
    return prediction
