"""``fairio to-rdf``: image and study metadata as one RDF graph that parses back unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from fairio_tools.rdf.graph import build_graph
from fairio_tools.rdf.vocabulary import OME, SCHEMA, jsonld_context, serialize
from tests.conftest import run_fairio

DATA = Path(__file__).parent / "data"
STUDY = DATA / "metadata" / "rembi-complete.yaml"
NCBI_DROSOPHILA = URIRef("http://purl.obolibrary.org/obo/NCBITaxon_7227")


@pytest.fixture
def inputs(shared_data, tmp_path):
    reference = shared_data / "images" / "bioformats2raw-reference"
    image_info = tmp_path / "image-info.json"
    tiff = reference / "xyz_8bit__mitotic_plate_calibrated.tiff"
    run_fairio("image-info", tiff, "--json", image_info, check=True)
    return {
        "image_info": image_info,
        "ome_xml": reference / "coins.ome.zarr" / "OME" / "METADATA.ome.xml",
        "ngff_store": reference / "xyz_8bit__mitotic_plate_calibrated.ome.zarr" / "0",
        "ngff_attrs": reference / "camera.ome.zarr" / "0" / ".zattrs",
        "study": STUDY,
    }


def _images(graph):
    return {str(graph.value(node, SCHEMA.name)): node
            for node in graph.subjects(RDF.type, SCHEMA.ImageObject)}  # fmt: skip


def _pixels(graph, image):
    return graph.value(image, OME.Pixels)


@pytest.mark.parametrize("fmt", ["jsonld", "turtle"])
def test_output_parses_back_isomorphic(inputs, fmt):
    graph = build_graph(list(inputs.values()))
    text = serialize(graph, fmt)
    parsed = Graph().parse(data=text, format="json-ld" if fmt == "jsonld" else "turtle")
    assert len(parsed) == len(graph) > 100
    assert isomorphic(graph, parsed)


def test_image_and_study_metadata_in_one_graph(inputs):
    graph = build_graph(list(inputs.values()))
    (dataset,) = graph.subjects(RDF.type, SCHEMA.Dataset)
    assert graph.value(dataset, SCHEMA.name) == Literal(
        "Chromosome alignment in dividing Drosophila S2 cells"
    )
    assert (None, SCHEMA.taxonomicRange, NCBI_DROSOPHILA) in graph
    images = _images(graph)
    assert set(images) == {
        "xyz_8bit__mitotic_plate_calibrated.tiff",  # image-info of the TIFF
        "xyz_8bit__mitotic_plate_calibrated.tif",  # the name Bio-Formats wrote into NGFF
        "input",  # OME-XML
        "camera.jpg",  # NGFF attributes
    }
    assert all((dataset, SCHEMA.hasPart, node) in graph for node in images.values())
    # the ImageJ TIFF and the NGFF store Bio-Formats wrote from it agree on the calibration
    tiff = _pixels(graph, images["xyz_8bit__mitotic_plate_calibrated.tiff"])
    assert float(graph.value(tiff, OME.PhysicalSizeZ)) == 3.0
    assert graph.value(tiff, OME.PhysicalSizeXUnit) == Literal("micrometer")
    assert graph.value(tiff, OME.SizeZ).toPython() == 6
    zarr_images = [n for n in images.values()
                   if graph.value(n, SCHEMA.encodingFormat) == Literal("OME-Zarr")]  # fmt: skip
    calibrated = next(n for n in zarr_images if graph.value(_pixels(graph, n), OME.PhysicalSizeZ))
    pixels = _pixels(graph, calibrated)
    assert float(graph.value(pixels, OME.PhysicalSizeX)) == pytest.approx(0.0851964, 1e-6)
    assert graph.value(pixels, OME.SizeZ).toPython() == 6
    # OME-XML: sizes and type
    coins = _pixels(graph, images["input"])
    assert graph.value(coins, OME.SizeX).toPython() == 640
    assert graph.value(coins, OME.Type) == Literal("uint8")


def test_bioformats2raw_store_root_describes_its_series(inputs):
    """The root of a bioformats2raw store (as `fairio convert` writes) holds no
    multiscales itself: each series group is described."""
    graph = build_graph([inputs["ngff_store"].parent])
    images = _images(graph)
    assert set(images) == {"xyz_8bit__mitotic_plate_calibrated.tif"}
    pixels = _pixels(graph, images["xyz_8bit__mitotic_plate_calibrated.tif"])
    assert float(graph.value(pixels, OME.PhysicalSizeX)) == pytest.approx(0.0851964, 1e-6)
    assert graph.value(pixels, OME.SizeZ).toPython() == 6


def test_provenance_names_every_input_and_the_software(inputs):
    graph = build_graph(list(inputs.values()))
    prov = "http://www.w3.org/ns/prov#"
    (activity,) = graph.subjects(RDF.type, URIRef(prov + "Activity"))
    used = {
        str(graph.value(e, SCHEMA.name)) for e in graph.objects(activity, URIRef(prov + "used"))
    }
    assert used == {p.name for p in inputs.values()}
    agent = graph.value(activity, URIRef(prov + "wasAssociatedWith"))
    assert graph.value(agent, SCHEMA.name) == Literal("fairio-tools")


def test_jsonld_uses_the_shipped_context(inputs, tmp_path):
    target = tmp_path / "graph.jsonld"
    run_fairio("to-rdf", inputs["image_info"], STUDY, "-o", target, check=True)
    document = json.loads(target.read_text())
    assert document["@context"] == jsonld_context()
    assert jsonld_context()["schema"] == "http://schema.org/"
    text = target.read_text()
    assert '"PhysicalSizeZ"' in text and '"taxonomicRange"' in text


def test_turtle_to_stdout(inputs):
    result = run_fairio("to-rdf", inputs["ome_xml"], "--format", "turtle", check=True)
    graph = Graph().parse(data=result.stdout, format="turtle")
    assert (None, OME.SizeY, Literal(480)) in graph


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("billion-laughs.ome.xml", "OME-XML refused: it declares entities"),
        ("external-entity.ome.xml", "OME-XML refused"),
    ],
)
def test_xml_entities_are_refused(tmp_path, name, message):
    output = tmp_path / "out.ttl"
    result = run_fairio("to-rdf", DATA / "xml" / name, "-o", output)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and name in lines[0]
    assert "root:" not in result.stdout + result.stderr
    assert not output.exists()


def test_bad_inputs_exit_2(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = run_fairio("to-rdf", text)
    assert result.returncode == 2 and "not image metadata" in result.stderr
    two = run_fairio("to-rdf", STUDY, DATA / "metadata" / "minimal.yaml")
    assert two.returncode == 2 and "2 study metadata documents" in two.stderr
