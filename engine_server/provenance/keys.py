"""The per-install signing identity for C2PA: a local CA and an Ed25519 signing certificate.

Set-up creates it once (`python -m engine_server.provenance.keys`); nothing leaves the machine.
C2PA rejects a lone self-signed certificate, so the signer is issued by a local CA, which
`motif verify` uses as its trust anchor: a file re-signed with any other key is reported.
The CA's key is kept beside it (`ca-key.pem`, 0600) so the same CA can issue the TLS server
certificate of `motif serve --tls` (engine_server/tls.py); remote hosts pin this CA.
"""

from __future__ import annotations

import datetime
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from engine_server.errors import FailedPrecondition

_VALID_DAYS = 3650


def keys_dir() -> Path:
    env = os.environ.get("MOTIF_KEYS_DIR")
    return Path(env) if env else Path(platformdirs.user_config_dir("motif", "motif")) / "c2pa"


@dataclass(frozen=True)
class SigningIdentity:
    chain_pem: bytes  # signer certificate followed by the CA certificate
    key_pem: bytes
    ca_pem: bytes
    key_id: str  # short fingerprint of the signer certificate

    @classmethod
    def load(cls, folder: Path | None = None) -> SigningIdentity:
        folder = folder or keys_dir()
        try:
            chain = (folder / "signer-chain.pem").read_bytes()
            key = (folder / "signer-key.pem").read_bytes()
            ca = (folder / "ca.pem").read_bytes()
        except FileNotFoundError:
            raise FailedPrecondition(
                f"No provenance signing key in {folder}. Run `make setup` (it creates one per install)."
            ) from None
        import hashlib

        return cls(chain, key, ca, hashlib.sha256(chain).hexdigest()[:16])


def create(folder: Path | None = None) -> Path:
    """Create the CA and signer in `folder` unless they exist. Returns the folder."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import ExtendedKeyUsageOID

    folder = folder or keys_dir()
    if (folder / "signer-chain.pem").exists() and (folder / "signer-key.pem").exists() and (folder / "ca.pem").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)

    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
                 encipher_only=False, decipher_only=False)
    ca, ca_key = new_ca("Motif local CA")
    key = ed25519.Ed25519PrivateKey.generate()  # Ed25519: deterministic signatures
    cert = (
        x509.CertificateBuilder().subject_name(cert_name("Motif engine signer")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    for filename, data in (("ca-key.pem", private_pem(ca_key)), ("signer-key.pem", private_pem(key)),
                           ("signer-chain.pem", cert.public_bytes(pem) + ca.public_bytes(pem)),
                           ("ca.pem", ca.public_bytes(pem))):
        write_private(folder / filename, data)
    return folder


def cert_name(cn: str) -> Any:
    """An x509.Name for this install's certificates."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Motif (local install)")])


def new_ca(cn: str) -> tuple[Any, Any]:
    """A fresh self-signed EC P-256 CA (certificate, private key) that may issue end-entity certificates."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
                 encipher_only=False, decipher_only=False)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(cert_name(cn)).issuer_name(cert_name(cn))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, **usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca, ca_key


def private_pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))


def write_private(path: Path, data: bytes) -> None:
    """Write owner-only (0600) by temp file + rename, so a reader never sees half a key."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


if __name__ == "__main__":
    target = create(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(f"provenance signing key: {target}")
