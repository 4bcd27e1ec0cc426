"""``fairio microscopy-metadata``: OME-XML instrument and acquisition metadata scored against
the 4DN-BINA-OME tiers, checked against ome-types' independent reading of the same files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from ome_types import from_xml, model, to_xml

from fairio_tools.metadata.nbo import score_microscopy_metadata, tier_table
from tests.conftest import run_fairio
from tests.qc_synthetic import complete_ome

OME_TIFFS = [
    "images/misc/multiseries.ome.tiff",
    "images/ome-samples/6x4y1z1t1c8b-swatch-2s2p4w2ws.ome-v2010-06.ome.tiff",
    "images/misc/res.ome.tiff",
    "images/ome-samples/multifile/multifile.companion.ome",
]


def _ome(path: Path) -> model.OME:
    """The file's OME-XML as ome-types reads it (no code of ours involved)."""
    if path.suffix == ".ome":
        return from_xml(path.read_text())
    with tifffile.TiffFile(path, _multifile=False) as tif:
        return from_xml(tif.ome_metadata)


def _expected(ome: model.OME, image: model.Image) -> dict[str, bool]:
    """Tier-1 and some tier-2 fields, present or not, from ome-types' objects."""
    instruments = {i.id: i for i in ome.instruments}
    instrument = instruments.get(image.instrument_ref.id) if image.instrument_ref else None
    if instrument is None and image.instrument_ref is None and len(ome.instruments) == 1:
        instrument = ome.instruments[0]
    objectives = {o.id: o for o in instrument.objectives} if instrument else {}
    objective = objectives.get(image.objective_settings.id) if image.objective_settings else None
    if objective is None and image.objective_settings is None and len(objectives) == 1:
        objective = next(iter(objectives.values()))
    channels = image.pixels.channels

    def every(test) -> bool:
        return bool(channels) and all(test(c) for c in channels)

    detectors = {d.id: d for d in instrument.detectors} if instrument else {}
    positive = lambda v: v is not None and v > 0  # noqa: E731
    return {
        "microscope.type": bool(
            instrument and instrument.microscope and instrument.microscope.type
        ),
        "objective.lens_na": bool(objective and positive(objective.lens_na)),
        "objective.nominal_magnification": bool(
            objective and positive(objective.nominal_magnification)
        ),
        "objective.immersion": bool(objective and objective.immersion),
        "detector.type": every(
            lambda c: c.detector_settings is not None
            and c.detector_settings.id in detectors
            and detectors[c.detector_settings.id].type is not None
        ),
        "channel.excitation_wavelength": every(lambda c: positive(c.excitation_wavelength)),
        "channel.emission_wavelength": every(lambda c: positive(c.emission_wavelength)),
        "channel.illumination_type": every(lambda c: c.illumination_type is not None),
        "pixels.physical_size_x": positive(image.pixels.physical_size_x),
        "pixels.physical_size_y": positive(image.pixels.physical_size_y),
        "image.acquisition_date": image.acquisition_date is not None,
        "microscope.manufacturer": bool(
            instrument and instrument.microscope and instrument.microscope.manufacturer
        ),
        "plane.exposure_time": bool(image.pixels.planes)
        and all(positive(p.exposure_time) for p in image.pixels.planes),
    }


@pytest.mark.parametrize("name", OME_TIFFS, ids=lambda n: Path(n).name)
def test_findings_match_the_ome_xml_read_independently(shared_data: Path, name: str):
    path = shared_data / name
    ome = _ome(path)
    report = score_microscopy_metadata(path)
    assert len(report.images) == len(ome.images)
    for score, image in zip(report.images, ome.images, strict=True):
        status = {f.id: f.present for f in score.fields}
        expected = _expected(ome, image)
        assert {k: status[k] for k in expected} == expected, image.name
        assert score.highest_tier_met == 0  # none of these files names its microscope type
        missing = score.tiers[0].missing
        assert missing == [f.id for f in score.fields if f.tier == 1 and not f.present]


def test_values_are_reported_as_the_file_gives_them(shared_data: Path):
    path = shared_data / "images/misc/multiseries.ome.tiff"
    image = _ome(path).images[0]
    fields = {f.id: f for f in score_microscopy_metadata(path).images[0].fields}
    excitation = ", ".join(
        dict.fromkeys(f"{c.excitation_wavelength} nm" for c in image.pixels.channels)
    )
    assert fields["channel.excitation_wavelength"].value == excitation
    assert fields["objective.nominal_magnification"].present is False  # the file says 0.0


