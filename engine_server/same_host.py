"""LocateAsset: hand a client on this machine the read-only store file behind an asset.

The gRPC stream (FetchAsset) reaches about a third of a raw loopback socket; a client on the same
machine does far better copying the store file itself with the kernel's copy (motif_client.local_fetch,
docs/FETCH.md). Only peers whose connection never left the machine (loopback TCP, a unix socket) are
answered: a path means nothing on another machine, and remote hosts keep FetchAsset and its resume.
The client verifies the sha256 of the bytes it copied, so it never has to trust the file it was given.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from engine_server.errors import FailedPrecondition
from engine_server.store import PackStore
from motif_client.channel import is_loopback


def peer_is_local(peer: str) -> bool:
    """Whether a gRPC peer ("ipv4:127.0.0.1:5555", "ipv6:[::1]:5555", "unix:/run/x.sock") is on this machine.

    grpc percent-encodes some peers ("ipv6:%5B::1%5D:5555"); anything not understood is not local.
    """
    scheme, _, rest = unquote(peer).partition(":")
    if scheme in ("unix", "unix-abstract"):
        return True
    if scheme not in ("ipv4", "ipv6"):
        return False
    host = rest.rpartition(":")[0].strip("[]")
    return bool(host) and is_loopback(host)


def locate(store: PackStore, pack_id: str, relpath: str, peer: str) -> tuple[Path, int, str]:
    """(absolute path, bytes, sha256) of the file behind an asset, for a peer on this machine only.

    The peer is checked before the store is read, so a remote caller learns nothing about the store.
    """
    if not peer_is_local(peer):
        raise FailedPrecondition(
            "LocateAsset answers only clients on the engine's own machine (loopback or a unix socket); "
            f"this call came from {_peer_host(peer)}. Fetch the asset with FetchAsset instead."
        )
    path, entry = store.local_file(pack_id, relpath)
    return path.resolve(), int(entry["bytes"]), str(entry["sha256"])


def _peer_host(peer: str) -> str:
    """The address part of a peer, short, for a sentence (never the whole untrusted string)."""
    host = unquote(peer).partition(":")[2].rpartition(":")[0] or peer
    return host[:64] or "an unknown peer"
