"""Same-host fetch (issue 11.5): LocateAsset + a verified kernel copy, with the stream as the fallback.

Against a real engine on loopback: the client copies the store file itself, the bytes verify, a
tampered or swapped store object is refused without leaving a file, a peer beyond this machine is
refused (its context is faked: no traffic ever leaves loopback), and the stream still works.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from engine_server.same_host import peer_is_local
from engine_server.server import MotifServicer
from motif_client import EngineError, MotifClient
from motif_client.local_fetch import COPY_STEP, LocalCopyError, LocalRoute, copy_verified
from motif_client.motif_pb import engine_pb2 as pb


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pack(engine: Any) -> dict[str, Any]:
    """A probe pack (fast): its manifest."""
    with MotifClient(engine.address) as c:
        events = list(c.generate(prompt="a lighthouse in fog", seed=11, decoders=["probe"]))
    manifest = dict(events[-1].manifest)
    assert manifest["assets"]
    return manifest


@pytest.fixture()
def asset(pack: dict[str, Any]) -> dict[str, Any]:
    return next(a for a in pack["assets"] if a["path"].endswith(".json"))


def no_files(dest: Path) -> bool:
    return not dest.exists() and not dest.with_name(dest.name + ".part").exists()


@pytest.fixture()
def client_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="motif.client"):
        yield caplog


# ------------------------------------------------------------------ the local route on loopback


def test_describe_offers_local_fetch(client: MotifClient) -> None:
    assert "local-fetch" in client.describe()["capabilities"]


def test_loopback_client_copies_the_store_file_and_it_verifies(
    client: MotifClient, engine: Any, pack: dict[str, Any], tmp_path: Path, client_logs: pytest.LogCaptureFixture
) -> None:
    for a in pack["assets"]:
        where = client._locate(pack["pack_id"], a["path"])
        assert Path(where.path).is_absolute() and where.sha256 == a["sha256"] and where.bytes == a["bytes"]
        assert Path(where.path).parent.parent == engine.store.objects  # the content-addressed object
        dest = client.fetch_asset(pack["pack_id"], a["path"], tmp_path / a["path"])  # via="auto"
        assert sha256(dest) == a["sha256"]
        assert f"{a['path']}: copied on this machine" in client_logs.text  # auto took the local route
        assert not dest.with_name(dest.name + ".part").exists()
        # the user's own file: a separate inode, writable, and editing it leaves the store alone
        assert os.stat(dest).st_ino != os.stat(where.path).st_ino
        assert os.stat(dest).st_mode & stat.S_IWUSR
        assert not os.stat(where.path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        dest.write_bytes(b"edited by the artist")
        assert sha256(Path(where.path)) == a["sha256"]


def test_download_pack_copies_every_asset_locally(
    client: MotifClient, pack: dict[str, Any], tmp_path: Path, client_logs: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []
    root, manifest = client.download_pack(pack["pack_id"], tmp_path, lambda p, done, total: seen.append(p))
    assert manifest["pack_id"] == pack["pack_id"]
    for a in pack["assets"]:
        assert sha256(root / a["path"]) == a["sha256"]
        assert f"{a['path']}: copied on this machine" in client_logs.text
    assert sorted(set(seen)) == sorted(a["path"] for a in pack["assets"])
    assert (root / "pack.json").is_file() and not list(root.rglob("*.part"))


def test_a_progress_callback_that_raises_stops_the_pack_and_leaves_no_part_file(
    client: MotifClient, pack: dict[str, Any], tmp_path: Path
) -> None:
    class Stop(Exception):
        pass

    def cancel(path: str, done: int, total: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        client.download_pack(pack["pack_id"], tmp_path, cancel)
    root = tmp_path / pack["pack_id"]
    assert not list(root.rglob("*.part")) and not (root / "pack.json").exists()


# ------------------------------------------------------------------ bytes that do not verify


def test_a_tampered_store_object_is_refused_and_leaves_no_file(
    client: MotifClient, pack: dict[str, Any], asset: dict[str, Any], tmp_path: Path
) -> None:
    obj = Path(client._locate(pack["pack_id"], asset["path"]).path)
    original = obj.read_bytes()
    os.chmod(obj, 0o644)
    try:
        obj.write_bytes(bytes([original[0] ^ 0xFF]) + original[1:])  # same size, one byte differs
        dest = tmp_path / "tampered.json"
        with pytest.raises(EngineError) as err:
            client.fetch_asset(pack["pack_id"], asset["path"], dest, via="local")
        assert err.value.code == "DATA_LOSS" and "sha256" in err.value.message
        assert no_files(dest)
        # auto falls back to the stream, which reads the same (tampered) inode and refuses it too
        with pytest.raises(EngineError) as err:
            client.fetch_asset(pack["pack_id"], asset["path"], dest)
        assert err.value.code == "DATA_LOSS"
        assert no_files(dest)
    finally:
        obj.write_bytes(original)
        os.chmod(obj, 0o444)
    assert sha256(client.fetch_asset(pack["pack_id"], asset["path"], dest, via="local")) == asset["sha256"]


def test_a_store_object_swapped_under_the_client_is_refused_then_streamed(
    client: MotifClient, pack: dict[str, Any], asset: dict[str, Any], tmp_path: Path,
    client_logs: pytest.LogCaptureFixture,
) -> None:
    obj = Path(client._locate(pack["pack_id"], asset["path"]).path)
    backup = tmp_path / "backup"
    os.link(obj, backup)
    impostor = tmp_path / "impostor"
    impostor.write_bytes(b"x" * asset["bytes"])
    os.replace(impostor, obj)  # a new inode at the object's path; the pack's own link keeps the old one
    try:
        dest = tmp_path / "swapped.json"
        with pytest.raises(EngineError) as err:
            client.fetch_asset(pack["pack_id"], asset["path"], dest, via="local")
        assert err.value.code == "DATA_LOSS"
        assert no_files(dest)
        client.fetch_asset(pack["pack_id"], asset["path"], dest)  # auto: refused locally, then streamed
        assert sha256(dest) == asset["sha256"]
        assert "same-host copy refused" in client_logs.text
    finally:
        os.replace(backup, obj)


def big_file(tmp_path: Path, size: int = 3 * COPY_STEP + 123) -> tuple[Path, bytes, str]:
    data = os.urandom(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    return src, data, hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("overlap", [True, False], ids=["kernel-copy-hash-read-back", "one-pass"])
def test_the_copy_is_what_gets_verified_not_the_source(tmp_path: Path, overlap: bool) -> None:
    """Bytes changed in the source after they were copied do not matter; bytes changed before they
    are copied are caught: the hash is of what landed in the user's file."""
    src, data, digest = big_file(tmp_path)
    changed: list[int] = []

    def rewrite_first_byte(done: int, total: int) -> None:
        if done < total and not changed:  # after the first step: byte 0 is already in the copy
            changed.append(done)
            with src.open("r+b") as fh:
                fh.write(b"\0" if data[0] else b"\1")

    dest = copy_verified(src, tmp_path / "a.bin", len(data), digest, rewrite_first_byte, overlap=overlap)
    assert dest.read_bytes() == data

    assert changed
    src.write_bytes(data)
    changed.clear()

    def rewrite_last_byte(done: int, total: int) -> None:
        if done < total and not changed:  # after the first step: the last byte is still to be copied
            changed.append(done)
            with src.open("r+b") as fh:
                fh.seek(len(data) - 1)
                fh.write(b"\0" if data[-1] else b"\1")

    with pytest.raises(LocalCopyError) as err:
        copy_verified(src, tmp_path / "b.bin", len(data), digest, rewrite_last_byte, overlap=overlap)
    assert changed and err.value.mismatch
    assert no_files(tmp_path / "b.bin")


