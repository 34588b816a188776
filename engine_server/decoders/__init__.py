"""Decoders: latent + seed -> standard files. See base.py for the interface."""
