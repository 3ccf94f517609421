"""--socket [HOST:]PORT: py-mon listens once and hands the socket to every
run as descriptor 3 (LISTEN_FDS, LISTEN_PID, PYMON_SOCKET_FDS), so clients
connecting while the server restarts wait in the backlog instead of being
refused."""
import os
import signal
import socket
import subprocess
import sys
import threading

from support import PYMON, ROOT, TIMEOUT, Proc, TempDirTest, free_port, wait_for, write

HELP_POINTER = "Try 'py-mon --help' for more information."
SERVER = os.path.join(ROOT, "examples", "python", "socket_server.py")
DEBIAN_PYTHON = "/usr/bin/python3"


def debian_module(name):
    """Whether Debian's python3 has module name (python3 on PATH may be pyenv's)."""
    return os.access(DEBIAN_PYTHON, os.X_OK) and subprocess.run(
        [DEBIAN_PYTHON, "-c", "import " + name], capture_output=True).returncode == 0


def http_get(port, timeout=TIMEOUT):
    """The body of GET / on 127.0.0.1:port (HTTP/1.0: the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        c.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1."):
        raise ConnectionError("no HTTP reply: %r" % data[:80])
    return body.decode()


class Client(threading.Thread):
    """Connects in a loop until stopped; counts refused connections and
    other failures, and keeps the last server pid it was answered by."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop = port, threading.Event()
        self.ok = self.refused = self.other = 0
        self.last = None

    def run(self):
        while not self.stop.is_set():
            try:
                body = http_get(self.port)
            except ConnectionRefusedError:
                self.refused += 1
                continue
            except OSError:
                self.other += 1
                continue
            self.ok += 1
            self.last = body.strip()


class Socket(TempDirTest):
    def start(self, *args, command=None, env=None):
        p = Proc([PYMON, "--no-config", "-w", "src"] + list(args) + ["--"] +
                 (command or [sys.executable, SERVER]), cwd=self.dir, env=env)
        self.procs.append(p)
        return p

    def setUp(self):
        super().setUp()
        os.mkdir(self.path("src"))
        self.port = free_port()

    def test_50_restarts_refuse_no_connection(self):
        p = self.start("--socket", str(self.port))
        wait_for(lambda: "listening on: 127.0.0.1:%d" % self.port in p.stderr_text(), what="the banner")
        client = Client(self.port)
        client.start()
        try:
            wait_for(lambda: client.last, what="a first reply")
            seen = {client.last}
            for i in range(50):
                p.send(signal.SIGUSR1)  # restarts the command
                wait_for(lambda: client.last not in seen, what="the server of restart %d" % (i + 1))
                seen.add(client.last)
        finally:
            client.stop.set()
            client.join(TIMEOUT)
        self.assertEqual(client.refused, 0, "refused connections during 50 restarts")
        # The example server answers the request in hand before it exits.
        self.assertEqual(client.other, 0, "connections cut during 50 restarts")
        self.assertGreaterEqual(len(seen), 51)
        self.assertGreater(client.ok, 50)

    def test_variables_and_descriptors_of_two_sockets(self):
        port2 = free_port()
        show = ("import os, socket; fds = [socket.socket(fileno=fd) for fd in (3, 4)]; "
                "print('env', os.environ['LISTEN_FDS'], os.environ['PYMON_SOCKET_FDS'], "
                "os.environ['LISTEN_PID'] == str(os.getpid()), "
                "*[s.getsockname()[1] for s in fds], flush=True)")
        p = self.start("--socket", str(self.port), "--socket=localhost:%d" % port2,
                       command=[sys.executable, "-c", show])
        line = p.wait_line(lambda l: l.startswith("env "))
        self.assertEqual(line, "env 2 3,4 True %d %d" % (self.port, port2))

    def test_no_other_descriptor_reaches_the_command(self):
        # py-mon's own copies of the sockets are close-on-exec: the command
        # has 0-2 and the handed sockets, nothing more.
        show = ("import os\n"
                "def is_open(fd):\n"
                "    try:\n"
                "        os.fstat(fd)\n"
                "        return True\n"
                "    except OSError:\n"
                "        return False\n"
                "print('fds', [fd for fd in range(256) if is_open(fd)], flush=True)\n")
        p = self.start("--socket", str(self.port), command=[sys.executable, "-c", show])
        self.assertEqual(p.wait_line(lambda l: l.startswith("fds ")), "fds [0, 1, 2, 3]")

    def test_ipv6_in_brackets(self):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError as e:
            self.skipTest("no IPv6 loopback here: %s" % e)
        show = "import socket; s = socket.socket(fileno=3); print('v6', s.family.name, s.getsockname()[0], flush=True)"
        p = self.start("--socket", "[::1]:%d" % self.port, command=[sys.executable, "-c", show])
        self.assertEqual(p.wait_line(lambda l: l.startswith("v6 ")), "v6 AF_INET6 ::1")

    def test_the_config_key(self):
        write(self.path("py-mon.toml"), "socket = [%d]\n" % self.port)
        p = Proc([PYMON, "--config", "py-mon.toml", "-w", "src", "--", sys.executable, SERVER], cwd=self.dir)
        self.procs.append(p)
        wait_for(lambda: self.try_get(), what="a reply through the config's socket")
        r = subprocess.run([PYMON, "--config", "py-mon.toml", "--print-config", "true"], cwd=self.dir,
                           capture_output=True, timeout=TIMEOUT)
        self.assertIn('socket = ["127.0.0.1:%d"]    # py-mon.toml:1:1' % self.port, r.stdout.decode())

    def try_get(self):
        try:
            return http_get(self.port, timeout=1).startswith("pid ")
        except OSError:
            return False

    def test_uvicorn_fd_3(self):
        if not debian_module("uvicorn"):
            self.skipTest("python3-uvicorn is not installed (apt-get install python3-uvicorn)")
        write(self.path("src", "app.py"),
              "async def app(scope, receive, send):\n"
              "    assert scope['type'] == 'http'\n"
              "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
              "    await send({'type': 'http.response.body', 'body': b'hello from uvicorn'})\n")
        p = self.start("--socket", str(self.port),
                       command=[DEBIAN_PYTHON, "-m", "uvicorn", "--fd", "3", "--app-dir", "src", "app:app"])
        self.assertEqual(wait_for(lambda: self.try_body(), what="uvicorn's reply"), "hello from uvicorn")
        # An edit restarts uvicorn on the same socket.
        write(self.path("src", "app.py"), open(self.path("src", "app.py")).read().replace("hello", "bye"))
        self.assertEqual(wait_for(lambda: self.try_body() == "bye from uvicorn" and "bye from uvicorn",
                                  what="the restarted uvicorn"), "bye from uvicorn")
        self.assertIsNone(p.p.poll())

    def test_gunicorn_socket_activation(self):
        if not debian_module("gunicorn"):
            self.skipTest("python3-gunicorn is not installed (apt-get install python3-gunicorn)")
        write(self.path("src", "wsgi.py"),
              "def app(environ, start_response):\n"
              "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
              "    return [b'hello from gunicorn']\n")
        # gunicorn reads LISTEN_FDS when LISTEN_PID is its own pid; without
        # it, it would listen on 127.0.0.1:8000 and this port never answer.
        p = self.start("--socket", str(self.port),
                       command=[DEBIAN_PYTHON, "-m", "gunicorn", "-w", "2", "--chdir", "src", "wsgi:app"])
        self.assertEqual(wait_for(lambda: self.try_body(), what="gunicorn's reply"), "hello from gunicorn")
        write(self.path("src", "wsgi.py"), open(self.path("src", "wsgi.py")).read().replace("hello", "bye"))
        wait_for(lambda: self.try_body() == "bye from gunicorn", what="the restarted gunicorn")
        self.assertIsNone(p.p.poll())

    def try_body(self):
        try:
            return http_get(self.port, timeout=2)
        except OSError:
            return None


