"""Matplotlib, imported only when a figure is drawn (the package itself does not need it)."""

from __future__ import annotations


def pyplot():
    """``matplotlib.pyplot``, imported on first use."""
    import matplotlib.pyplot as plt

    return plt
