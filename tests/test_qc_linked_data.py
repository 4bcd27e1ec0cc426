"""QC reports in ``to-rdf`` and ``bundle create``: each run linked to the image it measured
and the instrument it describes, read back with SPARQL and from the crate's own metadata."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from rdflib import Graph

from tests.conftest import ROOT, run_fairio

BEADS = ROOT / "tools" / "qc_psf_beads" / "test-data" / "beads.tiff"
FIELD = ROOT / "tools" / "qc_field_illumination" / "test-data" / "field.tiff"
PREFIXES = """
PREFIX schema: <http://schema.org/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX ome: <http://www.openmicroscopy.org/Schemas/OME/2016-06#>
PREFIX mm: <https://MontpellierRessourcesImagerie.github.io/microscopemetrics-schema/>
PREFIX fairio: <https://w3id.org/fairio-tools/terms#>
"""


def _reports(tmp_path: Path) -> tuple[Path, Path, Path]:
    psf, field, info = tmp_path / "psf.json", tmp_path / "field.json", tmp_path / "info.json"
    for args in (
        ("qc", "psf-beads", BEADS, "--json", psf),
        ("qc", "field-illumination", FIELD, "--json", field),
        ("image-info", BEADS, "--json", info),
    ):
        result = (
            run_fairio(*args, "--instrument", "LSM-2") if args[0] == "qc" else run_fairio(*args)
        )
        assert result.returncode == 0, result.stderr
    return psf, field, info


def test_to_rdf_links_each_metric_to_the_image_and_the_instrument(tmp_path: Path):
    psf, field, info = _reports(tmp_path)
    result = run_fairio("to-rdf", info, psf, field, "--format", "turtle")
    assert result.returncode == 0, result.stderr
    graph = Graph().parse(data=result.stdout, format="turtle")
    rows = graph.query(
        PREFIXES
        + """
        SELECT ?image ?value ?unit ?microscope WHERE {
          ?run a schema:AssessAction ; prov:used ?image ; schema:object ?microscope ;
               schema:result ?result .
          ?image schema:name "beads.tiff" ; ome:Pixels ?pixels .
          ?microscope a ome:Instrument , mm:Microscope ; schema:name "LSM-2" .
          ?result a mm:PSFBeadsKeyMeasurements ; schema:variableMeasured ?m .
          ?m schema:propertyID fairio:fwhm_mean_x ; schema:value ?value ; schema:unitText ?unit .
        }"""
    )
    rows = list(rows)
    assert len(rows) == 1
    report = json.loads(psf.read_text())
    assert float(rows[0].value) == report["fwhm_mean"]["x"]
    assert str(rows[0].unit) == "micrometer"
    microscopes = set(graph.query(PREFIXES + "SELECT ?m WHERE { ?m a mm:Microscope }"))
    assert len(microscopes) == 1  # both runs describe the one instrument
    uniformity = graph.query(
        PREFIXES
        + """
        SELECT ?value WHERE { ?r a mm:FieldIlluminationKeyMeasurements ;
          schema:about [ schema:name "field.tiff" ] ; schema:variableMeasured ?m .
          ?m schema:propertyID fairio:uniformity_percent ; schema:value ?value }"""
    )
    assert [float(r.value) for r in uniformity] == [
        json.loads(field.read_text())["uniformity_percent"]
    ]


def test_bundle_records_each_qc_run_as_an_action_with_its_parameters(
    shared_data: Path, tmp_path: Path
):
    psf, field, _ = _reports(tmp_path)
    store = shared_data / "images/bioformats2raw-reference/coins.ome.zarr"
    crate = tmp_path / "crate.zip"
    result = run_fairio(
        "bundle", "create", crate, "--store", store, "--report", psf, "--report", field,
        "--result", BEADS,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(crate) as archive:
        graph = json.loads(archive.read("ro-crate-metadata.json"))["@graph"]
    by_id = {e["@id"]: e for e in graph}
    actions = [
        e
        for e in graph
        if e.get("@type") == "AssessAction"
        and str(e.get("name", "")).startswith(("PSF from beads", "Field illumination"))
    ]
    assert len(actions) == 2
    psf_action = next(a for a in actions if a["name"].startswith("PSF"))
    assert by_id[psf_action["result"]["@id"]]["name"] == "psf.json"
    objects = [by_id[o["@id"]] for o in psf_action["object"]]
    assert {o.get("name") for o in objects} >= {"beads.tiff", "LSM-2"}
    values = {o["name"]: o["value"] for o in objects if o.get("@type") == "PropertyValue"}
    assert values["min_r2"] == "0.8" and values["channel"] == "0"
    assert by_id[psf_action["instrument"]["@id"]]["name"] == "fairio-tools"
