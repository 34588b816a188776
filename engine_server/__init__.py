"""Motif engine: prompt -> shared creative latent -> decoders -> asset pack, served over gRPC."""

__version__ = "0.1.0"
