"""TLS for `motif serve --tls`: a server certificate issued by the per-install local CA.

A token in clear text on a network can be read and replayed, so an engine reachable from other
machines serves TLS. No public CA is involved (an engine on a LAN has no public name): the CA that
set-up makes for C2PA (engine_server.provenance.keys) issues the server certificate, and a remote
host pins that CA (`motif trust` prints it). The certificate is made once, kept beside the CA in
`tls/`, and re-issued only when the names it must carry change, it nears expiry, or the CA changed.
`cryptography` builds the certificates (already a dependency for C2PA); grpcio serves the TLS.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine_server.errors import FailedPrecondition
from engine_server.provenance import keys

_VALID_DAYS = 397  # the longest lifetime browsers accept; renewed automatically below
_RENEW_DAYS = 30
_WILDCARD_HOSTS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class ServerIdentity:
    """What grpc.ssl_server_credentials needs, plus what `motif trust` shows."""

    cert_pem: bytes
    key_pem: bytes
    ca_pem: bytes
    ca_path: Path
    names: tuple[str, ...]


def tls_dir(folder: Path | None = None) -> Path:
    return (folder or keys.keys_dir()) / "tls"


def ca_paths(folder: Path | None = None) -> tuple[Path, Path]:
    """The CA that issues the TLS certificate: (certificate, key). Remote hosts pin the certificate.

    That is the install's own CA when its key was kept (every install set up since `motif serve --tls`
    exists). An install made before kept no CA key, and its CA cannot be replaced without breaking
    `motif verify` of its packs, so such an install gets a TLS-only CA in `tls/`, made once.
    """
    folder = folder or keys.keys_dir()
    ca, ca_key = folder / "ca.pem", folder / "ca-key.pem"
    if ca.exists() and ca_key.exists():
        return ca, ca_key
    if not ca.exists():
        raise FailedPrecondition(
            f"No per-install CA in {folder}. Run `make setup` (it creates one per install), then try again."
        )
    own = tls_dir(folder)
    ca, ca_key = own / "ca.pem", own / "ca-key.pem"
    if not (ca.exists() and ca_key.exists()):
        from cryptography.hazmat.primitives import serialization

        own.mkdir(mode=0o700, parents=True, exist_ok=True)
        cert, key = keys.new_ca("Motif local TLS CA")
        keys.write_private(ca_key, keys.private_pem(key))
        keys.write_private(ca, cert.public_bytes(serialization.Encoding.PEM))
    return ca, ca_key


def server_names(bind_host: str = "", extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The names a client may connect by: the bind host, localhost, 127.0.0.1, ::1, this machine's
    hostname, and any `--tls-san` extras. A wildcard bind (0.0.0.0, ::) names nothing itself."""
    wanted = {"localhost", "127.0.0.1", "::1", socket.gethostname().lower(), *(_canonical(n) for n in extra)}
    host = bind_host.strip("[]")
    if host not in _WILDCARD_HOSTS:
        wanted.add(_canonical(host))
    wanted.discard("")
    return tuple(sorted(wanted))


def server_identity(bind_host: str = "", extra: Iterable[str] = (), folder: Path | None = None) -> ServerIdentity:
    """The TLS certificate and key for this engine, issued (or re-issued) when needed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    ca_path, ca_key_path = ca_paths(folder)
    names = server_names(bind_host, extra)
    ca_pem = ca_path.read_bytes()
    ca = x509.load_pem_x509_certificate(ca_pem)
    cert_path, key_path = tls_dir(folder) / "server.pem", tls_dir(folder) / "server-key.pem"
    if not _still_good(cert_path, key_path, ca, names):
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        cert_pem, key_pem = _issue(ca, ca_key, names)
        tls_dir(folder).mkdir(mode=0o700, parents=True, exist_ok=True)
        keys.write_private(key_path, key_pem)
        keys.write_private(cert_path, cert_pem)
    return ServerIdentity(cert_path.read_bytes(), key_path.read_bytes(), ca_pem, ca_path, names)


def fingerprint(pem: bytes) -> str:
    """SHA-256 of the certificate (DER), as `openssl x509 -noout -fingerprint -sha256` prints it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    digest = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256())
    return ":".join(f"{b:02X}" for b in digest)


def cert_names(pem: bytes) -> tuple[str, ...]:
    """The subject alternative names of a certificate, in the form server_names() uses."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    found = [*san.get_values_for_type(x509.DNSName), *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))]
    return tuple(sorted(_canonical(n) for n in found))


def _canonical(name: str) -> str:
    name = name.strip().strip("[]").lower()
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def _still_good(cert_path: Path, key_path: Path, ca: Any, names: tuple[str, ...]) -> bool:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    if not (cert_path.exists() and key_path.exists()):
        return False
    try:
        pem = cert_path.read_bytes()
        cert = x509.load_pem_x509_certificate(pem)
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, OSError, InvalidSignature):  # unreadable, or issued by another CA
        return False
    left = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    return cert_names(pem) == names and left > datetime.timedelta(days=_RENEW_DAYS)


def _issue(ca: Any, ca_key: Any, names: tuple[str, ...]) -> tuple[bytes, bytes]:
    """A P-256 server certificate for `names` signed by the CA: (certificate PEM, key PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    sans: list[x509.GeneralName] = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(keys.cert_name(f"Motif engine ({socket.gethostname()})"))
        .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), keys.private_pem(key)
