"""``fairio microscopy-metadata``: instrument and acquisition metadata against the NBO tiers."""

from __future__ import annotations

from pathlib import Path

import click

from fairio_tools import exit_codes
from fairio_tools.cli import options
from fairio_tools.cli.output import write_json, write_tsv

TSV_HEADER = ["image", "name", "field", "tier", "status", "value", "detail"]


@click.command("microscopy-metadata")
@click.pass_context
@click.argument("image", type=options.existing_file)
@click.option(
    "--require-tier", type=click.IntRange(1, 3), help="Exit 1 unless every image meets this tier."
)
@options.source_name
@options.json_output
@options.tsv_output
def command(
    ctx: click.Context,
    image: Path,
    require_tier: int | None,
    source_name: str | None,
    json_path: Path | None,
    tsv_path: Path | None,
) -> None:
    """Score the instrument and acquisition metadata of IMAGE (OME-TIFF, OME-XML, CZI or LIF;
    any other image on what it records: the microscope, objective NA, magnification and
    immersion, light sources, filters, detectors, channels' excitation and emission, pixel
    sizes, ...) against the 4DN-BINA-OME tiers 1-3, naming every missing field per tier.
    Exit 1 with --require-tier when an image falls short of it."""
    from fairio_tools.metadata.nbo import score_microscopy_metadata

    report = score_microscopy_metadata(image)
    if source_name is not None:
        report.source = source_name
        for score in report.images:  # images named after the file, as Galaxy stores it
            score.name = source_name if score.name == image.name else score.name
    if tsv_path is not None:
        rows = [
            [
                score.index,
                score.name or "",
                f.id,
                f.tier,
                "present" if f.present else "missing",
                f.value or "",
                f.detail or "",
            ]
            for score in report.images
            for f in score.fields
        ]
        write_tsv(TSV_HEADER, rows, tsv_path)
    write_json(report.to_dict(), json_path)
    if require_tier is not None and any(s.highest_tier_met < require_tier for s in report.images):
        ctx.exit(exit_codes.INVALID)
