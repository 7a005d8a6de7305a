"""Strict behaviour of the emulator (issue 10): see the module docstring of
baseline_moto_ext and tests/emulator/README.md."""

from __future__ import annotations


def apply() -> None:
    """Apply this module's patches (called once by baseline_moto_ext.apply)."""


def wrap_wsgi(app):  # type: ignore[no-untyped-def]
    """Wrap moto's WSGI application with the checks AWS makes on every request
    (called by server.py). Returns the app to serve."""
    return app
