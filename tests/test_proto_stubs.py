"""The checked-in stubs must be exactly what scripts/gen_proto.py makes from proto/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED_IN = ROOT / "motif_client" / "motif_pb"


def test_stubs_match_proto(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--out", str(tmp_path)], check=True,
                   capture_output=True)
    fresh = {p.name: p.read_text() for p in tmp_path.iterdir() if p.is_file()}
    current = {p.name: p.read_text() for p in CHECKED_IN.iterdir() if p.is_file()}
    assert fresh.keys() == current.keys()
    stale = [name for name in fresh if fresh[name] != current[name]]
    assert not stale, f"stubs drifted from proto/ ({stale}); run `make proto` and commit"


def test_stubs_import_without_engine_code() -> None:
    """Plugins vendor the client folder alone: it must not import engine_server internals."""
    for py in (ROOT / "motif_client").rglob("*.py"):
        text = py.read_text()
        assert "engine_server" not in text.replace("motif_client", ""), f"{py} imports engine code"
