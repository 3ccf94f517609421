"""The command line is a plain client of libpymon: src/cli/*.c include only
pymon.h and the CLI's own headers, the CLI objects reference no private
pm_* symbol of the library, and no library file includes a CLI header.
Each check names the offending file and line, so it fails on one bad
#include."""
import os
import re
import subprocess
import unittest

from support import BUILD, ROOT

CLI = os.path.join(ROOT, "src", "cli")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def includes(path):
    """(line number, kind, name) of each #include of a file."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for m in INCLUDE.finditer(text):
        yield text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)


def cli_headers():
    return {f for f in os.listdir(CLI) if f.endswith(".h")}


class Layering(unittest.TestCase):
    def test_cli_includes_only_pymon_h_and_its_own_headers(self):
        own = cli_headers()
        bad = []
        for name in sorted(os.listdir(CLI)):
            if not name.endswith((".c", ".h")):
                continue
            for line, kind, inc in includes(os.path.join(CLI, name)):
                if kind == "<":
                    continue  # the C library and the system
                if inc != "pymon.h" and inc not in own:
                    bad.append("src/cli/%s:%d: #include \"%s\"" % (name, line, inc))
        self.assertEqual(bad, [], "the CLI may include only pymon.h and src/cli headers")

    def test_library_never_includes_cli_headers(self):
        own = cli_headers()
        bad = []
        src = os.path.join(ROOT, "src")
        for root, dirs, files in os.walk(src):
            if os.path.abspath(root) == os.path.abspath(CLI):
                dirs[:] = []
                continue
            dirs[:] = [d for d in dirs if os.path.join(root, d) != CLI]
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, name)
                for line, kind, inc in includes(path):
                    if kind == '"' and (inc.startswith("cli/") or inc in own):
                        bad.append("%s:%d: #include \"%s\"" % (os.path.relpath(path, ROOT), line, inc))
        self.assertEqual(bad, [], "library files must not include the command line's headers")

    def test_cli_objects_reference_no_private_library_symbol(self):
        objdir = os.path.join(BUILD, "obj", "src", "cli")
        objs = sorted(os.path.join(objdir, f) for f in os.listdir(objdir) if f.endswith(".o"))
        srcs = [f[:-2] for f in os.listdir(CLI) if f.endswith(".c")]
        self.assertEqual(sorted(os.path.basename(o)[:-2] for o in objs), sorted(srcs), "not every CLI object built")
        out = subprocess.run(["nm", "-u"] + objs, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout
        undefined = set(l.split()[-1] for l in out.splitlines() if l.strip() and not l.endswith(":"))
        self.assertIn("pymon_watcher_new", undefined, "nm found no library call at all: check the test")
        private = sorted(s for s in undefined if s.startswith("pm_"))
        self.assertEqual(private, [], "the CLI calls private library functions")

    def test_cli_is_compiled_without_the_library_sources_on_the_include_path(self):
        out = subprocess.run(["make", "-n", "-B", "BUILD=" + os.path.relpath(BUILD, ROOT),
                              os.path.join(os.path.relpath(BUILD, ROOT), "obj", "src", "cli", "main.o")],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = [l for l in out.stdout.splitlines() if "src/cli/main.c" in l and " -c " in l]
        self.assertEqual(len(lines), 1, out.stdout)
        flags = lines[0].split()
        self.assertIn("-Iinclude", flags)
        self.assertNotIn("-Isrc", flags)


if __name__ == "__main__":
    unittest.main()
