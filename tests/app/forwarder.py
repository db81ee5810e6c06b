"""A counting TCP forwarder: a second loopback endpoint (the "reader") in front of one DB server,
or a switchable "cluster endpoint" (`switch` to another server, `black_hole`).

It relays bytes untouched (TLS stays end-to-end between the app and the server, so the server's
certificate must cover the forwarder's address) and connects upstream FROM its own address, so the
server sees the reader's sessions coming from that address. Tests observe, outside the app, which
endpoint a statement went through: connections and bytes here, and the peer address server-side.
"""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

TRANSCRIPT_MAX = 1 << 20  # keep at most the last 1 MiB relayed (enough for a few requests)


@dataclass(frozen=True)
class Counts:
    connections: int
    bytes_up: int    # client -> server
    bytes_down: int  # server -> client


class Forwarder:
    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], source: str | None = None):
        self.address, self.upstream, self.source = listen, upstream, source or listen[0]
        self._listener = socket.create_server(listen)
        self._listener.settimeout(0.2)
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._counts = [0, 0, 0]
        self._transcript = bytearray()
        self._stop = threading.Event()
        self._black_hole = threading.Event()
        self._thread = threading.Thread(target=self._accept, name=f"forwarder-{listen}", daemon=True)
        self._thread.start()

    def switch(self, upstream: tuple[str, int]):
        """New connections go to `upstream` (DNS now names another node); open relays stay where
        they are, as TCP connections do. Ends black-hole mode."""
        with self._lock:
            self.upstream = upstream
        self._black_hole.clear()

    def black_hole(self):
        """From now on the endpoint accepts TCP and never answers: new connections are accepted
        and left silent, open relays swallow everything in both directions (the kernel still
        ACKs, so only the client's own timeouts can end the wait)."""
        self._black_hole.set()

    def counts(self) -> Counts:
        with self._lock:
            return Counts(*self._counts)

    def transcript(self) -> bytes:
        """The most recent bytes relayed in either direction (what a network observer sees)."""
        with self._lock:
            return bytes(self._transcript)

    def close(self):
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept() now, not at its timeout
        except OSError:
            pass
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for sock in self._open:  # shutdown wakes the pump threads blocked in recv()
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def _accept(self):
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._counts[0] += 1
                upstream = self.upstream
            if self._black_hole.is_set():  # keep it open, never answer
                with self._lock:
                    self._open.add(client)
                continue
            try:  # from our own address: the server's view of the peer names this endpoint
                server = socket.create_connection(upstream, timeout=5,
                                                  source_address=(self.source, 0))
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            threading.Thread(target=self._pump, args=(client, server, 1), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, 2), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, slot: int):
        try:
            while data := src.recv(65536):
                if self._black_hole.is_set():
                    continue  # swallowed: the peer waits for an answer that never comes
                dst.sendall(data)
                with self._lock:
                    self._counts[slot] += len(data)
                    self._transcript += data
                    del self._transcript[:-TRANSCRIPT_MAX]
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self._lock:
                self._open.discard(src)
                self._open.discard(dst)
            src.close()


def endpoint_pair(writer_upstream: tuple[str, int], reader_upstream: tuple[str, int],
                  hosts: tuple[str, str] = ("127.0.0.2", "127.0.0.1")) -> tuple[Forwarder, Forwarder]:
    """A writer and a reader endpoint on the SAME port (the app has one DB port) at two loopback
    addresses (both named by the test servers' certificate): a cluster endpoint and its -ro twin."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((hosts[0], 0))
            port = probe.getsockname()[1]
        try:
            writer = Forwarder((hosts[0], port), writer_upstream)
        except OSError:
            continue
        try:
            return writer, Forwarder((hosts[1], port), reader_upstream)
        except OSError:
            writer.close()
    raise RuntimeError("no port free on both loopback addresses")
