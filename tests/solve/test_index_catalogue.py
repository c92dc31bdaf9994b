"""index_catalogue reads the stars of astrometry.net index files: checked against query-starkd and known stars."""
import shutil
import subprocess

import numpy as np
import pytest
from astropy.io import fits

from zemosaic.solve import index_catalogue as ic

INDEX_FILES = ic.find_index_files()
TYCHO07 = next((p for p in INDEX_FILES if p.name.startswith("index-tycho2-07")), None)
needs_tycho07 = pytest.mark.skipif(TYCHO07 is None, reason="index-tycho2-07 not installed")


def _sep_arcsec(ra1, dec1, ra2, dec2):
    r1, d1, r2, d2 = map(np.radians, (ra1, dec1, ra2, dec2))
    h = np.sin((d2 - d1) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin((r2 - r1) / 2) ** 2  # haversine
    return np.degrees(2 * np.arcsin(np.sqrt(h))) * 3600.0


@needs_tycho07
@pytest.mark.skipif(shutil.which("query-starkd") is None, reason="query-starkd not installed")
def test_cone_agrees_star_for_star_with_query_starkd(tmp_path):
    ra0, dec0, radius = 83.8, -5.4, 1.0
    out = tmp_path / "q.fits"
    subprocess.run(["query-starkd", "-o", str(out), "-r", str(ra0), "-d", str(dec0), "-R", str(radius),
                    "-t", "MAG_VT", str(TYCHO07)], check=True, capture_output=True)
    ref = fits.getdata(out, 1)
    stars = ic.index_stars(ra0, dec0, radius, [TYCHO07])
    assert len(ref) > 100 and len(stars) == len(ref)
    order = np.argsort(np.asarray(ref["MAG_VT"], dtype=np.float64), kind="stable")
    ref_ra, ref_dec = np.asarray(ref["RA"])[order], np.asarray(ref["DEC"])[order]
    ref_mag = np.asarray(ref["MAG_VT"], dtype=np.float64)[order]
    np.testing.assert_array_equal(stars.mag, ref_mag)  # same stars, same (brightest-first) order
    assert np.max(_sep_arcsec(stars.ra, stars.dec, ref_ra, ref_dec)) < 1e-3
    assert np.all(np.diff(stars.mag) >= 0)
    assert np.all(_sep_arcsec(stars.ra, stars.dec, ra0, dec0) <= radius * 3600.0 + 1e-6)


@needs_tycho07
def test_known_bright_stars_are_where_they_should_be():
    for name, ra, dec, vmag in [("Betelgeuse", 88.7929, 7.4071, 0.5), ("Mintaka", 83.0017, -0.2991, 2.2),
                                ("theta1 Ori C", 83.8186, -5.3897, 5.1)]:
        stars = ic.index_stars(ra, dec, 10.0 / 3600.0, [TYCHO07])
        assert len(stars) >= 1, name
        assert _sep_arcsec(stars.ra[0], stars.dec[0], ra, dec) < 3.0, name
        assert abs(stars.mag[0] - vmag) < 0.6, name  # MAG_VT is Tycho V_T, close to V


@pytest.mark.skipif(len([p for p in INDEX_FILES if p.name.startswith("index-tycho2-0")]) < 2,
                    reason="needs two Tycho-2 index scales")
def test_several_index_files_are_merged_without_duplicates():
    paths = [p for p in INDEX_FILES if p.name.startswith("index-tycho2-0")]
    each = [ic.index_stars(83.8, -5.4, 1.0, [p]) for p in paths]
    merged = ic.index_stars(83.8, -5.4, 1.0, paths)
    assert max(len(s) for s in each) < len(merged) < sum(len(s) for s in each)
    xyz = np.column_stack([np.cos(np.radians(merged.dec)) * np.cos(np.radians(merged.ra)),
                           np.cos(np.radians(merged.dec)) * np.sin(np.radians(merged.ra)),
                           np.sin(np.radians(merged.dec))])
    from scipy.spatial import cKDTree
    assert len(cKDTree(xyz).query_pairs(np.radians(1.0 / 3600.0))) == 0
    assert np.all(np.diff(merged.mag) >= 0)
    # a folder works as well as its files
    assert len(ic.index_stars(83.8, -5.4, 1.0, [paths[0].parent])) >= len(merged)


@needs_tycho07
def test_cone_across_ra_zero_and_at_the_pole():
    near_zero = ic.index_stars(0.05, 10.0, 0.5, [TYCHO07])
    assert len(near_zero) > 5 and np.any(near_zero.ra > 359.0) and np.any(near_zero.ra < 1.0)
    pole = ic.index_stars(0.0, 90.0, 1.0, [TYCHO07])
    assert len(pole) > 5 and np.all(pole.dec >= 89.0 - 1e-9)


def test_find_index_files_and_errors(tmp_path, monkeypatch):
    (tmp_path / "index-9999-00.fits").write_bytes(b"")
    (tmp_path / "other.fits").write_bytes(b"")
    monkeypatch.setenv(ic.INDEX_DIR_ENV, str(tmp_path))
    found = ic.find_index_files()
    assert found[0] == tmp_path / "index-9999-00.fits" and tmp_path / "other.fits" not in found
    assert ic.find_index_files([tmp_path / "nowhere"]) == []
    with pytest.raises(FileNotFoundError):
        ic.index_stars(10.0, 10.0, 1.0, [tmp_path / "nowhere"])
    with pytest.raises(ic.IndexFileError, match="index-9999-00"):
        ic.index_stars(10.0, 10.0, 1.0, [tmp_path / "index-9999-00.fits"])
    with pytest.raises(ValueError):
        ic.index_stars(10.0, 10.0, 0.0, [tmp_path])
    fake = tmp_path / "index-9999-01.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([fits.Column("x", "E", array=[1.0])])]).writeto(fake)
    with pytest.raises(ic.IndexFileError, match="no star kd-tree"):
        ic.index_stars(10.0, 10.0, 1.0, [fake])
