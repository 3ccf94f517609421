"""make dist writes a reproducible tarball of exactly the last commit;
make install into the live system refreshes the dynamic linker's cache as
root and says when LIBDIR is one the linker does not search; make uninstall
removes what make install put there."""
import os
import shutil
import subprocess
import tarfile
import time

from support import BUILD, ROOT, TempDirTest, wait_for
from test_version import header_version


def git(*args):
    return subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True)


class Dist(TempDirTest):
    def setUp(self):
        super().setUp()
        if shutil.which("git") is None:
            self.skipTest("git is not installed")
        if git("rev-parse", "--verify", "-q", "HEAD").returncode != 0:
            self.skipTest("not a git checkout (an unpacked release tarball): make dist needs one")

    def dist(self, name):
        out = self.path(name)
        os.mkdir(out)
        r = subprocess.run(["make", "-s", "dist", "DISTDIR=" + out], cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        tarball = os.path.join(out, "py-mon-%s.tar.gz" % header_version())
        self.assertEqual(r.stdout.strip(), tarball)
        return tarball

    def test_same_bytes_twice_and_exactly_the_files_of_head(self):
        a = self.dist("a")
        # A clock-dependent field (gzip's time stamp) would differ now.
        t0 = int(time.time())
        wait_for(lambda: int(time.time()) != t0, what="the next second")
        b = self.dist("b")
        with open(a, "rb") as fa, open(b, "rb") as fb:
            self.assertTrue(fa.read() == fb.read(), "two make dist runs gave different bytes")

        prefix = "py-mon-%s/" % header_version()
        commit_time = int(git("log", "-1", "--format=%ct", "HEAD").stdout)
        with tarfile.open(a) as t:
            members = t.getmembers()
        for m in members:
            self.assertTrue(m.name == prefix.rstrip("/") or m.name.startswith(prefix), m.name)
            self.assertEqual(m.mtime, commit_time, m.name)
        files = sorted(m.name[len(prefix):] for m in members if not m.isdir())
        head = sorted(git("ls-tree", "-r", "--name-only", "HEAD").stdout.splitlines())
        self.assertEqual(files, head)
        self.assertNotIn("build/py-mon", files)


class DistOutsideCheckout(TempDirTest):
    def test_refused_outside_the_top_of_a_checkout(self):
        # An unpacked tarball (no .git) must not archive some enclosing
        # repository, nor write an empty tarball.
        for sub in ("include",):
            shutil.copytree(os.path.join(ROOT, sub), self.path("tree", sub))
        shutil.copy(os.path.join(ROOT, "Makefile"), self.path("tree"))
        r = subprocess.run(["make", "-s", "dist"], cwd=self.path("tree"), capture_output=True, text=True)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("is not the top of a git checkout", r.stderr)
        self.assertEqual([f for f in os.listdir(self.path("tree")) if "tar" in f], [])


class InstallLive(TempDirTest):
    """make install without DESTDIR, into a temporary PREFIX, with a fake
    ldconfig that records its calls (the real cache is not touched)."""

    def setUp(self):
        super().setUp()
        self.log = self.path("ldconfig.log")
        self.fake = self.path("ldconfig")
        with open(self.fake, "w") as f:
            # -p lists the cache: an empty one, so LIBDIR is never in it.
            f.write('#!/bin/sh\necho "call:$*" >> "%s"\n' % self.log)
        os.chmod(self.fake, 0o755)
        self.prefix = self.path("pfx")

    def make(self, *args):
        r = subprocess.run(["make", "-s", "BUILD=" + os.path.basename(BUILD), "PREFIX=" + self.prefix,
                            "LDCONFIG=" + self.fake] + list(args), cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def calls(self):
        try:
            with open(self.log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def test_ldconfig_as_root_and_a_note_for_a_libdir_the_linker_does_not_search(self):
        out = self.make("install")
        if os.geteuid() == 0:
            self.assertIn("call:", self.calls(), "ldconfig was not run as root")
        else:
            self.assertNotIn("call:", self.calls(), "ldconfig run without root")
        self.assertIn("call:-p", self.calls())
        self.assertIn("the dynamic linker does not search %s/lib" % self.prefix, out)
        self.assertIn("-Wl,-rpath,%s/lib" % self.prefix, out)

    def test_no_ldconfig_and_no_note_with_destdir(self):
        out = self.make("install", "DESTDIR=" + self.path("dest"))
        self.assertEqual(self.calls(), [])
        self.assertNotIn("dynamic linker", out)

    def test_uninstall_removes_every_file(self):
        self.make("install")
        installed = [os.path.join(d, f) for d, _, fs in os.walk(self.prefix) for f in fs]
        self.assertIn(os.path.join(self.prefix, "bin", "py-mon"), installed)
        self.make("uninstall")
        left = [os.path.join(d, f) for d, _, fs in os.walk(self.prefix) for f in fs]
        self.assertEqual(left, [])
