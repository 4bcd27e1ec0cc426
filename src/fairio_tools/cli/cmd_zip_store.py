"""``fairio zip-store``: an OME-Zarr store as one zip file, for download."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools.cli import options
from fairio_tools.cli.output import write_json


@click.command("zip-store")
@click.argument("store", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@options.json_output
def command(store: Path, output: Path, overwrite: bool, json_path: Path | None) -> None:
    """Zip the OME-Zarr STORE (a folder: image, labels or plate; NGFF 0.4 or 0.5) into
    OUTPUT, its root at the archive's root and its chunks stored as they are. Unzipped into a
    folder, it is the store again; ``zarr.storage.ZipStore`` reads it as it is."""
    from fairio_tools.ngff.zipped import zip_store

    write_json(zip_store(store, output, overwrite=overwrite).to_dict(), json_path)
