"""A jittery camera gradient and the sky's plane (issue 26 item 1, wave 7 stop 5): zemosaic.mosaic.sky_motion.

A horizon glow seen through changing haze: each frame's camera gradient changes by 10 % in strength and 3 deg in
direction (the synthetic generator's default), the same change in R, G and B (one light source); the sky's level
brightens through the night and its colour drifts and flickers by 4 % from frame to frame. Over 25 deg of field
rotation each channel cannot pin the sky's plane through that jitter, and the fit falls back.

What the channels could add: with the jitter taken as one for all of them, the sky's plane is pinned by the
frames' colour flicker, but only if the gradient's colour follows the sky level's flicker exactly (as the generator
draws it). Where part of the flicker is a glow without gradient (airglow), such a fit reads the mismatch as a sky
plane, 15-26 times its own stated uncertainty with 20 % of the flicker not followed, and the data cannot tell (the
mismatch and the plane fit equally well). So the contract tested here: whatever the fit claims to have identified
is within a few of its stated standard deviations of the truth, with or without such a glow; the jittery sets
fall back. Cells are sampled from a known sky (that of ``test_sky_motion.py``, in a red nebula's colour) through
rotated, dithered frames, as there.
"""
import numpy as np

from sky_scenes import nebula_floor_sky
from zemosaic.mosaic import sky_motion

W, H, CELL = 240, 400, 20
NEBULA = np.array([1.0, 0.35, 0.5])          # an emission nebula: red
SKY = np.array([1.05, 1.0, 0.75])             # light pollution's colour
TINT = np.array([1.25, 1.0, 0.8])             # its gradient is redder towards the horizon


def _turn(v, rad):
    return np.array([np.cos(rad) * v[0] - np.sin(rad) * v[1], np.sin(rad) * v[0] + np.cos(rad) * v[1]])


def rgb_panels(*, seed, groups=4, per_group=10, jitter=0.10, angle_jitter_deg=3.0, follows=1.0, flicker=0.04):
    """Frames of ``groups`` panels in turn over 25 deg of field rotation, three channels. The light pollution's
    gradient follows the share ``follows`` of the sky level's colour flicker; the rest is a glow without gradient
    (airglow)."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(CELL / 2, W, CELL), np.arange(CELL / 2, H, CELL))
    x, y = xs.ravel(), ys.ravel()
    out = []
    for g in range(groups):
        centre = np.array([150.0 + 170.0 * g, 300.0 + 60.0 * (g % 2)])
        base = np.array([0.20, -0.08]) / 400.0 * rng.uniform(0.7, 1.3)       # fraction of the level per px
        for k in range(per_group):
            t = (k * groups + g) / (groups * per_group - 1)
            a = np.radians(25.0 * t)
            d = rng.uniform(-4, 4, 2)
            gx = centre[0] + d[0] + np.cos(a) * (x - W / 2) - np.sin(a) * (y - H / 2)
            gy = centre[1] + d[1] + np.sin(a) * (x - W / 2) + np.cos(a) * (y - H / 2)
            level = 400.0 * (1 + 0.15 * t) * (1 + 0.03 * rng.standard_normal())
            flick = flicker * rng.standard_normal(3)
            colour = SKY * (1 + flick) * (1 + np.array([0.06, 0.0, -0.06]) * t)
            grad = _turn(base, np.radians(angle_jitter_deg * rng.standard_normal())) * (
                1 + jitter * rng.standard_normal())
            lp = level * SKY * (1 + follows * flick) * (1 + np.array([0.06, 0.0, -0.06]) * t)
            ramp = grad[0] * (x - W / 2) + grad[1] * (y - H / 2)
            values = (NEBULA[None, :] * nebula_floor_sky(gx, gy)[:, None] + level * colour[None, :] + 300.0
                      + (lp * TINT)[None, :] * ramp[:, None])
            values = values + rng.normal(0, 0.5, values.shape)
            values[rng.random(x.size) < 0.02] += 500.0
            out.append(sky_motion.FrameCells(values=values, x=x, y=y, gx=gx, gy=gy, group=g, zero=300.0))
    return out


def plane_errors(model):
    """Per channel, the fitted sky's plane minus the truth's (ADU per 1000 px, its length)."""
    ny, nx = model.nodes.shape[:2]
    gx, gy = np.meshgrid(model.origin[0] + np.arange(nx) * model.step, model.origin[1] + np.arange(ny) * model.step)
    out = []
    for c in range(3):
        d = model.nodes[..., c] - NEBULA[c] * nebula_floor_sky(gx, gy)
        ok = np.isfinite(d)
        coef = np.linalg.lstsq(np.column_stack([np.ones(ok.sum()), gx[ok], gy[ok]]), d[ok], rcond=None)[0]
        out.append(1e3 * float(np.hypot(*coef[1:])))
    return np.array(out)


def _claims(**kw):
    """Per seed: identified or not, and each channel's plane error in the fit's own standard deviations."""
    out = []
    for seed in range(kw.pop("seeds")):
        model = sky_motion.fit_motion_sky(rgb_panels(seed=seed, **kw), node_step=CELL)
        out.append((model.identified, plane_errors(model) / (1e3 * model.plane_sigma), model.reason))
    return out


def test_a_jittery_gradient_is_not_claimed_beyond_its_uncertainty():
    """The default jitter, the gradient following all, 80 % or none of the sky's colour flicker: whatever plane is
    claimed is within 5 of its standard deviations of the truth. Today none is (each channel pins it to 4.6-6.3 %
    of the sky level only, > 2 %: the run falls back). A fit that took the jitter as one for all the channels
    claimed it on every seed, 15-26 of its standard deviations off where 80 % of the flicker was followed."""
    claims = [c for follows in (1.0, 0.8, 0.0) for c in _claims(seeds=2, follows=follows)]
    for identified, z, reason in claims:
        assert not identified or np.all(z < 5.0)
        assert identified or "changes too much from frame to frame" in reason


def test_what_is_claimed_is_within_its_stated_uncertainty():
    """A steady gradient (1 %, 0.5 deg), whether or not it follows the sky's colour flicker: the plane is claimed
    on most seeds, and every claimed channel is within 5 of its standard deviations of the truth (measured at most
    3.7: the sky's zero, the nebula's darkest 1 %, biases it a little)."""
    claims = _claims(seeds=3, jitter=0.01, angle_jitter_deg=0.5) + _claims(seeds=3, jitter=0.01,
                                                                            angle_jitter_deg=0.5, follows=0.0)
    print([(i, np.round(z, 1).tolist()) for i, z, _ in claims])
    assert sum(identified for identified, _, _ in claims) >= 4
    for identified, z, _ in claims:
        assert not identified or np.all(z < 5.0)
