"""A plain HTTP server that takes its listening socket from py-mon:

    py-mon --socket 8000 python3 socket_server.py

py-mon listens on 127.0.0.1:8000 once and hands the socket to every run
as descriptor 3 (LISTEN_FDS=1), so a browser reload while the server
restarts waits in the backlog instead of getting "connection refused".
Run without py-mon (no LISTEN_FDS), it binds the port itself:
python3 socket_server.py [PORT]. Each reply names the serving process."""
import os
import select
import signal
import socket
import sys


def listening_socket() -> socket.socket:
    # systemd's convention: LISTEN_PID must be this process, LISTEN_FDS
    # the number of sockets, starting at descriptor 3.
    if os.environ.get("LISTEN_PID") == str(os.getpid()) and int(os.environ.get("LISTEN_FDS", "0")) >= 1:
        return socket.socket(fileno=3)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8000))
    s.listen(128)
    return s


def main() -> None:
    server = listening_socket()
    # py-mon's stop signal (SIGTERM) ends the loop between requests: the
    # request in hand is answered, and connections waiting in the backlog
    # stay there for the next run.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    print("serving on %s:%d (pid %d)" % (server.getsockname()[:2] + (os.getpid(),)), flush=True)
    while True:
        ready, _, _ = select.select([server, wake_r], [], [])
        if wake_r in ready:
            return
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            body = b"pid %d\n" % os.getpid()
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


if __name__ == "__main__":
    main()
