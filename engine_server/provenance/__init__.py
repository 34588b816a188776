"""Provenance: every asset says it is machine-generated, how, and from which latent and seed.

PNG, WAV and MP4 carry an embedded C2PA manifest; GLB, MIDI and JSON get a `.c2pa` sidecar
(hard-bound to the file's bytes). Both are signed with the per-install key from `keys.py`;
`label.py` signs, `verify.py` checks.
"""
