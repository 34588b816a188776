#!/usr/bin/env bash
# Set up everything Motif needs on a fresh Debian machine; fast and idempotent on re-runs.
#   Debian packages (FluidSynth, the GM SoundFont, Node for the glTF validator)
#   .venv with the pinned Python packages (requirements.lock; torch==2.13.0 CPU)
#   node_modules (package-lock.json)
#   models/: the text encoder exported to ONNX and the latent map model
#   a per-install C2PA signing key (local CA + Ed25519 signer) in the user config dir
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
DEB_PACKAGES=(fluidsynth libfluidsynth3 fluid-soundfont-gm nodejs npm)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# ---------------------------------------------------------------- Debian packages
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if [ "$p" = npm ] || [ "$p" = nodejs ]; then
    command -v node >/dev/null && command -v npm >/dev/null && continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "Motif needs these Debian packages: ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    echo "then run this command again." >&2
    exit 1
  fi
fi

# ---------------------------------------------------------------- Python
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
# pip on some images warns once per package about absent local mirrors; keep real errors visible.
pip_quiet() { .venv/bin/python -m pip "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
want=$(stamp_of requirements.lock pyproject.toml)
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PY"
  "$PY" -m venv .venv
fi
if [ "$(cat .venv/.motif-stamp 2>/dev/null)" != "$want" ]; then
  say "installing pinned Python packages (first time: a few minutes)"
  pip_quiet install -q --disable-pip-version-check -r requirements.lock
  # basic-pitch only for its ONNX model (the hum reader serves it with onnxruntime): its metadata pulls
  # TensorFlow on Linux/Python 3.11, so it is installed without dependencies (docs/MUSIC.md, "Hum a melody").
  pip_quiet install -q --disable-pip-version-check --no-deps basic-pitch==0.4.0
  pip_quiet install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
  echo "$want" > .venv/.motif-stamp
fi

# ---------------------------------------------------------------- Node tools (tests)
want_node=$(stamp_of package.json package-lock.json)
if [ "$(cat node_modules/.motif-stamp 2>/dev/null)" != "$want_node" ]; then
  say "installing Node tools (gltf-validator)"
  npm ci --no-audit --no-fund --silent
  echo "$want_node" > node_modules/.motif-stamp
fi

# ---------------------------------------------------------------- models (exported once)
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/python scripts/export_encoder.py
.venv/bin/python scripts/build_latent_model.py

# ---------------------------------------------------------------- host plugin wheels (build-time cache)
# The Unreal plugin bundles grpcio/protobuf wheels for UE's Python; fetched once here so the tests
# and `make unreal-plugin` for this platform build without reaching a registry.
.venv/bin/python scripts/build_unreal_plugin.py --fetch-only --platforms Linux
# The Resolve plugin's test builds the Linux zip for the venv's Python (3.11) the same way.
.venv/bin/python scripts/build_resolve_plugin.py --fetch-only --platforms linux --pythons 3.11

# ---------------------------------------------------------------- provenance key (once per install)
.venv/bin/python -m engine_server.provenance.keys >/dev/null
say "ready"
