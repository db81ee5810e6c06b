"""A tiny LDAP simple-bind server on 127.0.0.1 that accepts, per user, any of a SET of passwords.

Stand-in for RDS's IAM check in the PostgreSQL tests: the app presents one IAM token per
endpoint (tokens are bound to the host name they were signed for), so the app user must accept
the writer's token AND the reader's token. A PostgreSQL role has one password; PostgreSQL's
`ldap` auth method (simple bind, `ldapprefix`/`ldapsuffix`) hands the client's user and
password to this server instead. (MariaDB does the same with an `IDENTIFIED VIA … OR …` chain.)
Only BindRequest (simple) and UnbindRequest are implemented: all PostgreSQL sends.
"""
from __future__ import annotations

import socket
import threading

PREFIX, SUFFIX = "cn=", ",dc=aurorakit"
SUCCESS, INVALID_CREDENTIALS, PROTOCOL_ERROR = 0, 49, 2


def _tlv(tag: int, payload: bytes) -> bytes:
    n = len(payload)
    length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + payload


def _read_tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        length, pos = int.from_bytes(data[pos:pos + count], "big"), pos + count
    else:
        length = first
    return tag, data[pos:pos + length], pos + length


def _recv_message(conn: socket.socket) -> bytes | None:
    head = conn.recv(2)
    if len(head) < 2:
        return None
    extra = b""
    if head[1] & 0x80:
        extra = conn.recv(head[1] & 0x7F)
    length = int.from_bytes(extra, "big") if extra else head[1]
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return head + extra + body


class PasswordSetLdap:
    """`accept(user, passwords)` replaces the set of passwords `user` may bind with."""

    def __init__(self):
        self._passwords: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()
        self.binds: list[tuple[str, bool]] = []  # (user, accepted) per bind, in order
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def pg_hba_options(self) -> str:
        return f'ldapserver=127.0.0.1 ldapport={self.port} ldapprefix="{PREFIX}" ldapsuffix="{SUFFIX}"'

    def accept(self, user: str, passwords) -> None:
        with self._lock:
            self._passwords[user] = frozenset(passwords)

    def close(self) -> None:
        self._sock.close()

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _check(self, dn: str, password: str) -> bool:
        user = dn[len(PREFIX):-len(SUFFIX)] if dn.startswith(PREFIX) and dn.endswith(SUFFIX) else ""
        with self._lock:
            ok = bool(password) and password in self._passwords.get(user, ())
            self.binds.append((user, ok))
        return ok

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            while True:
                try:
                    message = _recv_message(conn)
                except OSError:
                    return
                if message is None:
                    return
                _, seq, _ = _read_tlv(message, 0)
                _, msgid, pos = _read_tlv(seq, 0)
                op, body, _ = _read_tlv(seq, pos)
                if op != 0x60:  # anything but a BindRequest (an UnbindRequest): done
                    return
                _, _, p = _read_tlv(body, 0)           # version
                _, dn, p = _read_tlv(body, p)          # name
                auth, password, _ = _read_tlv(body, p)  # [0] simple
                code = (SUCCESS if auth == 0x80 and self._check(dn.decode(), password.decode())
                        else INVALID_CREDENTIALS if auth == 0x80 else PROTOCOL_ERROR)
                result = _tlv(0x0A, bytes([code])) + _tlv(0x04, b"") + _tlv(0x04, b"")
                conn.sendall(_tlv(0x30, _tlv(0x02, msgid) + _tlv(0x61, result)))
