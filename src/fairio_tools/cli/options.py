"""Options shared by several commands, defined once so every command spells them alike."""

from __future__ import annotations

from pathlib import Path

import click

existing_file = click.Path(exists=False, dir_okay=True, path_type=Path)
"""Input paths are checked by the library, which gives the one-line error users see."""

DEFAULT_CATALOGUE = Path("portal/catalogue")
"""The training catalogue of this repository, the default of every catalogue command."""

_output_file = click.Path(dir_okay=False, writable=True, path_type=Path)


class StorePath(click.Path):
    """A path, or a Zarr store as Galaxy names it: ``$input.extra_files_path/$store_root``.

    Galaxy leaves ``store_root`` empty, or renders it ``None``, when the store fills the
    dataset's folder: ``FOLDER/None`` that does not exist then means ``FOLDER``.
    """

    def __init__(self) -> None:
        super().__init__(exists=False, path_type=Path)

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        path = super().convert(value, param, ctx)
        if path.name == "None" and not path.exists() and path.parent.is_dir():
            return path.parent
        return path


store_path = StorePath()


def _absent(value: object) -> bool:
    return value is None or value == ()


def aliased(*aliases: str, dest: str):
    """Hidden old spellings of the option whose value is ``dest``, kept for one release.

    Apply below the option itself. Using an alias works as before and prints a warning
    naming the new spelling.
    """
    key = f"fairio_alias_{dest}"

    def remember(ctx: click.Context, param: click.Parameter, value: object) -> None:
        if _absent(value):
            return
        new = next(p for p in ctx.command.params if p.name == dest)
        click.echo(
            f"fairio: warning: {param.opts[0]} is deprecated and will be removed in the next "
            f"release; use {new.opts[0]}",
            err=True,
        )
        ctx.meta[key] = value
        if _absent(ctx.params.get(dest)):
            ctx.params[dest] = value

    def decorate(function):
        function = click.option(
            *aliases, key, hidden=True, expose_value=False, callback=remember,
            **_ALIAS_SHAPES.get(dest, {}),
        )(function)  # fmt: skip
        return function

    return decorate


def _take_alias(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Callback of an option with aliases: its own value, else an alias's."""
    if _absent(value):
        return ctx.meta.get(f"fairio_alias_{param.name}", value)
    return value


_ALIAS_SHAPES: dict[str, dict] = {}
"""Type, arity and multiplicity of each aliased option, so an alias parses alike."""


def option(*decls: str, **attrs):
    """``click.option`` for an option that may get hidden aliases (see :func:`aliased`)."""
    dest = next(d for d in decls if not d.startswith("-"))
    _ALIAS_SHAPES[dest] = {
        k: attrs[k] for k in ("type", "multiple", "nargs", "metavar") if k in attrs
    }
    return click.option(*decls, callback=_take_alias, **attrs)


json_output = option(
    "--json",
    "json_path",
    type=_output_file,
    help="Write the JSON report to this file instead of standard output.",
)

preview_output = option(
    "--preview",
    "preview_path",
    type=_output_file,
    help="Also write a PNG preview of the OME-Zarr image written (maximum projection of its "
    "lowest level, in its channel colours).",
)

source_name = click.option(
    "--source-name",
    help="Name of the input in the report (e.g. the dataset name Galaxy shows) instead of its "
    "path.",
)
tsv_output = option(
    "--tsv",
    "tsv_path",
    type=_output_file,
    help="Also write a tab-separated table (for Galaxy's display).",
)

markdown_output = option(
    "--markdown",
    "markdown_path",
    type=_output_file,
    help="Also write the report as Markdown to this file.",
)

output_path = option(
    "--output",
    "-o",
    "output_path",
    type=_output_file,
    help="Write the result here instead of standard output.",
)


def _apply_jobs(ctx: click.Context, param: click.Parameter, value: int | None) -> int:
    from fairio_tools.threads import default_jobs, limit_threads

    if value is None:
        return default_jobs()
    limit_threads(value)
    return value


jobs = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    callback=_apply_jobs,
    help="Threads (or processes) the command may use; in Galaxy ${GALAXY_SLOTS} "
    "[default: one per CPU core].",
)

profile = click.option(
    "--profile",
    default="rembi",
    show_default=True,
    help="Metadata profile: minimal, rembi or rembi-mifa (REMBI plus MIFA for annotations).",
)

weight_format = click.option(
    "--weight-format",
    type=click.Choice(
        ["onnx", "torchscript", "pytorch_state_dict", "keras_hdf5", "tensorflow_saved_model_bundle"]
    ),
    help="Weights to use (default: the first local and runnable of onnx, torchscript, "
    "pytorch_state_dict, keras_hdf5, tensorflow_saved_model_bundle).",
)

device = click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="Where the model runs.",
)


def ngff_version(experimental: bool = False):
    """``--ngff-version`` of every command that writes OME-Zarr: the versions every writer
    writes (``ngff.format.FORMATS``), default ``DEFAULT_VERSION``; ``experimental`` adds the
    versions only ``convert`` writes (``EXPERIMENTAL_FORMATS``)."""
    from fairio_tools.ngff.format import DEFAULT_VERSION, EXPERIMENTAL_FORMATS, FORMATS

    stored = [f"{version} as Zarr v{fmt.zarr_format}" for version, fmt in FORMATS.items()]
    text = ", ".join(stored).replace(" as ", " is stored as ", 1)
    choices = list(FORMATS)
    if experimental:
        choices += list(EXPERIMENTAL_FORMATS)
        text += "; " + ", ".join(
            f"{name} (experimental: {fmt.version}, coordinate systems) as Zarr v{fmt.zarr_format}"
            for name, fmt in EXPERIMENTAL_FORMATS.items()
        )
    return click.option(
        "--ngff-version",
        type=click.Choice(choices),
        default=DEFAULT_VERSION,
        show_default=True,
        help=f"{text}.",
    )


allow_model_code = click.option(
    "--allow-model-code",
    is_flag=True,
    help="Let the model package's own Python code run (pytorch_state_dict architectures, "
    "custom processing). Off by default: only onnx and torchscript weights run, which need "
    "no code. A server's admin can allow it for all runs with FAIRIO_ALLOW_MODEL_CODE=1.",
)