def test_a_complete_record_meets_tier_3_and_each_gap_is_named(tmp_path: Path):
    ome = complete_ome()
    path = tmp_path / "complete.ome.xml"
    path.write_text(to_xml(ome))
    score = score_microscopy_metadata(path).images[0]
    assert [f.id for f in score.fields if not f.present] == []
    assert score.highest_tier_met == 3
    assert {f.id for f in score.fields} == {f["id"] for f in tier_table()["fields"]}

    ome.instruments[0].objectives[0].working_distance = None  # tier 2
    ome.images[0].pixels.planes[1].exposure_time = None  # tier 2, one plane of two
    ome.images[0].pixels.channels[0].excitation_wavelength = None  # tier 1
    path.write_text(to_xml(ome))
    score = score_microscopy_metadata(path).images[0]
    assert score.highest_tier_met == 0
    assert [t.missing for t in score.tiers] == [
        ["channel.excitation_wavelength"],
        ["objective.working_distance", "plane.exposure_time"],
        [],
    ]
    planes = next(f for f in score.fields if f.id == "plane.exposure_time")
    assert planes.detail == "missing in 1 of 2 planes"


def test_cli_tsv_and_require_tier(shared_data: Path, tmp_path: Path):
    path = shared_data / "images/misc/multiseries.ome.tiff"
    result = run_fairio(
        "microscopy-metadata", path, "--tsv", tmp_path / "m.tsv", "--require-tier", "1"
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["specification"]["citation"] == "doi:10.1038/s41592-021-01327-9"
    rows = (tmp_path / "m.tsv").read_text().splitlines()
    assert rows[0].split("\t") == ["image", "name", "field", "tier", "status", "value", "detail"]
    fields_per_image = len(report["images"][0]["fields"])
    assert len(rows) == 1 + sum(len(i["fields"]) for i in report["images"])
    assert fields_per_image > 40
    assert run_fairio("microscopy-metadata", path).returncode == 0


def test_images_without_ome_xml_are_scored_on_what_they_record(shared_data: Path, tmp_path):
    path = shared_data / "images/misc/zcyx.tiff"
    with tifffile.TiffFile(path) as tif:  # ImageJ calibration: pixels per micrometre
        numerator, denominator = tif.pages[0].tags["XResolution"].value
        planes = tif.imagej_metadata["spacing"]
    result = run_fairio("microscopy-metadata", path, "--json", tmp_path / "t.json")
    assert result.returncode == 0, result.stderr
    (image,) = json.loads((tmp_path / "t.json").read_text())["images"]
    fields = {f["id"]: f for f in image["fields"]}
    assert fields["pixels.physical_size_x"]["value"] == f"{denominator / numerator} µm"
    assert fields["pixels.physical_size_z"]["value"] == f"{float(planes)} µm"
    assert not fields["microscope.manufacturer"]["present"]
    assert image["highest_tier_met"] == 0 and "TIFF without OME-XML" in image["notes"][0]

    png = shared_data / "images/bioformats2raw-reference/coins.png"
    result = run_fairio("microscopy-metadata", png, "--json", tmp_path / "p.json")
    (image,) = json.loads((tmp_path / "p.json").read_text())["images"]
    assert result.returncode == 0 and "PNG without OME-XML" in image["notes"][0]
    assert not {f["id"]: f for f in image["fields"]}["pixels.physical_size_x"]["present"]
    assert run_fairio("microscopy-metadata", png, "--require-tier", "1").returncode == 1


def _bundled_with(score: Path, shared_data: Path, tmp_path: Path) -> list[dict]:
    """The RO-Crate graph of a bundle of a reference store with ``score`` as its report."""
    import zipfile

    store = shared_data / "images/bioformats2raw-reference/coins.ome.zarr"
    crate = tmp_path / "crate.zip"
    result = run_fairio("bundle", "create", crate, "--store", store, "--report", score)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(crate) as archive:
        return json.loads(archive.read("ro-crate-metadata.json"))["@graph"]


def test_bundle_records_the_score_as_an_assessment_of_the_store(shared_data: Path, tmp_path):
    score = tmp_path / "tiers.json"
    source = shared_data / "images/misc/multiseries.ome.tiff"
    assert run_fairio("microscopy-metadata", source, "--json", score).returncode == 0
    graph = _bundled_with(score, shared_data, tmp_path)
    by_id = {e["@id"]: e for e in graph}
    (action,) = [e for e in graph if e["@id"].startswith("#metadata-tiers-")]
    assert action["@type"] == "AssessAction" and "multiseries.ome.tiff" in action["name"]
    assert "highest tier met 0 of 3, over 6 image(s)" in action["description"]
    assert by_id[action["result"]["@id"]]["name"] == "tiers.json"
    objects = {o["@id"] for o in action["object"]}
    assert "coins.ome.zarr/" in objects
    assert by_id["https://github.com/WU-BIMAC/NBOMicroscopyMetadataSpecs"]["version"] == "v02-00"
    assert by_id[action["instrument"]["@id"]]["name"] == "fairio-tools"


def test_bundle_keeps_a_crafted_score_as_a_plain_report(shared_data: Path, tmp_path):
    score = tmp_path / "tiers.json"
    crafted = {"source": "x", "specification": {}, "not_in_ome_xml": [],
               "images": [{"highest_tier_met": "three"}]}  # fmt: skip
    score.write_text(json.dumps(crafted))
    graph = _bundled_with(score, shared_data, tmp_path)
    assert not [e for e in graph if e["@id"].startswith("#metadata-tiers-")]
    assert any(e.get("name") == "tiers.json" for e in graph)


def test_a_float16_tiff_is_scored_though_ome_has_no_float16(tmp_path: Path):
    path = tmp_path / "half.tif"
    tifffile.imwrite(path, np.ones((2, 8, 8), dtype=np.float16), imagej=False)
    result = run_fairio("microscopy-metadata", path, "--json", tmp_path / "h.json")
    assert result.returncode == 0, result.stderr
    (image,) = json.loads((tmp_path / "h.json").read_text())["images"]
    assert image["highest_tier_met"] == 0 and "TIFF without OME-XML" in image["notes"][0]


def test_a_file_that_is_no_image_is_refused(tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("nothing to see\n")
    result = run_fairio("microscopy-metadata", path)
    assert result.returncode == 2 and str(path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_hostile_ome_xml_is_refused(tmp_path: Path):
    path = tmp_path / "bomb.ome.xml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE OME [<!ENTITY a "aaaa">]><OME>&a;</OME>')
    result = run_fairio("microscopy-metadata", path)
    assert result.returncode == 2 and "OME-XML cannot be parsed" in result.stderr


def _czi_xml(path: Path):
    import xml.etree.ElementTree as ET

    import czifile

    with czifile.CziFile(str(path)) as czi:
        return ET.fromstring(czi.metadata())


def test_zeiss_czi_findings_match_its_own_xml(shared_data: Path):
    path = shared_data / "images/vendor/s_1_t_1_c_1_z_1.czi"
    xml = _czi_xml(path).find("Metadata/Information")
    fields = {f.id: f for f in score_microscopy_metadata(path).images[0].fields}
    objective = xml.find("Instrument/Objectives/Objective")
    assert fields["objective.lens_na"].value == objective.findtext("LensNA")
    assert fields["objective.nominal_magnification"].value == objective.findtext(
        "NominalMagnification"
    )
    assert fields["objective.immersion"].value == objective.findtext("Immersion")
    assert fields["microscope.type"].value == xml.findtext("Instrument/Microscopes/Microscope/Type")
    assert fields["image.acquisition_date"].value == xml.findtext("Image/AcquisitionDateAndTime")
    channel = xml.find("Image/Dimensions/Channels/Channel")
    assert fields["channel.illumination_type"].value == channel.findtext("IlluminationType")
    # the file gives no wavelengths (a brightfield channel) and no detector type
    assert channel.find("ExcitationWavelength") is None
    assert not fields["channel.excitation_wavelength"].present
    assert xml.find("Instrument/Detectors/Detector/Type") is None
    assert not fields["detector.type"].present


def test_leica_lif_findings_match_its_own_xml(shared_data: Path):
    import xml.etree.ElementTree as ET

    import liffile

    path = shared_data / "images/vendor/testdata_2channel_xz.lif"
    with liffile.LifFile(path) as lif:
        xml = ET.fromstring(lif.xml_header())
    elements = [e for e in xml.iter("Element") if e.find("Data/Image") is not None]
    report = score_microscopy_metadata(path)
    assert [i.name for i in report.images] == [e.get("Name") for e in elements]
    for score, element in zip(report.images, elements, strict=True):
        settings = next(element.iter("ATLConfocalSettingDefinition"))
        fields = {f.id: f for f in score.fields}
        assert fields["objective.lens_na"].value == settings.get("NumericalAperture")
        assert fields["objective.nominal_magnification"].value == settings.get("Magnification")
        assert fields["microscope.model"].value == settings.get("MicroscopeModel")
        lasers = [
            line.get("LaserLine")
            for line in settings.iter("LaserLineSetting")
            if line.get("IsLineChecked") == "1" and float(line.get("IntensityDev")) > 0
        ]
        assert fields["channel.excitation_wavelength"].value == ", ".join(lasers)
        dims = {d.get("DimID") for d in element.iter("DimensionDescription")}
        # an XZ scan's z lines are its y, as Bio-Formats reads it; physical z is then absent
        assert fields["pixels.physical_size_y"].present == bool(dims & {"2", "3"})
        assert fields["channel.illumination_type"].present is False  # a LIF does not say
        assert "Leica LIF" in score.notes[0]
