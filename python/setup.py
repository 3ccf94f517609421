"""Builds pymon._pymon: the extension compiles libpymon's sources (every .c
under ../src except src/cli/) and the CLI's (src/cli/, with main() renamed,
for `python3 -m pymon`) into itself, so no installed libpymon is needed.

Sources are found by globbing, so moving library files between folders
under src/ needs no change here. The repository root is the parent of this
directory: pip must build in place (pip >= 21.3 does for a local path)."""
import glob
import os
import re

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SRC = os.path.join(ROOT, "src")
CLI = os.path.join(SRC, "cli")

if not os.path.isfile(os.path.join(ROOT, "include", "pymon.h")):
    raise SystemExit("pymon: %s/include/pymon.h not found: build from the py-mon source tree "
                     "(pip install --no-build-isolation ./python)" % ROOT)


def under(d, pattern):
    return sorted(glob.glob(os.path.join(d, "**", pattern), recursive=True))


lib_sources = [p for p in under(SRC, "*.c") if not p.startswith(CLI + os.sep)]
# main.c is compiled through pymon/_cli.c, which renames main().
cli_sources = [p for p in under(CLI, "*.c") if os.path.basename(p) != "main.c"]
headers = under(SRC, "*.h") + [os.path.join(ROOT, "include", "pymon.h")]
# As the Makefile: library files include "core/x.h" from src/, the CLI's
# its own headers from src/cli. (Every folder on the path would let
# src/core/poll.h shadow <poll.h>.)
include_dirs = [os.path.join(ROOT, "include"), SRC, CLI]

with open(os.path.join(ROOT, "include", "pymon.h")) as f:
    header = f.read()
macros = [("_GNU_SOURCE", None)]

extra = ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
         "-fvisibility=hidden"]
if os.environ.get("PYMON_WERROR"):
    extra.append("-Werror")

setup(ext_modules=[Extension(
    "pymon._pymon",
    sources=["pymon/_pymon.c", "pymon/_cli.c"] + lib_sources + cli_sources,
    depends=headers + [os.path.join(CLI, "main.c")],
    include_dirs=include_dirs,
    define_macros=macros,
    extra_compile_args=extra,
    # Bound at load, as the Makefile links py-mon: a run the guardian starts
    # by clone() must not enter the dynamic linker's lazy resolver (on its
    # small stack, with the guardian's TLS) for the first setpgid() or dup2().
    extra_link_args=["-Wl,-z,now", "-Wl,-z,relro"],
)])
