"""Several web processes behind one port: which process answers a connection (Linux ``/proc``).

``serve --web-workers 2`` binds the port once and its uvicorn processes accept from that one
socket, so a client cannot choose the process. Here a client opens keep-alive connections,
looks up which process holds the server side of each (``/proc/net/tcp*`` gives the socket's
inode, ``/proc/<pid>/fd`` who owns it) and keeps connections until every process has some:
requests sent on them then reach a known process, from outside, without any header or log
line added to the product.
"""

from __future__ import annotations

import http.client
import json
import os
from typing import Any

from tests.processes import descendants
from tests.urls import api_path


def _server_socket_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the accepted socket whose local port is ``server_port`` and remote port
    ``client_port`` (loopback, IPv4 or IPv6)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], int(fields[9])
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
                and inode
            ):
                return inode
    return None


def socket_owner(inode: int, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the socket ``inode`` open."""
    link = f"socket:[{inode}]"
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == link:
                    return pid
            except OSError:
                continue
    return None


class PinnedConnection:
    """A keep-alive HTTP connection and the pid of the web process that accepted it."""

    def __init__(self, port: int, token: str, *, server_pid: int) -> None:
        self.port = port
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # A first request makes the server accept the connection (the kernel queues it
        # until then), and any process may be the one that takes it.
        self.request("GET", api_path("job-list") + "?page_size=1")
        self.client_port = self.conn.sock.getsockname()[1]
        self.pid = self._owner(server_pid)

    def _owner(self, server_pid: int) -> int:
        inode = _server_socket_inode(self.port, self.conn.sock.getsockname()[1])
        owner = socket_owner(inode, descendants(server_pid)) if inode else None
        if owner is None:
            raise RuntimeError("could not tell which web process holds the connection")
        return owner

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        self.conn.request(
            method,
            path,
            body=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Token {self.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        reply = self.conn.getresponse()
        data = reply.read()
        if self.conn.sock is None or (
            hasattr(self, "client_port") and self.conn.sock.getsockname()[1] != self.client_port
        ):
            # The server closed the connection (keep-alive timeout): the answer may have come
            # from another process, so the pin no longer holds.
            raise RuntimeError("the keep-alive connection was closed; its process is unknown")
        return reply.status, json.loads(data or b"null")

    def close(self) -> None:
        self.conn.close()


def connections_per_process(
    port: int, token: str, *, server_pid: int, processes: int, each: int, attempts: int = 200
) -> dict[int, list[PinnedConnection]]:
    """Open connections until ``processes`` web processes hold ``each`` of them at least.

    Raises if fewer processes answer within ``attempts`` connections. Extra connections are
    kept open too (closing them would not change which process the next one reaches).
    """
    pinned: dict[int, list[PinnedConnection]] = {}
    for _ in range(attempts):
        conn = PinnedConnection(port, token, server_pid=server_pid)
        pinned.setdefault(conn.pid, []).append(conn)
        if len(pinned) >= processes and all(len(c) >= each for c in pinned.values()):
            return pinned
    for conns in pinned.values():
        for conn in conns:
            conn.close()
    raise RuntimeError(
        f"{attempts} connections reached {len(pinned)} web process(es): "
        f"{ {pid: len(c) for pid, c in pinned.items()} }"
    )
