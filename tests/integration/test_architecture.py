"""The library's layering, read from the #include lines of src/, and its
exported symbols, read from the shared library: the rules the README's
Architecture section states."""
import os
import re
import shutil
import subprocess
import unittest

from support import BUILD, ROOT

SRC = os.path.join(ROOT, "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources():
    """{path relative to src/: [included paths as written]} for every .c/.h."""
    out = {}
    for dirpath, _, files in os.walk(SRC):
        for f in files:
            if f.endswith((".c", ".h")):
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, SRC)
                with open(full) as fh:
                    out[rel] = INCLUDE.findall(fh.read())
    return out


def forbidden_edges(graph):
    """(file, include) pairs that break the layering rules."""
    bad = []
    for f, incs in graph.items():
        for inc in incs:
            if f.startswith("cli/"):
                # compiled with -Iinclude -Isrc/cli: pymon.h and its own headers
                if not (inc == "pymon.h" or os.path.exists(os.path.join(SRC, "cli", inc))):
                    bad.append((f, inc))
                continue
            if inc.startswith("cli/"):
                bad.append((f, inc))  # nothing below the CLI includes it
            if (f.startswith("filter/") or f.startswith("core/tree.")) and inc.startswith("act/"):
                bad.append((f, inc))
            if f.startswith("act/") and (inc.startswith("filter/") or inc in ("core/inotify.h", "core/scan.h")):
                bad.append((f, inc))
            if f.startswith("base/") and not (inc == "pymon.h" or inc.startswith("base/")):
                bad.append((f, inc))
    return bad


def header_cycle(graph):
    """A cycle among headers including each other, or None."""
    headers = {f: [i for i in incs if i.endswith(".h") and i in graph] for f, incs in graph.items()
               if f.endswith(".h")}
    state = {}

    def visit(h, path):
        state[h] = 1
        for n in headers.get(h, []):
            if state.get(n) == 1:
                return path + [n]
            if n not in state:
                c = visit(n, path + [n])
                if c:
                    return c
        state[h] = 2
        return None

    for h in headers:
        if h not in state:
            c = visit(h, [h])
            if c:
                return c
    return None


class Layering(unittest.TestCase):
    def test_no_forbidden_include(self):
        self.assertEqual(forbidden_edges(sources()), [])

    def test_the_check_catches_a_forbidden_include(self):
        # The rules themselves, on a graph with one bad edge of each kind.
        graph = {"filter/rules.c": ["act/action.h"], "act/each.c": ["core/inotify.h"],
                 "cli/main.c": ["core/watcher.h"], "core/tree.c": ["cli/output.h"],
                 "act/spawn.c": ["filter/rules.h"], "base/util.c": ["core/loop.h"]}
        self.assertEqual(len(forbidden_edges(graph)), 6)

    def test_no_include_cycle(self):
        self.assertIsNone(header_cycle(sources()))
        self.assertIsNotNone(header_cycle({"a.h": ["b.h"], "b.h": ["a.h"]}))

    def test_no_god_header(self):
        self.assertFalse(os.path.exists(os.path.join(SRC, "internal.h")), "the god header is back")


@unittest.skipUnless(shutil.which("nm"), "nm (binutils) is not installed")
class Symbols(unittest.TestCase):
    def test_shared_library_exports_exactly_the_public_functions(self):
        so = os.path.join(BUILD, "libpymon.so")
        out = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True, check=True)
        exported = {l.split()[-1] for l in out.stdout.splitlines() if l.split()[-2:-1] == ["T"]}
        with open(os.path.join(ROOT, "include", "pymon.h")) as f:
            header = f.read()
        declared = set(re.findall(r"\b(pymon_\w+)\s*\(", header)) - {
            n for n in re.findall(r"typedef\s+\w+\s*\(\*\s*(pymon_\w+)\)", header)}
        self.assertEqual(exported, declared)

    def test_debian_symbols_file_lists_the_exports(self):
        # dpkg-gensymbols fails the package build on a removed symbol: keep
        # debian/libpymon0.symbols in step with the library.
        so = os.path.join(BUILD, "libpymon.so")
        out = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True, check=True)
        exported = {l.split()[-1] for l in out.stdout.splitlines() if l.split()[-2:-1] == ["T"]}
        with open(os.path.join(ROOT, "debian", "libpymon0.symbols")) as f:
            listed = {l.split("@")[0].strip() for l in f if l.startswith(" ")}
        self.assertEqual(exported, listed)
