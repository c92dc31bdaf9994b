"""Frame quality: every sub-frame measured once from its star list, judged within its master-tile group.

:mod:`~zemosaic.quality.measures` turns one detection pass (:func:`zemosaic.align.stars.detect_stars_with_sky`)
into a :class:`FrameQuality` (stars, FWHM, elongation and its angle, sky level and gradient, noise);
:mod:`~zemosaic.quality.group` relates a frame to its group's reference (transparency, local transparency) and
decides (rejection rules with their reasons, weights, partial-frame cells, the user's ``frame_exclude`` list).
The pipeline wires them into a master tile (:mod:`zemosaic.pipeline.frame_gate`); ``zemosaic inspect`` runs the
same measures without stacking (:func:`zemosaic.pipeline.inspect.inspect_frames`). User guide:
``docs/guide/frame_quality.rst``.
"""
from zemosaic.quality.group import RULES, GroupDecision, QualitySettings, decide_group, relate_to_reference
from zemosaic.quality.measures import FrameQuality, StarMeasures, measure_frame, measure_stars

__all__ = ["FrameQuality", "StarMeasures", "measure_frame", "measure_stars", "RULES", "QualitySettings",
           "GroupDecision", "decide_group", "relate_to_reference"]
