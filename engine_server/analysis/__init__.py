"""Objective analysis of generated media, shared by the decoders' tests, the benchmarks and coherence checks.

Nothing here reads the latent: every measure works on the files' content (notes, audio) so it can
judge any decoder's output, including a shuffled control.

Per-modality readers for the coherence index (engine_server/coherence.py, docs/COHERENCE.md):
`image` (PNG), `video` (MP4), `kit` (GLB files) and `music` (WAV and MIDI).
"""
