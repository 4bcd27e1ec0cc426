"""Write the small synthetic Zeiss CZI and Leica LIF files the Galaxy tool tests use.

    python -m tests.vendor_samples tools/convert_to_ome_zarr/test-data tools/image_info/test-data

``stack.czi``: 2 time points (2.5 s apart, a TimeStamps attachment) x 2 channels (DAPI in
blue, GFP in green) x 3 planes (0.5 µm) of 32 x 40 pixels at 0.1 µm. ``sweep.lif``: an
emission sweep of 4 bands (500 to 650 nm) of 32 x 40 pixels at 0.1 µm, no channels of its
own. Pixels are seeded noise over a ramp, so each plane differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tests.czi_synthetic import Tile, write_czi
from tests.lif_synthetic import Dimension, Image, write_lif


def _planes(shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ramp = np.add.outer(np.arange(shape[-2]), np.arange(shape[-1])) * 2
    return (rng.integers(0, 64, shape) + ramp).clip(0, 255).astype(np.uint8)


def write_stack_czi(path: Path) -> None:
    stack = _planes((2, 2, 3, 32, 40), 1)  # t, c, z, y, x
    tiles = [
        Tile(0, 0, stack[t, c, z], c=c, z=z, t=t)
        for t in range(2)
        for c in range(2)
        for z in range(3)
    ]
    write_czi(
        path, tiles, channels=["DAPI", "GFP"], colors=["#FF0000FF", "#FF00FF00"],
        z_step_m=5e-7, time_stamps_s=[0.0, 2.5],
    )  # fmt: skip


def write_sweep_lif(path: Path) -> None:
    sweep = _planes((4, 1, 32, 40), 2)  # λ, c, y, x
    x, y = Dimension(1, 40, 3.9e-6), Dimension(2, 32, 3.1e-6)  # 0.1 µm steps
    write_lif(path, [Image("sweep", sweep, x, y, [Dimension(5, 4, 1.5e-7, 5e-7)], ["Gray"])])


def main(convert_data: str, image_info_data: str) -> None:
    write_stack_czi(Path(convert_data) / "stack.czi")
    write_sweep_lif(Path(image_info_data) / "sweep.lif")


if __name__ == "__main__":
    main(*sys.argv[1:3])
