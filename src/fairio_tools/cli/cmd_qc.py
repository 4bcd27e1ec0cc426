"""``fairio qc``: microscope quality-control metrics measured on images of QC samples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from fairio_tools.cli import options
from fairio_tools.cli.output import write_bytes_atomic, write_json, write_text_atomic, write_tsv

_file = click.Path(dir_okay=False, writable=True, path_type=Path)

figure_output = click.option("--figure", "figure_path", type=_file, help="Also write a PNG figure.")
html_output = click.option(
    "--html", "html_path", type=_file, help="Also write a short HTML report (the figure embedded)."
)
channel = click.option(
    "--channel",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Channel to measure (0 is the first).",
)
instrument = click.option(
    "--instrument",
    help="Name or identifier of the microscope (e.g. its inventory id), recorded in the report "
    "and linked in to-rdf and bundle create.",
)


def _iso_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from fairio_tools.qc.trend import parse_date

    if value is None:
        return None
    try:
        parse_date(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date (2026-03-31)") from None
    return value.strip()


acquired = click.option(
    "--acquired",
    callback=_iso_date,
    help="When the image was acquired (ISO 8601 date or date-time), for trends over time; "
    "default: the AcquisitionDate of its OME-XML or the TIFF DateTime tag.",
)
series = click.option(
    "--series",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Image (series) of the file to measure.",
)


@click.group("qc")
def group() -> None:
    """Microscope quality control: field illumination and PSF metrics (QUAREP-LiMi,
    MetroloJ_QC, microscope-metrics definitions), in the image's physical units."""


@group.command("field-illumination")
@click.argument("image", type=options.existing_file)
@channel
@series
@instrument
@acquired
@options.json_output
@options.tsv_output
@figure_output
@html_output
def field_illumination(
    image: Path,
    channel: int,
    series: int,
    instrument: str | None,
    acquired: str | None,
    json_path: Path | None,
    tsv_path: Path | None,
    figure_path: Path | None,
    html_path: Path | None,
) -> None:
    """Measure the field illumination of IMAGE, a homogeneous fluorescent sample (a 2-D
    image, or the brightest plane of a stack): uniformity, field uniformity, centre of
    illumination and its offset from the image centre, centring accuracy, corner and edge
    ratios, iso-intensity fractions and intensity profiles."""
    from fairio_tools.images.instrument import acquisition_date
    from fairio_tools.qc import figures, report
    from fairio_tools.qc.illumination import measure_field_illumination
    from fairio_tools.qc.image import read_qc_image

    result = measure_field_illumination(read_qc_image(image, channel, series))
    result.instrument = instrument
    result.acquired = acquired or acquisition_date(image, series)
    result.parameters.update(channel=channel, series=series)
    figure = figures.illumination_figure(result) if figure_path or html_path else None
    _write(
        result.to_dict(),
        json_path,
        tsv_path,
        report.ILLUMINATION_HEADER,
        report.illumination_rows(result),
        figure_path,
        figure,
        html_path,
        lambda: report.illumination_html(result, figure),
    )


