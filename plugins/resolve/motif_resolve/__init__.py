"""Motif for DaVinci Resolve: score the current timeline, import packs (see docs/RESOLVE.md)."""

__version__ = "0.1.0"
