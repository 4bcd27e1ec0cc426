"""Write the plate-summary tool's Galaxy test data: ``python -m tests.make_plate_test_data``.

A synthetic screen (dark fields with bright 4 x 4 squares, as in ``test_plate_summary``)
converted by ``fairio convert`` into a small NGFF 0.5 plate: well A/1 with one field of 2
squares, well A/2 with two fields of 5 and 3 squares. Deterministic."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fairio_tools.convert.converter import ConversionOptions, convert_to_ome_zarr
from tests.conftest import ROOT
from tests.test_convert_plate import sample, write_screen
from tests.test_plate_summary import field_plane

WELLS = {(0, 0): [(2, 900)], (0, 1): [(5, 2000), (3, 2000)]}
"""(row, column) -> its fields as (squares, brightness)."""


def main() -> None:
    planes, wells, image = [], "", 0
    for (row, column), fields in WELLS.items():
        samples = ""
        for squares, brightness in fields:
            planes.append(field_plane(squares, brightness))
            samples += sample(f"WS:{image}", image)
            image += 1
        wells += f'<Well ID="W:{row}:{column}" Row="{row}" Column="{column}">{samples}</Well>'
    target = ROOT / "tools/plate_summary/test-data/plate.ome.zarr"
    shutil.rmtree(target, ignore_errors=True)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "screen.ome.tiff"
        write_screen(source, wells, planes=planes)
        convert_to_ome_zarr(source, target, ConversionOptions(levels=1, compression="zstd"))
    print(f"wrote {target}: {sum(1 for p in target.rglob('*') if p.is_file())} files")


if __name__ == "__main__":
    main()
