"""Bearer tokens: who may call the engine's API, and revocation without a restart.

Tokens come from `--token` (one, fixed) and `--token-file` (one per line, `#` comments, optionally
`name:token` so each host has its own). The file is checked with a stat on every call and re-read
when it changed, so deleting a line revokes that client on its next call. A missing or unreadable
file refuses everyone (fail closed) until it is back. Health and reflection stay open for probes.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import grpc

from engine_server.errors import InvalidArgument
from motif_client.channel import parse_token_lines

log = logging.getLogger("motif.auth")
SERVICE_PREFIX = "/motif.v1.MotifEngine/"

MISSING = ("This engine requires a token. Pass --token-file FILE (or set MOTIF_TOKEN_FILE), or set the token "
           "in the plugin preferences; the engine's owner gives you one from its token file.")
REFUSED = ("This engine does not accept that token (revoked, mistyped or from another engine). Ask the engine's "
           "owner for a current one from its token file, and pass it with --token-file FILE.")


class TokenSet:
    """The tokens the engine accepts now: fixed ones plus a token file re-read when it changes."""

    def __init__(self, tokens: Iterable[str] = (), file: str | Path | None = None) -> None:
        self._fixed = [("--token", t.encode()) for t in tokens if t]
        self._file = Path(file) if file else None
        self._lock = threading.Lock()
        self._from_file: list[tuple[str, bytes]] = []
        self._stamp: tuple[int, ...] | None = None
        self._racy = False
        if self._file is not None:
            try:
                self._reload()
            except OSError as exc:
                raise InvalidArgument(f"Cannot read the token file {self._file}: {exc.strerror or exc}.") from None
            if not self._from_file:
                log.warning("token file %s holds no token yet: every API call is refused until one is added",
                            self._file)
            if self._file.stat().st_mode & 0o077:
                log.warning("token file %s is readable by other users: `chmod 600 %s`", self._file, self._file)

    def __bool__(self) -> bool:
        return bool(self._fixed) or self._file is not None

    def match(self, given: str) -> str | None:
        """The name of the client whose token `given` is, or None. Constant time per token."""
        value = given.encode()
        found = None
        for name, token in self._fixed + self._current():
            if hmac.compare_digest(value, token) and found is None:
                found = name
        return found

    def _current(self) -> list[tuple[str, bytes]]:
        if self._file is None:
            return []
        with self._lock:
            try:
                st = os.stat(self._file)
                stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
                if stamp != self._stamp or self._racy:
                    self._reload()
            except OSError as exc:
                if self._stamp is not None:
                    log.warning("token file %s unreadable (%s): refusing every token until it is back",
                                self._file, exc.strerror or exc)
                self._from_file, self._stamp = [], None
            return self._from_file

    def _reload(self) -> None:
        """Read the file. An edit within the file system's timestamp tick of this read could leave the
        stamp unchanged, so such a "racy" read is repeated on the next call (git's racy-clean rule)."""
        assert self._file is not None
        before = os.stat(self._file)
        text = self._file.read_text(encoding="utf-8", errors="replace")
        found = [(name, token.encode()) for name, token in parse_token_lines(text)]
        if found != self._from_file or self._stamp is None:
            log.info("token file %s: %d token(s) accepted (%s)", self._file, len(found),
                     ", ".join(name for name, _ in found))
        self._from_file = found
        self._stamp = (before.st_mtime_ns, before.st_ctime_ns, before.st_size, before.st_ino)
        self._racy = time.time_ns() - max(before.st_mtime_ns, before.st_ctime_ns) < 2_000_000_000


class TokenInterceptor(grpc.ServerInterceptor):
    """Require `authorization: Bearer <token>` on every API call (health and reflection stay open)."""

    def __init__(self, tokens: TokenSet | str) -> None:
        self._tokens = tokens if isinstance(tokens, TokenSet) else TokenSet([tokens])

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        method = details.method or ""
        if not method.startswith(SERVICE_PREFIX):
            return continuation(details)
        given = dict(details.invocation_metadata).get("authorization", "")
        scheme, _, token = given.partition(" ")
        name = self._tokens.match(token) if scheme == "Bearer" and token else None
        handler = continuation(details)
        if name is not None or handler is None:
            return handler
        log.info("refused %s: %s token", method, "wrong" if given else "no")
        return _denial(handler, REFUSED if given else MISSING)


def _denial(handler: Any, message: str) -> Any:
    """A handler of the same shape as `handler` that fails with UNAUTHENTICATED and `message`."""

    def deny(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(deny)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(deny)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(deny)
    return grpc.unary_unary_rpc_method_handler(deny)
