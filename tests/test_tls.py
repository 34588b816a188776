"""Security beyond loopback: TLS from the per-install CA, pinning, tokens from a file, revocation.

A real engine serves TLS on 127.0.0.1; nothing here sends a byte to another machine (the client's
refusal of a remote address without TLS happens before any traffic).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from grpc_health.v1 import health_pb2, health_pb2_grpc

from engine_server import cli, tls
from engine_server.errors import InvalidArgument
from engine_server.provenance import keys
from engine_server.server import Engine, check_bind
from motif_client import EngineError, MotifClient, is_local_address, is_loopback
from motif_client.channel import parse_token_lines
from tests.latent_factory import make_latent

TOKENS = "# one line per remote host\nalice:tok-alice-0001\nbob:tok-bob-0002\n"


@pytest.fixture(scope="module")
def tls_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    """A real engine serving TLS on 127.0.0.1 with a token file (no encoder: requests carry a latent)."""
    folder = tmp_path_factory.mktemp("tls-engine")
    tokens = folder / "tokens"
    tokens.write_text(TOKENS)
    saved = os.environ.get("MOTIF_WORKER_WARM_UP")
    os.environ["MOTIF_WORKER_WARM_UP"] = "0"  # read when the worker is spawned; warm-up only saves time later
    eng = Engine("127.0.0.1:0", store_root=folder / "store", load_encoder=False, token_file=tokens, tls=True).start()
    try:
        yield eng, tokens
    finally:
        eng.stop()
        if saved is None:
            os.environ.pop("MOTIF_WORKER_WARM_UP", None)
        else:
            os.environ["MOTIF_WORKER_WARM_UP"] = saved


def _token_file(tmp_path: Path, line: str) -> Path:
    path = tmp_path / f"{line.partition(':')[0]}.token"
    path.write_text(f"# this host's token\n{line}\n")
    return path


def _ca(eng: Engine) -> Path:
    assert eng.tls is not None
    return eng.tls.ca_path


def _describe_error(client: MotifClient) -> EngineError:
    with pytest.raises(EngineError) as err:
        client.describe()
    return err.value


def test_pinned_client_generates_a_probe_pack_over_tls(tls_engine: tuple[Engine, Path], tmp_path: Path) -> None:
    eng, _ = tls_engine
    alice = _token_file(tmp_path, "alice:tok-alice-0001")
    with MotifClient(eng.address, ca_file=_ca(eng), token_file=alice) as c:
        events = list(c.generate(latent=make_latent().to_dict(), seed=7, decoders=["probe"]))
        assert events[-1].kind == "done"
        root, manifest = c.download_pack(events[-1].manifest["pack_id"], tmp_path / "out")
    assert manifest["assets"]
    for asset in manifest["assets"]:
        assert hashlib.sha256((root / asset["path"]).read_bytes()).hexdigest() == asset["sha256"]


def test_the_engine_presents_a_certificate_from_the_install_ca(tls_engine: tuple[Engine, Path]) -> None:
    """Read the served certificate with Python's own TLS stack, not grpc's, and check who issued it."""
    eng, _ = tls_engine
    pem = ssl.get_server_certificate(("127.0.0.1", eng.port), timeout=10)
    served = x509.load_pem_x509_certificate(pem.encode())
    ca = x509.load_pem_x509_certificate(_ca(eng).read_bytes())
    served.verify_directly_issued_by(ca)  # raises if another key signed it
    assert _ca(eng) == keys.keys_dir() / "ca.pem"  # the C2PA CA of this install, not a second one
    names = tls.cert_names(pem.encode())
    assert {"127.0.0.1", "::1", "localhost", socket.gethostname().lower()} <= set(names)


def test_a_client_without_the_ca_is_told_to_pin_it(tls_engine: tuple[Engine, Path], tmp_path: Path) -> None:
    eng, _ = tls_engine
    alice = _token_file(tmp_path, "alice:tok-alice-0001")
    with MotifClient(eng.address, token_file=alice, timeout_s=5) as plain:  # plain text: allowed on loopback
        err = _describe_error(plain)
    assert err.code == "UNAVAILABLE"
    assert "motif trust" in err.message and "--ca FILE" in err.message


def test_a_client_pinned_to_another_ca_is_refused(tls_engine: tuple[Engine, Path], tmp_path: Path) -> None:
    eng, _ = tls_engine
    other = keys.create(tmp_path / "other-install")
    alice = _token_file(tmp_path, "alice:tok-alice-0001")
    with MotifClient(eng.address, ca_file=other / "ca.pem", token_file=alice, timeout_s=5) as c:
        err = _describe_error(c)
    assert err.code == "UNAVAILABLE"
    assert "did not present a certificate signed by the CA you pinned" in err.message
    assert "motif trust" in err.message


def test_wrong_or_missing_token_is_unauthenticated(tls_engine: tuple[Engine, Path]) -> None:
    eng, _ = tls_engine
    with MotifClient(eng.address, ca_file=_ca(eng), token="tok-mallory-9999") as wrong:
        err = _describe_error(wrong)
    assert err.code == "UNAUTHENTICATED" and "does not accept that token" in err.message
    with MotifClient(eng.address, ca_file=_ca(eng)) as anonymous:
        err = _describe_error(anonymous)
    assert err.code == "UNAUTHENTICATED" and "requires a token" in err.message and "--token-file" in err.message
    creds = grpc.ssl_channel_credentials(_ca(eng).read_bytes())
    with grpc.secure_channel(eng.address, creds) as ch:  # health stays open for probes, over TLS too
        assert health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10).status == 1


def test_token_file_changes_apply_without_restart(tls_engine: tuple[Engine, Path], tmp_path: Path) -> None:
    eng, tokens = tls_engine

    def call(line: str, streaming: bool = False) -> str:
        with MotifClient(eng.address, ca_file=_ca(eng), token_file=_token_file(tmp_path, line)) as c:
            try:
                if streaming:  # a server-streaming RPC is refused with the same status
                    list(c.generate(latent=make_latent().to_dict(), decoders=["probe"]))
                else:
                    c.list_packs()
            except EngineError as exc:
                return exc.code
            return "OK"

    try:
        assert call("alice:tok-alice-0001") == "OK"
        replacement = tokens.with_name("tokens.new")  # revoke alice the way editors save: write, then rename
        replacement.write_text("bob:tok-bob-0002\n")
        os.replace(replacement, tokens)
        assert call("alice:tok-alice-0001") == "UNAUTHENTICATED"
        assert call("alice:tok-alice-0001", streaming=True) == "UNAUTHENTICATED"
        assert call("bob:tok-bob-0002") == "OK"
        with tokens.open("a") as fh:  # add carol in place, at once
            fh.write("carol:tok-carol-0003\n")
        assert call("carol:tok-carol-0003") == "OK"
        tokens.unlink()  # no file: everyone refused (fail closed) until it is back
        assert call("bob:tok-bob-0002") == "UNAUTHENTICATED"
    finally:
        tokens.write_text(TOKENS)
    assert call("alice:tok-alice-0001") == "OK"


def test_client_refuses_another_machine_without_tls(tmp_path: Path) -> None:
    """Refused before any traffic: gRPC channels are lazy and none is opened."""
    for address in ("10.1.2.3:50051", "studio.example:50051", "0.0.0.0:50051", "[2001:db8::1]:50051"):
        with pytest.raises(EngineError) as err:
            MotifClient(address)
        assert err.value.code == "FAILED_PRECONDITION"
        assert "without TLS" in err.value.message and "motif trust" in err.value.message
        assert "--insecure" in err.value.message
        MotifClient(address, insecure=True).close()  # told so: allowed (still nothing sent)
    ca = keys.create(tmp_path / "k") / "ca.pem"
    MotifClient("10.1.2.3:50051", ca_file=ca).close()
    with pytest.raises(EngineError) as err:
        MotifClient("10.1.2.3:50051", ca_pem=b"not a certificate")
    assert err.value.code == "INVALID_ARGUMENT" and "motif trust" in err.value.message
    with pytest.raises(EngineError) as err:
        MotifClient("no port here")
    assert err.value.code == "INVALID_ARGUMENT"
    code = cli.main(["packs", "--server", "10.1.2.3:50051"])
    assert code == 2


def test_loopback_rules() -> None:
    for host in ("localhost", "LOCALHOST", "127.0.0.1", "127.9.8.7", "::1", "[::1]", "::ffff:127.0.0.1"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "::ffff:10.0.0.1", "localhost.evil.example", ""):
        assert not is_loopback(host), host
    assert is_local_address("unix:/tmp/motif.sock") and is_local_address("[::1]:50051")
    assert is_local_address("localhost:0", allow_port_zero=True)
    with pytest.raises(ValueError, match="not HOST:PORT"):
        is_local_address("localhost:0")


def test_token_file_format() -> None:
    text = "# comment\n\n  alice : tok-a \nbare-token\nnoname:\n:tok-x\n#bob:tok-b\n"
    assert parse_token_lines(text) == [("alice", "tok-a"), ("line 4", "bare-token"), ("line 6", "tok-x")]


def test_trust_prints_the_ca_fingerprint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "motif-ca.pem"
    assert cli.main(["trust", "--out", str(out), "--address", "studio:50051"]) == 0
    printed = capsys.readouterr().out
    ca_file = keys.keys_dir() / "ca.pem"
    assert out.read_bytes() == ca_file.read_bytes()
    digest = x509.load_pem_x509_certificate(out.read_bytes()).fingerprint(hashes.SHA256())
    assert ":".join(f"{b:02X}" for b in digest) in printed
    assert f"--ca {out}" in printed and "--token-file" in printed and "studio:50051" in printed
    assert cli.main(["trust"]) == 0
    assert ca_file.read_text().strip() in capsys.readouterr().out


def test_serve_refuses_beyond_loopback_without_tls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text(TOKENS)
    # Through the real CLI: refused before anything binds.
    assert cli.main(["serve", "--address", "0.0.0.0:0", "--token-file", str(tokens)]) == 2
    err = capsys.readouterr().err
    assert "without TLS" in err and "--tls" in err and "--insecure" in err
    assert cli.main(["serve", "--address", "0.0.0.0:0", "--tls", "--insecure"]) == 2
    assert "--token-file" in capsys.readouterr().err
    # The rule itself, for the accepted cases (not started: nothing listens beyond loopback here).
    check_bind("0.0.0.0:50051", tokens, tls=True)
    check_bind("0.0.0.0:50051", tokens, insecure=True)
    check_bind("127.0.0.1:0", None)
    with pytest.raises(InvalidArgument, match="not HOST:PORT"):
        check_bind("nonsense", None)


def test_cli_client_flags_reach_a_tls_engine(tls_engine: tuple[Engine, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    eng, _ = tls_engine
    bob = _token_file(tmp_path, "bob:tok-bob-0002")
    assert cli.main(["packs", "--server", eng.address, "--ca", str(_ca(eng)), "--token-file", str(bob)]) == 0
    monkeypatch.setenv("MOTIF_CA", str(_ca(eng)))
    monkeypatch.setenv("MOTIF_TOKEN_FILE", str(bob))
    capsys.readouterr()
    assert cli.main(["packs", "--server", eng.address]) == 0
    monkeypatch.delenv("MOTIF_CA")
    assert cli.main(["packs", "--server", eng.address]) == 2  # plain text to a TLS engine
    assert "motif trust" in capsys.readouterr().err


def test_server_certificate_is_kept_and_reissued_when_names_change(tmp_path: Path) -> None:
    folder = keys.create(tmp_path / "keys")
    first = tls.server_identity("127.0.0.1", folder=folder)
    assert tls.server_identity("localhost", folder=folder).cert_pem == first.cert_pem  # same names: kept
    wider = tls.server_identity("0.0.0.0", ["192.0.2.10", "Studio.Example"], folder=folder)
    assert wider.cert_pem != first.cert_pem
    assert {"192.0.2.10", "studio.example"} <= set(tls.cert_names(wider.cert_pem))
    ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    x509.load_pem_x509_certificate(wider.cert_pem).verify_directly_issued_by(ca)
    assert (folder / "tls" / "server-key.pem").stat().st_mode & 0o077 == 0


def test_an_install_without_a_kept_ca_key_gets_a_tls_only_ca(tmp_path: Path) -> None:
    """Installs set up before the CA key was kept: their C2PA CA stays as it is (verify keeps working)."""
    folder = keys.create(tmp_path / "old")
    (folder / "ca-key.pem").unlink()
    before = (folder / "ca.pem").read_bytes()
    ident = tls.server_identity("127.0.0.1", folder=folder)
    assert ident.ca_path == folder / "tls" / "ca.pem" and (folder / "ca.pem").read_bytes() == before
    x509.load_pem_x509_certificate(ident.cert_pem).verify_directly_issued_by(
        x509.load_pem_x509_certificate(ident.ca_pem))
    shutil.rmtree(folder / "tls")
    (folder / "ca.pem").unlink()
    with pytest.raises(Exception, match="make setup"):
        tls.server_identity("127.0.0.1", folder=folder)
