"""The package version, in a module of its own so that any part of the package can read it without importing the
front door (``zemosaic/__init__.py``, which sits above every other part)."""

__version__ = "0.1.0"
