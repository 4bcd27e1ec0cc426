"""TensorFlow 2 SavedModel bundles (``tensorflow_saved_model_bundle`` weights), checked before
TensorFlow loads anything.

A SavedModel is a program: its graph's ops can read and write files, call Python or reach
other machines. Such weights therefore run only with the package-code opt-in, and even then
the bundle is unpacked by ``package.extract_zip_safely`` into a temporary folder of its own
and its ``saved_model.pb`` is read with TensorFlow's protobuf classes (bounded) before any
TensorFlow loader sees it: a graph using an op of :data:`DENIED_OPS` anywhere (graph nodes and
every function of its library) is refused.

One exception: the functions that only the graph's ``saver_def`` reaches (``tf.saved_model.save``
traces a ``_traced_save`` and a ``_traced_restore`` into every bundle) may use the checkpoint
ops of :data:`SAVER_OPS`. They read and write the checkpoint path their caller gives, and
loading never calls them: TensorFlow 2 restores the bundle's ``variables/`` from Python with
its own checkpoint reader. A function also reachable from another graph node or from a
function the object graph makes loadable (serving functions, resource initialisers) is
checked like any other, so no serving function can reach them.

bioimageio.core 0.11 unzips these weights into ``./bioimageio_unzipped_tf_weights`` of the
working directory (``ensure_unzipped``): :func:`saved_model_workspace` runs its loading with
the working directory inside the temporary folder, so nothing lands where the user runs
fairio, and what core unzips is the zip just checked.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fairio_tools.errors import InputError
from fairio_tools.models.package import ModelPackage, extract_zip_safely, local_file

if TYPE_CHECKING:
    from bioimageio.spec.model.v0_5 import ModelDescr

FORMAT = "tensorflow_saved_model_bundle"
MAX_GRAPH_BYTES = 256 * 2**20
"""The largest ``saved_model.pb`` read (TensorFlow 2 keeps weights in ``variables/``, so real
graphs are a few MiB; protobuf itself stops at 2 GiB)."""

_FILES = "reads or writes files"
_PYTHON = "runs Python code"
_NETWORK = "connects to other machines"
DENIED_OPS: dict[str, str] = {
    **dict.fromkeys(
        (
            "ReadFile",
            "WriteFile",
            "MatchingFiles",
            "ImmutableConst",  # memory-maps a file named by an attribute
            "InitializeTableFromTextFile",
            "InitializeTableFromTextFileV2",
            "FileSystemSetConfiguration",
            "Save",
            "SaveV2",
            "SaveSlices",
            "MergeV2Checkpoints",
            "Restore",
            "RestoreV2",
            "RestoreSlice",
            "WholeFileReader",
            "WholeFileReaderV2",
            "TextLineReader",
            "TextLineReaderV2",
            "FixedLengthRecordReader",
            "FixedLengthRecordReaderV2",
            "TFRecordReader",
            "TFRecordReaderV2",
            "LMDBReader",
            "TextLineDataset",
            "TFRecordDataset",
            "TFRecordDatasetV2",
            "FixedLengthRecordDataset",
            "FixedLengthRecordDatasetV2",
            "CSVDataset",
            "CSVDatasetV2",
            "ExperimentalCSVDataset",
            "LMDBDataset",
            "ExperimentalLMDBDataset",
            "SqlDataset",
            "ExperimentalSqlDataset",
            "CacheDataset",
            "CacheDatasetV2",
            "SnapshotDataset",
            "SnapshotDatasetV2",
            "SaveDataset",
            "SaveDatasetV2",
            "LoadDataset",
            "DatasetToTFRecord",
            "ExperimentalDatasetToTFRecord",
            "CreateSummaryFileWriter",
            "CreateSummaryDbWriter",
            "WriteSummary",
            "WriteRawProtoSummary",
            "WriteScalarSummary",
            "WriteHistogramSummary",
            "WriteImageSummary",
            "WriteAudioSummary",
            "WriteGraphSummary",
            "ImportEvent",
            "DebugIdentity",  # debug_urls: file:// or grpc://
            "DebugIdentityV2",
            "DebugIdentityV3",
            "DebugNumericSummary",
            "DebugNumericSummaryV2",
            "PrintV2",  # output_stream may be file://PATH
        ),
        _FILES,
    ),
    **dict.fromkeys(("PyFunc", "PyFuncStateless", "EagerPyFunc"), _PYTHON),
    **dict.fromkeys(
        (
            "Rpc",
            "TryRpc",
            "RpcCall",
            "RpcCheckStatus",
            "RpcClient",
            "RpcServer",
            "RpcServerRegister",
            "RpcServerStart",
            "DataServiceDataset",
            "DataServiceDatasetV2",
            "DataServiceDatasetV3",
            "DataServiceDatasetV4",
            "RegisterDataset",
            "RegisterDatasetV2",
        ),
        _NETWORK,
    ),
    "Abort": "ends the process",
}
"""Ops a model's graph may not use, with the reason: the file system, Python, other machines,
the process. Image models need none of them; an op missing from this list that needs a
library TensorFlow does not have fails to load anyway (TensorFlow never loads code a
SavedModel names)."""
SAVER_OPS = frozenset({"SaveV2", "RestoreV2", "MergeV2Checkpoints"})
"""Checkpoint ops allowed in the functions only the ``saver_def`` reaches (see above)."""


def refuse_unsupported(package: ModelPackage, descr: ModelDescr) -> None:
    """Refuse what bioimageio.core's TensorFlow 2 adapter would get wrong: TensorFlow 1
    bundles (they need ``tf.Session``), several inputs (it calls ``layer(*inputs)``: the second
    becomes Keras's ``training`` flag) and several outputs (it takes the serving signature's
    dict in TensorFlow's order, not by name)."""
    weights = descr.weights.tensorflow_saved_model_bundle
    field = f"weights.{FORMAT}"
    version = weights.tensorflow_version if weights is not None else None
    if version is not None and version.major < 2:
        raise InputError(
            f"{FORMAT} weights of TensorFlow {version} are not run: TensorFlow 1 graphs need "
            "tf.Session, which TensorFlow 2 does not have",
            path=package.source,
            field=field,
        )
    for kind, tensors in (("inputs", descr.inputs), ("outputs", descr.outputs)):
        if len(tensors) > 1:
            how = (
                "would pass the second input as Keras's training flag"
                if kind == "inputs"
                else "takes the outputs in TensorFlow's order, not by their names"
            )
            raise InputError(
                f"{FORMAT} weights with {len(tensors)} {kind} are not run: bioimageio.core {how}",
                path=package.source,
                field=field,
            )


@contextlib.contextmanager
def saved_model_workspace(package: ModelPackage, descr: ModelDescr) -> Iterator[Path]:
    """Check the bundle and yield a temporary folder that is the working directory meanwhile
    (bioimageio.core unzips the weights into it; it is removed after)."""
    refuse_unsupported(package, descr)
    weights = descr.weights.tensorflow_saved_model_bundle
    assert weights is not None
    field = f"weights.{FORMAT}"
    bundle = local_file(package, weights.source)
    assert bundle is not None  # weights are chosen only when local
    with tempfile.TemporaryDirectory(prefix="fairio-saved-model-") as temporary:
        folder = Path(temporary)
        try:
            extract_zip_safely(bundle, folder / "checked")
            check_graph(folder / "checked")
        except InputError as error:
            raise InputError(
                f"{weights.source}: {error.message}", path=package.source, field=field
            ) from None
        with contextlib.chdir(folder):
            yield folder


def check_graph(folder: Path) -> None:
    """Refuse the unpacked SavedModel ``folder`` unless it is a TensorFlow 2 graph free of
    :data:`DENIED_OPS` (messages name what is wrong, not the folder)."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    path = folder / "saved_model.pb"
    if not path.is_file():
        raise InputError("no saved_model.pb at the top of the bundle: not a SavedModel")
    size = path.stat().st_size
    if size > MAX_GRAPH_BYTES:
        raise InputError(f"saved_model.pb has {size} bytes (limit {MAX_GRAPH_BYTES})")
    saved = saved_model_pb2.SavedModel()
    try:
        saved.ParseFromString(path.read_bytes())
    except DecodeError as error:
        raise InputError(f"saved_model.pb is not a SavedModel ({error})") from None
    if not saved.meta_graphs:
        raise InputError("saved_model.pb holds no graph")
    for graph in saved.meta_graphs:
        if not graph.object_graph_def.nodes:
            raise InputError(
                "written by TensorFlow 1 (no object graph): it needs tf.Session, which "
                "TensorFlow 2 does not have"
            )
        found = denied_op(graph)
        if found is not None:
            op, where = found
            raise InputError(
                f"the graph's {where} uses the op {op}, which {DENIED_OPS[op]}: refused "
                "(a model's graph may not touch files, Python, other machines or the process)"
            )


def denied_op(graph: Any) -> tuple[str, str] | None:
    """The first denied op of a ``MetaGraphDef`` and where it is, or None."""
    functions = {f.signature.name: f for f in graph.graph_def.library.function}
    saver_nodes = {
        name.split(":")[0].lstrip("^")
        for name in (graph.saver_def.restore_op_name, graph.saver_def.save_tensor_name)
        if name
    }
    nodes = graph.graph_def.node
    saver_only = _closure(
        [c for n in nodes if n.name in saver_nodes for c in _called(n, functions)], functions
    )
    loadable = [name for name in graph.object_graph_def.concrete_functions if name in functions]
    checked = _closure(
        [c for n in nodes if n.name not in saver_nodes for c in _called(n, functions)] + loadable,
        functions,
    )
    checked |= set(functions) - saver_only
    for node in nodes:
        if node.op in DENIED_OPS and not (node.name in saver_nodes and node.op in SAVER_OPS):
            return node.op, f"node {node.name!r}"
    for name, function in functions.items():
        allowed = SAVER_OPS if name not in checked else frozenset()
        for node in function.node_def:
            if node.op in DENIED_OPS and node.op not in allowed:
                return node.op, f"function {name!r}"
    return None


def _closure(names: list[str], functions: dict[str, Any]) -> set[str]:
    """``names`` and the library functions they call, directly or through others."""
    found: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending += [c for node in functions[name].node_def for c in _called(node, functions)]
    return found


def _called(node: Any, functions: dict[str, Any]) -> Iterator[str]:
    """The library functions one node calls: as its op, or through function attributes."""
    if node.op in functions:
        yield node.op
    for value in node.attr.values():
        names = [value.func.name] if value.HasField("func") else []
        names += [f.name for f in value.list.func]
        yield from (name for name in names if name in functions)