def test_a_wrong_size_or_missing_source_is_refused_without_a_file(tmp_path: Path) -> None:
    src, data, digest = big_file(tmp_path, 4096)
    with pytest.raises(LocalCopyError) as err:
        copy_verified(src, tmp_path / "short.bin", len(data) + 1, digest)
    assert err.value.mismatch and no_files(tmp_path / "short.bin")
    with pytest.raises(LocalCopyError) as err:
        copy_verified(tmp_path / "nowhere.bin", tmp_path / "missing.bin", len(data), digest)
    assert not err.value.mismatch and no_files(tmp_path / "missing.bin")
    with pytest.raises(LocalCopyError):
        copy_verified(tmp_path, tmp_path / "dir.bin", 0, digest)  # not a regular file
    assert no_files(tmp_path / "dir.bin")


@pytest.mark.parametrize("overlap", [True, False])
def test_without_a_kernel_copy_it_reads_and_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   overlap: bool) -> None:
    """macOS and Windows have no copy_file_range: the same verified copy by read and write."""
    src, data, digest = big_file(tmp_path)
    monkeypatch.delattr(os, "copy_file_range", raising=False)
    assert copy_verified(src, tmp_path / "rw.bin", len(data), digest, overlap=overlap).read_bytes() == data
    with pytest.raises(LocalCopyError):
        copy_verified(src, tmp_path / "bad.bin", len(data), "0" * 64, overlap=overlap)
    assert no_files(tmp_path / "bad.bin")


