"""``fairio model-info``: what a bioimage.io model expects, offers, and can run here."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.cli.output import write_json, write_tsv

TSV_HEADER = ["kind", "tensor", "axes", "sizes", "halo", "processing", "weights", "location"]


@click.command("model-info")
@click.argument("model", type=options.existing_file)
@options.json_output
@options.tsv_output
def command(model: Path, json_path: Path | None, tsv_path: Path | None) -> None:
    """Report the inputs and outputs of MODEL (a bioimage.io zip or folder): axes, sizes,
    halos, pre- and post-processing, and which weight formats are local or only remote.
    Works offline: nothing is downloaded."""
    from fairio_tools.models.describe import describe_model
    from fairio_tools.models.descriptions import load_model
    from fairio_tools.models.package import open_model_package

    with open_model_package(model) as package:
        report = describe_model(package, load_model(package))
    write_json(report, json_path)
    if tsv_path is not None:
        write_tsv(TSV_HEADER, _rows(report), tsv_path)


def _rows(report: dict) -> list[list]:
    rows = []
    for kind, processing in (("input", "preprocessing"), ("output", "postprocessing")):
        for tensor in report[f"{kind}s"]:
            sizes = [f"{a['id']}={_size(a['size'])}" for a in tensor["axes"]]
            halos = [f"{a['id']}={a['halo']}" for a in tensor["axes"] if a.get("halo")]
            steps = [step["id"] for step in tensor[processing]]
            rows.append([kind, tensor["id"], tensor["axes_string"], " ".join(sizes),
                         " ".join(halos), ", ".join(steps), "", ""])  # fmt: skip
    for weights in report["weights"]:
        rows.append(["weights", "", "", "", "", "", weights["format"], weights["location"]])
    return rows


def _size(size) -> str:
    if isinstance(size, dict):
        if "step" in size:
            return f"{size['min']}+n*{size['step']}"
        if "tensor" in size:
            return f"{size['tensor']}.{size['axis']}" + (
                f"+{size['offset']}" if size["offset"] else ""
            )
        return "data-dependent"
    return "any" if size is None else str(size)
