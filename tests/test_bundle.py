"""``fairio bundle create|inspect``: FAIR Image Object RO-Crates from real OME-Zarr stores."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
import rdflib

from fairio_tools import __version__
from tests.conftest import run_fairio

SCHEMA = rdflib.Namespace("http://schema.org/")


@pytest.fixture(scope="module")
def reference(shared_data: Path) -> Path:
    return shared_data / "images" / "bioformats2raw-reference"


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    study = tmp_path / "study.jsonld"
    study.write_text(
        json.dumps(
            {
                "@context": {"@vocab": "http://schema.org/"},
                "@id": "https://example.org/study/1",
                "@type": "Dataset",
                "name": "Mitotic plate z-stack",
            }
        )
    )
    report = tmp_path / "camera.ngff.json"
    report.write_text(json.dumps({"valid": True, "validator": "example 1.0"}))
    provenance = tmp_path / "prediction.jsonld"
    provenance.write_text(
        json.dumps({"@context": {"prov": "http://www.w3.org/ns/prov#"}, "@type": "prov:Activity"})
    )
    table = tmp_path / "summary.tsv"
    table.write_text("image\tvalid\ncamera\ttrue\n")
    return {"study": study, "report": report, "table": table, "provenance": provenance}


@pytest.fixture
def invalid_store(tmp_path: Path, reference: Path) -> Path:
    """A copy of a real store whose full-resolution array metadata is gone."""
    store = tmp_path / "broken.ome.zarr"
    shutil.copytree(reference / "camera.ome.zarr", store)
    (store / "0" / "0" / ".zarray").unlink()
    return store


def _graph(metadata: dict) -> rdflib.Graph:
    """Parse crate metadata offline, with the RO-Crate context shipped in ``rocrate``."""
    from fairio_tools.bundle.inspect import ro_crate_context

    offline = {**metadata, "@context": ro_crate_context()}
    return rdflib.Graph().parse(data=json.dumps(offline), format="json-ld", base="arcp://x/")


def test_zip_bundle_holds_stores_reports_metadata_and_provenance(
    tmp_path: Path, reference: Path, inputs: dict[str, Path]
) -> None:
    crate = tmp_path / "object.zip"
    camera = reference / "camera.ome.zarr"
    result = run_fairio(
        "bundle", "create", crate,
        "--store", camera, "--store", reference / "xyz_8bit__mitotic_plate_calibrated.ome.zarr",
        "--report", inputs["report"], "--metadata", inputs["study"], "--result", inputs["table"],
        "--provenance", inputs["provenance"],
        "--produced-by", camera, "bioformats2raw", "0.7.0",
        "--galaxy-url", "https://usegalaxy.example/", "--galaxy-tool-id", "fairio_bundle",
        "--galaxy-tool-version", "0.1.0+galaxy0", "--galaxy-history-id", "f2db41e1fa331b3e",
        check=True,
    )  # fmt: skip
    assert result.stderr == ""
    with zipfile.ZipFile(crate) as archive:
        names = set(archive.namelist())
        metadata = json.loads(archive.read("ro-crate-metadata.json"))
        check = json.loads(archive.read("validation/camera.ome.zarr.ngff-check.json"))
        chunk = archive.getinfo("camera.ome.zarr/0/2/0/0/0/0/0").compress_type
        zarray = archive.getinfo("camera.ome.zarr/0/0/.zarray").compress_type
    assert (chunk, zarray) == (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # chunks: compressed
    for expected in (
        "camera.ome.zarr/.zattrs",
        "camera.ome.zarr/0/.zattrs",
        "camera.ome.zarr/0/0/.zarray",
        "camera.ome.zarr/0/2/0/0/0/0/0",
        "xyz_8bit__mitotic_plate_calibrated.ome.zarr/0/1/.zarray",
        "reports/camera.ngff.json",
        "metadata/study.jsonld",
        "outputs/summary.tsv",
        "provenance/prediction.jsonld",
    ):
        assert expected in names
    assert check["valid"] is True
    assert check["axes"] == ["t", "c", "z", "y", "x"]
    assert check["shape"] == [1, 1, 1, 480, 640]

    graph = _graph(metadata)
    root = rdflib.URIRef("arcp://x/")
    profile = rdflib.URIRef("https://w3id.org/ro/wfrun/process/0.5")
    assert (root, rdflib.DCTERMS.conformsTo, profile) in graph
    versions = {
        (str(graph.value(s, SCHEMA.name)), str(v))
        for s, v in graph.subject_objects(SCHEMA.softwareVersion)
    }
    assert versions == {
        ("fairio-tools", __version__),
        ("bioformats2raw", "0.7.0"),
        ("fairio_bundle", "0.1.0+galaxy0"),
    }
    bundle = rdflib.URIRef("arcp://x/#bundle")
    assert (bundle, rdflib.RDF.type, SCHEMA.CreateAction) in graph
    history = graph.value(bundle, SCHEMA.isPartOf)
    assert str(history) == "https://usegalaxy.example/histories/view?id=f2db41e1fa331b3e"
    camera_id = rdflib.URIRef("arcp://x/camera.ome.zarr/")
    assessed = graph.value(predicate=SCHEMA.object, object=camera_id, any=True)
    assert assessed is not None
    params = {
        str(graph.value(v, SCHEMA.name)): str(graph.value(v, SCHEMA.value))
        for v in graph.objects(bundle, SCHEMA.object)
        if (v, rdflib.RDF.type, SCHEMA.PropertyValue) in graph
    }
    assert params["allow_invalid"] == "false"
    assert params["galaxy_history_id"] == "f2db41e1fa331b3e"

    listing = run_fairio("bundle", "inspect", crate, "--tsv", tmp_path / "list.tsv")
    assert listing.returncode == 0, listing.stderr
    report = json.loads(listing.stdout)
    assert report["valid"] is True
    assert report["triples"] == len(graph)
    assert (
        "camera.ome.zarr/\tDataset\tcamera.ome.zarr\tOME-Zarr"
        in (tmp_path / "list.tsv").read_text()
    )


def test_directory_bundle_passes_roc_validator_offline(
    tmp_path: Path, reference: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    crate = tmp_path / "object"
    run_fairio(
        "bundle", "create", crate, "--store", reference / "coins.ome.zarr",
        "--metadata", inputs["study"], "--produced-by", inputs["study"], "upload1", "1.1.7",
        check=True,
    )  # fmt: skip
    assert (crate / "coins.ome.zarr" / "0" / "0" / ".zarray").is_file()
    failures = _roc_validate(crate, monkeypatch)
    assert failures == {"ro-crate-1.1": [], "process-run-crate": []}


def _roc_validate(crate: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """roc-validator's REQUIRED checks with the RO-Crate context served from ``rocrate``.

    The validator fetches the JSON-LD context over HTTP; here it gets the copy the
    ``rocrate`` package ships and every other URL fails, so the run is fully offline.
    """
    import requests
    from rocrate_validator import models, services
    from rocrate_validator.utils import document_loader, http

    from fairio_tools.bundle.inspect import ro_crate_context

    context = {"@context": ro_crate_context()}

    class _Context:
        status_code, headers, from_cache = 200, {"Content-Type": "application/ld+json"}, True
        text = json.dumps(context)

        def json(self) -> dict:
            return context

    def offline_get(self, url: str, *args, **kwargs):
        if url.startswith("https://w3id.org/ro/crate/1."):
            return _Context()
        raise requests.ConnectionError(f"offline test: {url}")

    monkeypatch.setattr(http.HttpRequester, "get", offline_get, raising=False)
    monkeypatch.setattr(document_loader, "_fetch_json_ld", lambda url: offline_get(0, url).json())
    failures = {}
    for profile in ("ro-crate-1.1", "process-run-crate"):
        settings = services.ValidationSettings(
            rocrate_uri=str(crate),
            profile_identifier=profile,
            requirement_severity=models.Severity.REQUIRED,
        )
        result = services.validate(settings)
        failures[profile] = [f"{i.check.identifier}: {i.message}" for i in result.get_issues()]
        assert result.passed() == (not failures[profile])
    return failures


def test_allow_invalid_records_the_failure(tmp_path: Path, invalid_store: Path) -> None:
    crate = tmp_path / "object.zip"
    result = run_fairio("bundle", "create", crate, "--store", invalid_store, "--allow-invalid")
    assert result.returncode == 0, result.stderr
    assert "broken.ome.zarr: bundled although NGFF validation failed" in result.stderr
    with zipfile.ZipFile(crate) as archive:
        metadata = json.loads(archive.read("ro-crate-metadata.json"))
        check = json.loads(archive.read("validation/broken.ome.zarr.ngff-check.json"))
    assert check["valid"] is False
    missing = (
        "0/.zattrs#/multiscales/0/datasets/0/path: "
        "dataset '0' should be a Zarr array, but '0/0' holds nothing"
    )
    assert check["errors"] == [missing]
    assert check["validator"].startswith("fairio-tools") and "validate-ngff" in check["validator"]
    action = next(e for e in metadata["@graph"] if e["@id"] == "#ngff-check-1")
    assert action["actionStatus"] == "http://schema.org/FailedActionStatus"
    assert (
        "NGFF validation FAILED for: broken.ome.zarr"
        in next(e for e in metadata["@graph"] if e["@id"] == "./")["description"]
    )
    listing = run_fairio("bundle", "inspect", crate)
    assert listing.returncode == 0
    assert json.loads(listing.stdout)["warnings"] == [
        f"OME-Zarr store 'broken.ome.zarr/' failed NGFF validation: {missing}"
    ]


def test_ome_zarr_written_by_ome_zarr_py_is_bundled(tmp_path: Path) -> None:
    """An NGFF 0.5 (Zarr v3) store, as current ome-zarr writes it, passes the check."""
    import numpy as np
    import zarr
    from ome_zarr.writer import write_image

    store = tmp_path / "blobs.ome.zarr"
    group = zarr.open_group(str(store), mode="w")
    write_image(np.zeros((2, 32, 48), dtype=np.uint16), group, axes="cyx")
    crate = tmp_path / "object"
    run_fairio("bundle", "create", crate, "--store", store, check=True)
    check = json.loads((crate / "validation" / "blobs.ome.zarr.ngff-check.json").read_text())
    assert (check["valid"], check["axes"], check["shape"]) == (True, ["c", "y", "x"], [2, 32, 48])


def _assert_refused(result, tmp_path: Path, crate: Path, *needles: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]
    assert not crate.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".{crate.name}")]


def test_missing_store_is_refused(tmp_path: Path) -> None:
    crate = tmp_path / "object.zip"
    missing = tmp_path / "nowhere.ome.zarr"
    result = run_fairio("bundle", "create", crate, "--store", missing)
    _assert_refused(result, tmp_path, crate, str(missing), "does not exist")


def test_missing_metadata_file_is_refused(tmp_path: Path, reference: Path) -> None:
    crate = tmp_path / "object.zip"
    missing = tmp_path / "study.jsonld"
    result = run_fairio(
        "bundle", "create", crate, "--store", reference / "coins.ome.zarr", "--metadata", missing
    )
    _assert_refused(result, tmp_path, crate, str(missing), "file does not exist")


def test_invalid_store_without_allow_invalid_is_refused(
    tmp_path: Path, invalid_store: Path
) -> None:
    crate = tmp_path / "object"
    result = run_fairio("bundle", "create", crate, "--store", invalid_store)
    _assert_refused(result, tmp_path, crate, str(invalid_store), "fails NGFF validation",
                    "--allow-invalid")  # fmt: skip


def test_metadata_that_is_not_json_is_refused(tmp_path: Path, reference: Path) -> None:
    crate = tmp_path / "object.zip"
    study = tmp_path / "study.jsonld"
    study.write_text("<rdf:RDF/>")
    result = run_fairio(
        "bundle", "create", crate, "--store", reference / "coins.ome.zarr", "--metadata", study
    )
    _assert_refused(result, tmp_path, crate, str(study), "not JSON")


def test_existing_crate_is_not_replaced(tmp_path: Path, reference: Path) -> None:
    crate = tmp_path / "object.zip"
    crate.write_bytes(b"keep me")
    result = run_fairio("bundle", "create", crate, "--store", reference / "coins.ome.zarr")
    assert result.returncode == 2
    assert "already exists" in result.stderr and "--overwrite" in result.stderr
    assert crate.read_bytes() == b"keep me"


def test_inspect_flags_a_listed_file_missing_from_the_crate(tmp_path: Path, reference: Path):
    crate = tmp_path / "object"
    run_fairio("bundle", "create", crate, "--store", reference / "coins.ome.zarr", check=True)
    (crate / "validation" / "coins.ome.zarr.ngff-check.json").unlink()
    result = run_fairio("bundle", "inspect", crate)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"fairio: {crate}: data entity 'validation/coins.ome.zarr.ngff-check.json' "
        "is listed but not in the crate"
    )


def test_inspect_refuses_a_zip_that_is_not_a_crate(tmp_path: Path) -> None:
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "hello")
    result = run_fairio("bundle", "inspect", archive)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"fairio: error: {archive}: not an RO-Crate: no ro-crate-metadata.json at the zip root"
    )
