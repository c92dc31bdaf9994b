"""Measurement helpers shared by the end-to-end tests: star centroids, aperture fluxes, truth fits."""
from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi


def catalogue_pixels(catalogue, wcs, shape, *, margin=12, n_brightest=60, min_sep_px=10.0, max_peak=None):
    """Pixel positions (x, y) and G fluxes of bright, isolated catalogue stars inside ``shape``."""
    x, y = wcs.all_world2pix(np.asarray(catalogue["ra"]), np.asarray(catalogue["dec"]), 0)
    flux = np.asarray(catalogue["flux_g"], dtype=float)
    inside = (x > margin) & (y > margin) & (x < shape[1] - margin) & (y < shape[0] - margin)
    if max_peak is not None:
        inside &= np.asarray(catalogue["peak_adu"]) < max_peak
    idx = np.flatnonzero(inside)
    if len(idx) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    # isolation: against ALL stars brighter than 5 % of this one (faint neighbours do not matter)
    keep = []
    for i in idx:
        d = np.hypot(x - x[i], y - y[i])
        close = (d > 0) & (d < min_sep_px) & (flux > 0.05 * flux[i])
        if not close.any():
            keep.append(i)
    keep = np.array(keep, dtype=int)
    keep = keep[np.argsort(-flux[keep])][:n_brightest]
    return x[keep], y[keep], flux[keep]


def centroids(plane, x, y, *, box=4):
    """First-moment centroids in (2 box + 1)^2 windows around (x, y), after subtracting the median of a
    (4 box + 1)^2 window (local sky); NaN for positions that are NaN or too close to the edge."""
    plane = np.nan_to_num(np.asarray(plane, dtype=float), nan=float(np.nanmedian(plane)))
    out = np.full((len(x), 2), np.nan)
    yy, xx = np.mgrid[-box:box + 1, -box:box + 1]
    for k, (xi, yi) in enumerate(zip(x, y, strict=True)):
        if not (np.isfinite(xi) and np.isfinite(yi)):
            continue
        cx, cy = int(round(xi)), int(round(yi))
        outer = plane[cy - 2 * box:cy + 2 * box + 1, cx - 2 * box:cx + 2 * box + 1]
        if outer.shape != (4 * box + 1, 4 * box + 1):
            continue
        win = np.clip(plane[cy - box:cy + box + 1, cx - box:cx + box + 1] - np.median(outer), 0, None)
        total = win.sum()
        if total > 0:
            out[k] = cx + (xx * win).sum() / total, cy + (yy * win).sum() / total
    return out[:, 0], out[:, 1]


def refine_centroids(plane, x, y, *, box=4, iterations=3):
    for _ in range(iterations):
        x, y = centroids(plane, x, y, box=box)
    return x, y


def aperture_flux(plane, x, y, *, r=7.0, r_in=10.0, r_out=15.0):
    """Aperture sums with a median sky annulus (NaN pixels ignored)."""
    plane = np.asarray(plane, dtype=float)
    fluxes = np.full(len(x), np.nan)
    for k, (xi, yi) in enumerate(zip(x, y, strict=True)):
        cx, cy = int(round(xi)), int(round(yi))
        r0 = int(r_out) + 1
        win = plane[cy - r0:cy + r0 + 1, cx - r0:cx + r0 + 1]
        if win.shape != (2 * r0 + 1, 2 * r0 + 1):
            continue
        yy, xx = np.mgrid[cy - r0:cy + r0 + 1, cx - r0:cx + r0 + 1]
        d = np.hypot(xx - xi, yy - yi)
        ap, ann = d <= r, (d >= r_in) & (d <= r_out)
        if not np.isfinite(win[ap]).all():
            continue
        fluxes[k] = win[ap].sum() - np.nanmedian(win[ann]) * ap.sum()
    return fluxes


def fit_gain_plane(values, truth, mask):
    """Least-squares ``values ~ a * truth + b + c x + d y`` on ``mask``; returns the model everywhere."""
    h, w = truth.shape
    yy, xx = np.mgrid[0:h, 0:w]
    xn, yn = xx / w - 0.5, yy / h - 0.5
    A = np.column_stack([truth[mask], np.ones(mask.sum()), xn[mask], yn[mask]])
    coef, *_ = np.linalg.lstsq(A, values[mask], rcond=None)
    return coef[0] * truth + coef[1] + coef[2] * xn + coef[3] * yn


def distance_inside(mask):
    """Distance (px) of each True pixel to the nearest False pixel (0 outside)."""
    return ndi.distance_transform_edt(mask)


def gaussian_fwhm(plane, x, y, *, half=6):
    """FWHM (px) of a circular Gaussian + constant fitted by least squares in a (2 half + 1)^2 window around each
    (x, y); NaN where the window is not all finite or leaves the image."""
    from scipy.optimize import least_squares

    plane = np.asarray(plane, dtype=float)
    gy, gx = np.mgrid[-half:half + 1, -half:half + 1]
    out = np.full(len(x), np.nan)
    for k, (xi, yi) in enumerate(zip(x, y, strict=True)):
        cx, cy = int(round(xi)), int(round(yi))
        win = plane[cy - half:cy + half + 1, cx - half:cx + half + 1]
        if win.shape != gx.shape or not np.isfinite(win).all():
            continue

        def resid(p, win=win):
            return (p[0] + p[1] * np.exp(-0.5 * ((gx - p[2]) ** 2 + (gy - p[3]) ** 2) / p[4] ** 2) - win).ravel()

        start = [np.median(win), win.max() - np.median(win), xi - cx, yi - cy, 1.0]
        fit = least_squares(resid, start)
        out[k] = 2.3548 * abs(fit.x[4]) if fit.success else np.nan
    return out
