"""One version everywhere: PYMON_VERSION in include/pymon.h is the single
source. The Makefile, the installed pymon.pc, shared library and man page,
py-mon --version, debian/changelog, CHANGELOG.md and the Python package
(python/, once it exists) must all say the same."""
import os
import re
import subprocess
import unittest

from support import BUILD, PYMON, ROOT, TempDirTest


def header_version():
    with open(os.path.join(ROOT, "include", "pymon.h")) as f:
        found = re.findall(r'^#define PYMON_VERSION "([^"]*)"$', f.read(), re.M)
    if len(found) != 1:
        raise AssertionError("include/pymon.h: expected one #define PYMON_VERSION, found %d" % len(found))
    return found[0]


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


class Version(TempDirTest):
    def setUp(self):
        super().setUp()
        self.version = header_version()

    def test_header_version_is_major_minor_patch(self):
        # The shared library's file name (libpymon.so.0.MINOR.PATCH) and the
        # Debian version (native: no revision) are built from these parts.
        self.assertRegex(self.version, r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")

    def test_makefile_reads_it_from_the_header(self):
        r = subprocess.run(["make", "-s", "version"], cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), self.version)
        self.assertNotRegex(read("Makefile"), r"(?m)^VERSION\s*:?=\s*[0-9]",
                            "the Makefile must not hard-code the version")

    def test_py_mon_version(self):
        r = subprocess.run([PYMON, "--version"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(self.version, r.stdout.split())

    def test_installed_pkgconfig_library_and_man_page(self):
        dest = self.path("dest")
        r = subprocess.run(["make", "-s", "install", "PREFIX=/usr", "DESTDIR=" + dest,
                            "BUILD=" + os.path.basename(BUILD)], cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(dest, "usr/lib/pkgconfig/pymon.pc")) as f:
            self.assertIn("\nVersion: %s\n" % self.version, f.read())
        # soname libpymon.so.0; the file is libpymon.so.0.MINOR.PATCH.
        real = "libpymon.so.0." + (self.version[2:] if self.version.startswith("0.") else self.version)
        self.assertIn(real, os.listdir(os.path.join(dest, "usr/lib")))
        with open(os.path.join(dest, "usr/share/man/man1/py-mon.1")) as f:
            th = [l for l in f if l.startswith(".TH ")]
        self.assertEqual(len(th), 1, th)
        self.assertIn('"py-mon %s"' % self.version, th[0])

    def test_debian_changelog(self):
        # 3.0 (native): the Debian version is the upstream version itself.
        first = read("debian", "changelog").split("\n", 1)[0]
        m = re.match(r"^py-mon \(([^)]+)\) ", first)
        self.assertTrue(m, "debian/changelog: first line %r" % first)
        self.assertEqual(m.group(1), self.version, "debian/changelog: newest entry")

    def test_changelog_md_has_a_section_for_it_and_unreleased(self):
        text = read("CHANGELOG.md")
        self.assertTrue(re.search(r"(?m)^## \[%s\] - \d{4}-\d{2}-\d{2}$" % re.escape(self.version), text),
                        "CHANGELOG.md: no section '## [%s] - YYYY-MM-DD'" % self.version)
        self.assertTrue(re.search(r"(?m)^## \[Unreleased\]$", text), "CHANGELOG.md: no section '## [Unreleased]'")

    def test_readme_install_commands_name_this_version(self):
        text = read("README.md")
        named = set(re.findall(r"py-mon-(\d+\.\d+\.\d+)", text)) | set(re.findall(r"_(\d+\.\d+\.\d+)_", text))
        self.assertTrue(named, "README.md names no py-mon-X.Y.Z tarball or _X.Y.Z_ package")
        self.assertEqual(named, {self.version}, "versions named in README.md")

    def test_python_package(self):
        py = os.path.join(ROOT, "python")
        if not os.path.isdir(py):
            self.skipTest("python/ does not exist yet (the Python package is written on another branch)")
        found = {}
        try:
            text = read("python", "pyproject.toml")
        except FileNotFoundError:
            text = ""
        m = re.search(r'(?ms)^\[project\]\s*$(.*?)(?=^\[|\Z)', text)
        if m:
            v = re.search(r'(?m)^version\s*=\s*"([^"]*)"', m.group(1))
            if v:
                found["python/pyproject.toml [project] version"] = v.group(1)
        try:
            init = read("python", "pymon", "__init__.py")
        except FileNotFoundError:
            init = ""
        v = re.search(r'(?m)^__version__\s*=\s*["\']([^"\']*)["\']', init)
        if v:
            found["python/pymon/__init__.py __version__"] = v.group(1)
        self.assertTrue(found, "no literal version in python/pyproject.toml [project] or python/pymon/__init__.py")
        for where, v in found.items():
            self.assertEqual(v, self.version, where)


if __name__ == "__main__":
    unittest.main()
