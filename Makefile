# Motif: two commands on a fresh machine.
#   make demo   set everything up, then write a demo pack for the default prompt into ./out/
#   make test   set everything up, then run the linters and the whole test suite
PY := .venv/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup demo test lint pytest bench proto clean blender-extension unreal-plugin ableton-script resolve-plugin

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) -m engine_server.cli generate --out out

test: setup lint pytest

lint:
	$(PY) -m ruff check .
	$(PY) -m mypy engine_server motif_client plugins/blender/motif_blender bench scripts \
		plugins/unreal/Motif/Content/Python plugins/unreal/testing plugins/ableton/Motif plugins/ableton/testing \
		plugins/resolve/motif_resolve plugins/resolve/testing

pytest:
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/run_all.py

proto:
	$(PY) scripts/gen_proto.py

clean:
	rm -rf out dist build .pytest_cache .mypy_cache .ruff_cache

# The Blender extension: dist/motif_blender-<version>-<platform>.zip (see docs/BLENDER.md).
blender-extension: setup
	$(PY) scripts/build_blender_extension.py

# The Unreal Engine 5 plugin: dist/Motif-<version>-UE5.zip (see docs/UNREAL.md).
unreal-plugin: setup
	$(PY) scripts/build_unreal_plugin.py

# The DaVinci Resolve plugin: dist/Motif-<version>-Resolve.zip (see docs/RESOLVE.md; `motif install resolve`).
resolve-plugin: setup
	$(PY) scripts/build_resolve_plugin.py

# The Ableton Live Remote Script: dist/ableton/Motif/, python-osc bundled (see docs/ABLETON.md).
ableton-script: setup
	$(PY) scripts/build_ableton_script.py
