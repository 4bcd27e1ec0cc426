"""Options shared by several commands, defined once so every command spells them alike."""

from __future__ import annotations

from pathlib import Path

import click

existing_file = click.Path(exists=False, dir_okay=True, path_type=Path)
"""Input paths are checked by the library, which gives the one-line error users see."""

json_output = click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the JSON report to this file instead of standard output.",
)

tsv_output = click.option(
    "--tsv",
    "tsv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write a tab-separated table (for Galaxy's display).",
)

report_json = click.option(
    "--report-json",
    "report_json",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the findings as JSON to this file.",
)

report_md = click.option(
    "--report-md",
    "report_md",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the findings as a Markdown report to this file.",
)

profile = click.option(
    "--profile",
    default="rembi",
    show_default=True,
    help="Metadata profile: minimal, rembi or rembi-mifa (REMBI plus MIFA for annotations).",
)

weight_format = click.option(
    "--weight-format",
    type=click.Choice(["onnx", "torchscript", "pytorch_state_dict"]),
    help="Weights to use (default: the first local and runnable of onnx, torchscript, "
    "pytorch_state_dict).",
)

device = click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="Where the model runs.",
)

allow_model_code = click.option(
    "--allow-model-code",
    is_flag=True,
    help="Let the model package's own Python code run (pytorch_state_dict architectures, "
    "custom processing). Off by default: only onnx and torchscript weights run, which need "
    "no code. A server's admin can allow it for all runs with FAIRIO_ALLOW_MODEL_CODE=1.",
)
