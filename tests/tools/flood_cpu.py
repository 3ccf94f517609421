#!/usr/bin/env python3
"""CPU time of a running `py-mon watch` per write, end to end, for a flood
of writes to existing files in a git work tree with GitHub's Python
.gitignore (the one tests/tools/filterbench.c uses) and the default ignores.

    python3 tests/tools/flood_cpu.py PYMON [WRITES [RATE]]

Prints CPU microseconds per write (user + system, from /proc), the output
lines and any overflow. Paced at RATE writes/s (default 10000) so the
kernel queue does not overflow and every event is read.
"""
import os, re, shutil, subprocess, sys, tempfile, time

src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "filterbench.c")).read()
body = re.search(r'static const char gitignore\[\] =\n(.*?);\n', src, re.S).group(1)
GITIGNORE = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body)).encode().decode("unicode_escape")
NAMES = ["models.py", "views.py", "test_api.py", "app.log", ".views.py.swp", "views.py~",
         "settings.py", "data.db-journal", "README.md", "schema.json", "coverage.xml", "util.py"]

def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")

def main():
    pymon = sys.argv[1]
    writes = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 10000.0
    base = tempfile.mkdtemp(prefix="flood-cpu-")
    try:
        root = os.path.join(base, "w")
        os.makedirs(os.path.join(root, ".git"))
        with open(os.path.join(root, ".gitignore"), "w") as f:
            f.write(GITIGNORE)
        files = []
        for i in range(100):
            d = os.path.join(root, f"d{i // 10}", f"e{i % 10}")
            os.makedirs(d)
            for n in NAMES:
                p = os.path.join(d, n)
                open(p, "w").close()
                files.append(p)
        out = os.path.join(base, "out")
        with open(out, "wb") as fo:
            p = subprocess.Popen([pymon, "watch", "--no-config", "--json", root], stdout=fo,
                                 stderr=subprocess.DEVNULL)
        try:
            end = time.monotonic() + 20
            while os.path.getsize(out) == 0 and time.monotonic() < end:
                with open(os.path.join(root, "probe.py"), "w") as f:
                    f.write("x")
                time.sleep(0.05)
            if os.path.getsize(out) == 0:
                sys.exit("flood_cpu: py-mon never reported the probe")
            time.sleep(0.5)
            c0, t0 = cpu_s(p.pid), time.monotonic()
            for i in range(writes):
                fd = os.open(files[i % len(files)], os.O_WRONLY | os.O_TRUNC)
                os.write(fd, b"x")
                os.close(fd)
                if i % 100 == 99:
                    ahead = t0 + (i + 1) / rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
            # until its CPU time stops moving for half a second
            last, t_last = cpu_s(p.pid), time.monotonic()
            while time.monotonic() - t_last < 0.5:
                time.sleep(0.05)
                c = cpu_s(p.pid)
                if c != last:
                    last, t_last = c, time.monotonic()
            data = open(out, "rb").read()
            lines, over = data.count(b"\n"), data.count(b"rescan") + data.count(b"OVERFLOW")
            print(f"{writes} writes at {rate:.0f}/s: {(last - c0) * 1e6 / max(writes, 1):.2f} us CPU per write, "
                  f"{lines} lines, overflow lines {over}")
        finally:
            p.terminate()
            p.wait()
    finally:
        shutil.rmtree(base)

main()
