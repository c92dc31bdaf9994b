"""The in-memory API (zemosaic.pipeline.in_memory): frames in memory give the folder run's mosaic, returned as
CCDData with a celestial WCS, a mask and the weight."""
import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import CCDData
from reproject import reproject_interp

from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.pipeline.in_memory import InMemoryFrame, mosaic_from_frames
from zemosaic.pipeline.run import run_mosaic
from zemosaic.synthetic.generator import SynthSpec, generate_dataset


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("in_memory")
    generate_dataset(root / "in", SynthSpec(panels=(2, 1), frames_per_panel=3, width=240, height=360,
                                            pixel_scale_arcsec=4.8))
    result = run_mosaic(root / "in", root / "out", resolve_config())
    return root, fits_io.read_fits_image(result.mosaic_path)


def test_frames_in_memory_give_the_folder_runs_mosaic(folder_run, tmp_path):
    root, reference = folder_run
    frames = []
    for path in sorted((root / "in").glob("*.fit")):
        with fits.open(path) as hdul:
            frames.append(InMemoryFrame(hdul[0].data.copy(), hdul[0].header.copy(), name=path.name))
    products = mosaic_from_frames(frames, resolve_config())
    mosaic = products.mosaic
    assert isinstance(mosaic, CCDData) and mosaic.unit.to_string() == "adu"
    np.testing.assert_array_equal(mosaic.data, np.moveaxis(reference.data, -1, 0))
    np.testing.assert_array_equal(products.weight, reference.extensions["WEIGHT"])
    assert np.array_equal(mosaic.mask[0], products.weight == 0) and mosaic.mask.shape == mosaic.data.shape
    assert mosaic.wcs.naxis == 2 and mosaic.wcs.has_celestial
    assert mosaic.wcs.wcs.compare(reference.wcs.wcs, tolerance=1e-12)
    assert mosaic.meta["NCOMBINE"] == 6 and mosaic.meta["EXPTIME"] == reference.header["EXPTIME"]
    assert len(products.master_tiles) == 2 and all(t.wcs.naxis == 2 for t in products.master_tiles)
    assert set(products.tile_maps[0]) == {"ALPHA", "COVERAGE"}
    assert np.array_equal(products.master_tiles[0].mask[0], products.tile_maps[0]["ALPHA"] <= 0)
    assert products.report["status"] == "ok"
    # reproject takes the celestial WCS as it is (no .celestial needed)
    red, footprint = reproject_interp((mosaic.data[0], mosaic.wcs), products.master_tiles[0].wcs,
                                      shape_out=products.master_tiles[0].shape[1:])
    assert footprint.mean() > 0.9 and np.nanmax(red) > 0


def test_frames_as_ccddata_and_tuples_and_bad_input(folder_run, tmp_path):
    root, reference = folder_run
    paths = sorted((root / "in").glob("*.fit"))[:3]  # one field
    with fits.open(paths[0]) as hdul:
        as_tuple = (hdul[0].data.copy(), hdul[0].header.copy())
    frames = [as_tuple] + [CCDData.read(p, unit="adu") for p in paths[1:]]
    products = mosaic_from_frames(frames, {"write_preview": False}, work_dir=tmp_path / "work")
    assert products.mosaic.meta["NCOMBINE"] == 3 and (tmp_path / "work" / "out" / "mosaic.fits").is_file()
    with pytest.raises(ValueError, match="at least one frame"):
        mosaic_from_frames([])
    with pytest.raises(ValueError, match="H x W"):
        mosaic_from_frames([InMemoryFrame(np.zeros((2, 3, 4, 5)))])