@group.command("psf-beads")
@click.argument("image", type=options.existing_file)
@channel
@series
@instrument
@acquired
@click.option(
    "--min-r2",
    type=click.FloatRange(0, 1),
    default=0.8,
    show_default=True,
    help="Reject beads whose fit along any axis has a lower R².",
)
@click.option(
    "--na",
    type=click.FloatRange(min=0, min_open=True),
    help="Numerical aperture: with --wavelength, report the theoretical FWHM.",
)
@click.option(
    "--wavelength",
    type=click.FloatRange(min=0, min_open=True),
    help="Emission wavelength in micrometres.",
)
@click.option(
    "--refractive-index",
    type=click.FloatRange(min=1),
    default=1.0,
    show_default=True,
    help="Refractive index of the immersion medium.",
)
@options.json_output
@options.tsv_output
@figure_output
@html_output
def psf_beads(
    image: Path,
    channel: int,
    series: int,
    instrument: str | None,
    acquired: str | None,
    min_r2: float,
    na: float | None,
    wavelength: float | None,
    refractive_index: float,
    json_path: Path | None,
    tsv_path: Path | None,
    figure_path: Path | None,
    html_path: Path | None,
) -> None:
    """Measure the PSF of a z-stack of sub-resolution beads (IMAGE): per bead the FWHM in x,
    y and z with the fits' R², the lateral asymmetry and ellipticity; the bead count, and
    each rejected bead with the reason (border, neighbour, saturation, poor fit)."""
    from fairio_tools.images.instrument import acquisition_date
    from fairio_tools.qc import figures, report
    from fairio_tools.qc.image import read_qc_image
    from fairio_tools.qc.psf import measure_psf_beads

    stack = read_qc_image(image, channel, series)
    result = measure_psf_beads(
        stack, min_r2=min_r2, na=na, wavelength_um=wavelength, refractive_index=refractive_index
    )
    result.instrument = instrument
    result.acquired = acquired or acquisition_date(image, series)
    result.parameters.update(channel=channel, series=series)
    figure = figures.psf_figure(result, stack.data) if figure_path or html_path else None
    _write(
        result.to_dict(),
        json_path,
        tsv_path,
        report.PSF_HEADER,
        report.psf_rows(result),
        figure_path,
        figure,
        html_path,
        lambda: report.psf_html(result, figure),
    )


def _write(
    data: dict[str, Any],
    json_path: Path | None,
    tsv_path: Path | None,
    header: list[str],
    rows: list[list[Any]],
    figure_path: Path | None,
    figure: bytes | None,
    html_path: Path | None,
    page: Callable[[], str],
) -> None:
    """Write a QC command's outputs; the JSON last, so it appears once the others are there."""
    if tsv_path is not None:
        write_tsv(header, rows, tsv_path)
    if figure_path is not None and figure is not None:
        write_bytes_atomic(figure_path, figure)
    if html_path is not None:
        write_text_atomic(html_path, page())
    write_json(data, json_path)


@group.command("trend")
@click.argument("reports", nargs=-1, required=True, type=options.existing_file)
@click.option(
    "--baseline-date",
    callback=_iso_date,
    help="The date of the baseline report (e.g. the installation's); default: the earliest "
    "report of each instrument.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Change from the baseline, in percent, above which a metric is flagged as drift.",
)
@click.option(
    "--name",
    "names",
    multiple=True,
    help="A name for each report, in the order given (e.g. Galaxy dataset names); default: "
    "the file names.",
)
@options.json_output
@options.tsv_output
@figure_output
def trend(
    reports: tuple[Path, ...],
    baseline_date: str | None,
    tolerance: float,
    names: tuple[str, ...],
    json_path: Path | None,
    tsv_path: Path | None,
    figure_path: Path | None,
) -> None:
    """Follow an instrument's QC over time: the key metrics of REPORTS (JSON reports of fairio
    qc field-illumination and psf-beads, each with its acquisition date) against their date,
    each compared with the baseline; changes beyond the tolerance are flagged as drift."""
    from fairio_tools.qc import figures
    from fairio_tools.qc import trend as trends
    from fairio_tools.safe_json import load_json

    if names and len(names) != len(reports):
        raise click.UsageError(f"--name given {len(names)} times for {len(reports)} reports")
    points = []
    for index, path in enumerate(reports):
        name = names[index] if names else path.name
        points += trends.report_points(load_json(path), name, path)
    rows = trends.trend(points, baseline_date, tolerance)
    if tsv_path is not None:
        write_tsv(trends.HEADER, [row.cells() for row in rows], tsv_path)
    if figure_path is not None:
        write_bytes_atomic(figure_path, figures.trend_figure(rows, tolerance))
    drift = [row for row in rows if row.status == "drift"]
    write_json(
        {
            "reports": len(reports),
            "tolerance_percent": tolerance,
            "drift": len(drift),
            "rows": [dict(zip(trends.HEADER, row.cells(), strict=True)) for row in rows],
        },
        json_path,
    )
