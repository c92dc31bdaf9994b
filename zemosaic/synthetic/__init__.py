"""Synthetic Seestar-like datasets with ground truth: ``generator`` builds them, ``options`` holds the
``zemosaic synth`` command-line options."""
