"""Synthetic QC images with known truth: beads from theoretical PSF models (psfmodels, GPL,
a test-only dependency) and illumination fields with a known fall-off; and an OME record
with every field of the 4DN-BINA-OME tiers (built with ome-types)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np


@dataclass
class Optics:
    na: float
    wavelength_um: float
    immersion_index: float
    dxy_um: float
    dz_um: float
    model: str = "vectorial"
    excitation_um: float | None = None
    """Set for an ideal confocal microscope (pinhole closed): the PSF is the product of the
    excitation and emission PSFs, Gaussian-like and about 1/sqrt(2) as wide."""

    def psf(self, nz: int, nxy: int) -> np.ndarray:
        """The noiseless PSF, centred in a (nz, nxy, nxy) stack, peak 1."""
        emission = self._widefield(nz, nxy, self.wavelength_um)
        if self.excitation_um is None:
            return emission
        confocal = emission * self._widefield(nz, nxy, self.excitation_um)
        return confocal / confocal.max()

    def _widefield(self, nz: int, nxy: int, wavelength_um: float) -> np.ndarray:
        import psfmodels

        n = self.immersion_index
        return psfmodels.make_psf(
            nz,
            nxy,
            dxy=self.dxy_um,
            dz=self.dz_um,
            NA=self.na,
            wvl=wavelength_um,
            ns=n,
            ni=n,
            ni0=n,
            model=self.model,
        )

    def true_fwhm(self) -> dict[str, float]:
        """Half-maximum widths of the same model sampled 20 times finer (no fit involved)."""
        fine = Optics(
            self.na,
            self.wavelength_um,
            self.immersion_index,
            self.dxy_um / 20,
            self.dz_um / 20,
            self.model,
            self.excitation_um,
        )
        lateral_extent, axial_extent = 4 * self.dxy_um * 5, 4 * self.dz_um * 5
        nxy = 2 * int(lateral_extent / fine.dxy_um / 2) + 1
        nz = 2 * int(axial_extent / fine.dz_um / 2) + 1
        lateral = fine.psf(1, nxy)[0]
        axial_stack = fine.psf(nz, 3)
        centre = nxy // 2
        x = _half_max_width(lateral[centre, :]) * fine.dxy_um
        y = _half_max_width(lateral[:, centre]) * fine.dxy_um
        z = _half_max_width(axial_stack[:, 1, 1]) * fine.dz_um
        return {"x": x, "y": y, "z": z}


def _half_max_width(profile: np.ndarray) -> float:
    """Width in samples between the two half-maximum crossings around the peak."""
    peak = int(np.argmax(profile))
    level = profile[peak] / 2
    left = peak
    while profile[left] > level:
        left -= 1
    right = peak
    while profile[right] > level:
        right += 1
    x_left = left + (level - profile[left]) / (profile[left + 1] - profile[left])
    x_right = right - 1 + (profile[right - 1] - level) / (profile[right - 1] - profile[right])
    return float(x_right - x_left)


def bead_stack(
    optics: Optics,
    shape: tuple[int, int, int],
    positions: list[tuple[int, int, int]],
    *,
    photons: float = 3000.0,
    background: float = 100.0,
    seed: int = 0,
    box: tuple[int, int] = (31, 33),
) -> np.ndarray:
    """uint16 stack of beads at ``positions`` (integer voxels), with Poisson noise; counts
    over 65535 saturate, as a detector does."""
    nz, nxy = box
    psf = optics.psf(nz, nxy)
    clean = np.zeros(shape)
    for z, y, x in positions:
        region = []
        source = []
        for centre, size, n in zip((z, y, x), (nz, nxy, nxy), shape, strict=True):
            low, high = centre - size // 2, centre + size // 2 + 1
            region.append(slice(max(low, 0), min(high, n)))
            source.append(slice(max(low, 0) - low, size - (high - min(high, n))))
        clean[tuple(region)] += psf[tuple(source)]
    rng = np.random.default_rng(seed)
    return np.minimum(rng.poisson(clean * photons + background), 65535).astype(np.uint16)


def complete_ome() -> Any:
    """An OME document with every field of tiers 1-3, built with ome-types."""
    from ome_types import model

    laser = model.Laser(
        id="LightSource:0",
        manufacturer="Coherent",
        model="OBIS 488",
        serial_number="L1",
        power=100,
        wavelength=488,
    )
    detector = model.Detector(
        id="Detector:0",
        type="CMOS",
        manufacturer="Hamamatsu",
        model="ORCA-Fusion",
        serial_number="D1",
    )
    objective = model.Objective(
        id="Objective:0",
        lens_na=1.4,
        nominal_magnification=63,
        calibrated_magnification=62.8,
        immersion="Oil",
        correction="PlanApo",
        working_distance=140,
        manufacturer="Zeiss",
        model="Plan-Apochromat 63x/1.4",
        serial_number="O1",
    )
    emission = model.Filter(
        id="Filter:0", transmittance_range=model.TransmittanceRange(cut_in=500, cut_out=550)
    )
    instrument = model.Instrument(
        id="Instrument:0",
        microscope=model.Microscope(
            type="Inverted", manufacturer="Zeiss", model="Axio Observer", serial_number="M1"
        ),
        objectives=[objective],
        detectors=[detector],
        lasers=[laser],
        filters=[emission],
    )
    channel = model.Channel(
        id="Channel:0",
        excitation_wavelength=488,
        emission_wavelength=525,
        illumination_type="Epifluorescence",
        acquisition_mode="WideField",
        contrast_method="Fluorescence",
        pinhole_size=1,
        light_source_settings=model.LightSourceSettings(id="LightSource:0", attenuation=0.5),
        detector_settings=model.DetectorSettings(
            id="Detector:0", gain=1, offset=100, binning="1x1", read_out_rate=200, voltage=0
        ),
        light_path=model.LightPath(emission_filters=[model.FilterRef(id="Filter:0")]),
    )
    planes = [
        model.Plane(
            the_z=z,
            the_c=0,
            the_t=0,
            exposure_time=0.1,
            position_x=1,
            position_y=2,
            position_z=z * 0.2,
            delta_t=z * 0.1,
        )
        for z in range(2)
    ]
    pixels = model.Pixels(
        id="Pixels:0",
        dimension_order="XYZCT",
        type="uint16",
        size_x=8,
        size_y=8,
        size_z=2,
        size_c=1,
        size_t=1,
        physical_size_x=0.1,
        physical_size_y=0.1,
        physical_size_z=0.2,
        channels=[channel],
        planes=planes,
        metadata_only=model.MetadataOnly(),
    )
    image = model.Image(
        id="Image:0",
        name="complete",
        acquisition_date=datetime(2026, 1, 2, 3, 4, 5),
        instrument_ref=model.InstrumentRef(id="Instrument:0"),
        objective_settings=model.ObjectiveSettings(
            id="Objective:0", medium="Oil", refractive_index=1.515
        ),
        pixels=pixels,
    )
    return model.OME(instruments=[instrument], images=[image])
