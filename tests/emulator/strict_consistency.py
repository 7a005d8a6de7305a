"""Strict behaviour of the emulator (issue 10): see the module docstring of
baseline_moto_ext and tests/emulator/README.md."""

from __future__ import annotations


def apply() -> None:
    """Apply this module's patches (called once by baseline_moto_ext.apply)."""