class SocketInput(TempDirTest):
    def refused(self, args, *needles):
        r = subprocess.run([PYMON, "--no-config"] + args + ["--", "touch", self.path("started")], cwd=self.dir,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 2, err)
        self.assertEqual(err.splitlines()[1:], [HELP_POINTER], err)
        for n in needles:
            self.assertIn(n, err.splitlines()[0])
        self.assertFalse(os.path.exists(self.path("started")))

    def test_a_port_in_use_exits_2_naming_the_flag_and_address(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            self.refused(["--socket", str(port)], "--socket '127.0.0.1:%d'" % port, "Address already in use")
            # The same port twice.
        port = free_port()
        self.refused(["--socket", str(port), "--socket", "127.0.0.1:%d" % port],
                     "--socket '127.0.0.1:%d'" % port, "Address already in use")

    def test_bad_addresses(self):
        self.refused(["--socket", "http"], "--socket 'http'", "port must be a number")
        self.refused(["--socket", "0"], "--socket '0'", "from 1 to 65535")
        self.refused(["--socket", "65536"], "from 1 to 65535")
        self.refused(["--socket", ":8000"], "empty host")
        self.refused(["--socket", "::1:8000"], "in brackets")
        self.refused(["--socket", "no-such-host.invalid:8000"], "no-such-host.invalid:8000", "unknown host")
        self.refused(["--socket", "8000", "--each"], "not with --each")
        write(self.path("py-mon.toml"), 'socket = 8000\n[[rule]]\ncommand = "true"\n')
        r = subprocess.run([PYMON], cwd=self.dir, capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2)
        self.assertIn("without a command to hand it to", r.stderr.decode())
        write(self.path("py-mon.toml"), 'socket = ["8000", "x"]\n')
        r = subprocess.run([PYMON, "true"], cwd=self.dir, capture_output=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 2)
        self.assertIn("py-mon.toml:1:1: socket 'x'", r.stderr.decode())


if __name__ == "__main__":
    import unittest
    unittest.main()