# ------------------------------------------------------------------ who may use it


@pytest.mark.parametrize(("peer", "local"), [
    ("ipv4:127.0.0.1:5555", True), ("ipv4:127.3.2.1:5555", True), ("ipv6:[::1]:5555", True),
    ("ipv6:%5B::1%5D:5555", True), ("ipv6:[::ffff:127.0.0.1]:5555", True), ("unix:/run/motif.sock", True),
    ("unix:", True), ("ipv4:10.1.2.3:5555", False), ("ipv4:192.168.1.20:5555", False),
    ("ipv6:[2001:db8::1]:5555", False), ("ipv6:[::ffff:10.0.0.1]:5555", False), ("", False),
    ("dns:localhost:5555", False), ("ipv4:", False),
])
def test_which_peers_are_on_this_machine(peer: str, local: bool) -> None:
    assert peer_is_local(peer) is local


class FakeContext:
    """What LocateAsset reads from its context (the peer) and how it refuses (abort raises, as grpc's does)."""

    def __init__(self, peer: str) -> None:
        self._peer = peer
        self.status: tuple[grpc.StatusCode, str] | None = None

    def peer(self) -> str:
        return self._peer

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.status = (code, details)
        raise RuntimeError("aborted")

    def code(self) -> None:
        return None


def test_a_peer_beyond_this_machine_is_refused(engine: Any, pack: dict[str, Any], asset: dict[str, Any]) -> None:
    servicer = MotifServicer(engine.store, engine.jobs, None, engine.feed)
    request = pb.LocateAssetRequest(pack_id=pack["pack_id"], path=asset["path"])
    remote = FakeContext("ipv4:10.1.2.3:5555")
    with pytest.raises(RuntimeError):
        servicer.LocateAsset(request, remote)  # type: ignore[arg-type]
    assert remote.status is not None
    code, sentence = remote.status
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "10.1.2.3" in sentence and "FetchAsset" in sentence
    # the same handler answers a loopback peer with the store file
    answer = servicer.LocateAsset(request, FakeContext("ipv4:127.0.0.1:5555"))  # type: ignore[arg-type]
    assert answer.sha256 == asset["sha256"] and Path(answer.path).is_file()


def test_a_client_of_another_machine_never_asks(tmp_path: Path) -> None:
    asked: list[str] = []

    def locate(pack_id: str, path: str) -> Any:
        asked.append(path)
        raise AssertionError("LocateAsset must not be called for a remote engine")

    route = LocalRoute("10.1.2.3:50051", locate)
    assert not route.possible
    assert route.fetch("ab" * 12, "probe/latent.json", tmp_path / "x", None, required=False) is None
    with pytest.raises(EngineError) as err:
        route.fetch("ab" * 12, "probe/latent.json", tmp_path / "x", None, required=True)
    assert err.value.code == "FAILED_PRECONDITION" and "not on this machine" in err.value.message
    assert not asked


def test_an_engine_refusal_is_remembered(tmp_path: Path) -> None:
    asked: list[str] = []

    def locate(pack_id: str, path: str) -> Any:
        asked.append(path)
        raise EngineError("UNIMPLEMENTED", "Method not found!")  # an engine older than LocateAsset

    route = LocalRoute("127.0.0.1:50051", locate)
    assert route.fetch("ab" * 12, "a", tmp_path / "a", None, required=False) is None
    assert route.fetch("ab" * 12, "b", tmp_path / "b", None, required=False) is None
    assert asked == ["a"] and not route.possible


# ------------------------------------------------------------------ the stream, as before


def test_the_stream_still_works_and_resumes(
    client: MotifClient, pack: dict[str, Any], asset: dict[str, Any], tmp_path: Path
) -> None:
    whole = client.fetch_asset(pack["pack_id"], asset["path"], tmp_path / "whole.json", via="stream")
    assert sha256(whole) == asset["sha256"]
    dest = tmp_path / "resumed.json"
    dest.with_name(dest.name + ".part").write_bytes(whole.read_bytes()[:100])  # an interrupted download
    assert sha256(client.fetch_asset(pack["pack_id"], asset["path"], dest, via="stream")) == asset["sha256"]
    root, _ = client.download_pack(pack["pack_id"], tmp_path / "streamed", via="stream")
    for a in pack["assets"]:
        assert sha256(root / a["path"]) == a["sha256"]


def test_an_unknown_route_is_refused(client: MotifClient, pack: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(EngineError) as err:
        client.fetch_asset(pack["pack_id"], "probe/latent.json", tmp_path / "x", via="carrier-pigeon")
    assert err.value.code == "INVALID_ARGUMENT"
