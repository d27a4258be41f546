#!/usr/bin/env python3
"""console.py SOCKET OUT: the --console-socket end of runc's protocol. Listens on SOCKET, takes
the pty master the runtime sends (SCM_RIGHTS), then copies what the container writes to it
into OUT until the container closes it."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print("listening", flush=True)
conn, _ = srv.accept()
_, fds, _, _ = socket.recv_fds(conn, 1024, 1)
if not fds:
    sys.exit("console.py: no fd received")
master = fds[0]
with open(out, "wb") as f:
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: every slave closed
            break
        if not data:
            break
        f.write(data)
        f.flush()
