"""How a client reaches an engine: the address rules, TLS pinning and the token, in one place.

Every piece of client code (the CLI, the plugins, the engine's own bind check) asks this module
what the default address is, whether an address stays on this machine, and how to open a channel.
A channel to another machine must be TLS, pinned to the engine's own CA (`motif trust` prints it),
unless the caller says `insecure=True`: a bearer token sent in clear text can be read and replayed
by anyone on the network. grpcio's own TLS is used (no second TLS stack in a plugin).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from .errors import EngineError

DEFAULT_ADDRESS = "127.0.0.1:50051"
_LOCAL_SCHEMES = ("unix:", "unix-abstract:")  # sockets that never leave the machine


# ------------------------------------------------------------------ addresses


def parse_address(address: str, *, allow_port_zero: bool = False) -> tuple[str, int]:
    """"host:port" or "[v6]:port" -> (host, port); ValueError with a sentence otherwise.

    Port 0 ("any free port") makes sense only when binding, hence `allow_port_zero`.
    """
    text = address.strip()
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    low = 0 if allow_port_zero else 1
    if not sep or not host or not port_text.isdigit() or not low <= int(port_text) < 65536:
        raise ValueError(f"The engine address {address!r} is not HOST:PORT (for example {DEFAULT_ADDRESS}).")
    return host, int(port_text)


def is_loopback(host: str) -> bool:
    """True when `host` names this machine only (localhost, 127.0.0.0/8, ::1, ::ffff:127.x)."""
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost."):
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def is_local_address(address: str, *, allow_port_zero: bool = False) -> bool:
    """True when traffic to `address` never leaves this machine (a loopback host or a unix socket).

    Raises ValueError (with a sentence) when `address` is not HOST:PORT.
    """
    if address.startswith(_LOCAL_SCHEMES):
        return True
    host, _ = parse_address(address, allow_port_zero=allow_port_zero)
    return is_loopback(host)


# ------------------------------------------------------------------ tokens


def parse_token_lines(text: str) -> list[tuple[str, str]]:
    """The tokens of a token file: one per line, `#` comments, optionally `name:token`.

    Returns (name, token) pairs; an unnamed token is named after its line ("line 3"). A name never
    contains ":", so everything after the first ":" is the token.
    """
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, token = line.partition(":")
        name, token = (name.strip(), token.strip()) if sep else (f"line {number}", line)
        if token:
            pairs.append((name or f"line {number}", token))
    return pairs


def read_token_file(path: str | Path) -> str:
    """The client's token: the first token line of `path` (same format as the engine's token file)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EngineError("INVALID_ARGUMENT", f"Cannot read the token file {path}: {exc}.") from None
    pairs = parse_token_lines(text)
    if not pairs:
        raise EngineError("INVALID_ARGUMENT", f"The token file {path} holds no token (only blank or # lines).")
    return pairs[0][1]


def auth_metadata(token: str | None = None, token_file: str | Path | None = None) -> tuple[tuple[str, str], ...]:
    """Call metadata carrying the bearer token (a token file is read once, here)."""
    if token_file:
        token = read_token_file(token_file)
    return (("authorization", f"Bearer {token}"),) if token else ()


# ------------------------------------------------------------------ TLS and channels


def load_ca(ca_file: str | Path | None = None, ca_pem: bytes | str | None = None) -> bytes | None:
    """The pinned CA certificate(s) as PEM bytes, from a file or given directly; None for no TLS."""
    if ca_pem:
        data = ca_pem.encode() if isinstance(ca_pem, str) else bytes(ca_pem)
        source = "ca_pem"
    elif ca_file:
        try:
            data = Path(ca_file).read_bytes()
        except OSError as exc:
            raise EngineError("INVALID_ARGUMENT", f"Cannot read the CA file {ca_file}: {exc}.") from None
        source = str(ca_file)
    else:
        return None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise EngineError("INVALID_ARGUMENT",
                           f"{source} is not a PEM certificate. Use the CA that `motif trust` prints on the "
                           "engine's machine (it starts with -----BEGIN CERTIFICATE-----).")
    return data


def open_channel(
    address: str,
    *,
    ca_pem: bytes | None = None,
    insecure: bool = False,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A channel to `address`: TLS pinned to `ca_pem` when given, plain text on this machine.

    Plain text to another machine is refused (EngineError FAILED_PRECONDITION) unless `insecure`,
    before any byte is sent. Channels are lazy: nothing connects until the first call.
    """
    try:
        local = is_local_address(address)
    except ValueError as exc:
        raise EngineError("INVALID_ARGUMENT", str(exc)) from None
    if ca_pem is not None:
        return grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=ca_pem), options=options)
    if not local and not insecure:
        raise EngineError(
            "FAILED_PRECONDITION",
            f"Refusing to talk to {address} without TLS: the token and your prompts would cross the network "
            "in clear text. Run the engine with `motif serve --tls`, then pin its CA: `motif trust` on the "
            "engine's machine prints it (pass --ca FILE, set MOTIF_CA, or ca_file= in code). On a network you "
            "trust completely you may pass --insecure (insecure=True) instead.",
        )
    return grpc.insecure_channel(address, options=options)


def unavailable_message(address: str, details: str, tls: bool) -> str:
    """The sentence for UNAVAILABLE: the engine is down, or client and engine disagree about TLS.

    grpc reports all of these as UNAVAILABLE; its details say which, and each gets its own fix.
    """
    lowered = details.lower()
    if tls and "hostname verification" in lowered:
        host = address.rpartition(":")[0].strip("[]")
        return (f"The engine's certificate does not name {host}. Connect by one of the names `motif trust` lists "
                f"on the engine's machine, or restart the engine with `motif serve --tls --tls-san {host}`. "
                f"({details})")
    if tls and "wrong_version_number" in lowered:
        return (f"The engine at {address} does not serve TLS. Start it with `motif serve --tls` (or, on this "
                f"machine only, connect without --ca). ({details})")
    if tls and ("certificate" in lowered or "handshake" in lowered or "ssl" in lowered):
        return (f"The engine at {address} did not present a certificate signed by the CA you pinned. Pin the CA "
                "that `motif trust` prints on the engine's machine (--ca FILE or MOTIF_CA), then try again. "
                f"({details})")
    hint = "" if "connection refused" in lowered or tls else (
        " If that engine serves TLS (`motif serve --tls`), pin its CA: save what `motif trust` prints on the "
        "engine's machine and pass it with --ca FILE (or MOTIF_CA).")
    return (f"Cannot reach the Motif engine at {address}. Start it with `motif serve` (or enable 'Start local "
            f"engine'), check the address, then try again.{hint} ({details})")
