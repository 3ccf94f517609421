"""make install honours PREFIX and DESTDIR, and what it installs is enough
to build a program against libpymon with pkg-config's flags."""
import os
import subprocess

from support import BUILD, ROOT, Proc, TempDirTest, wait_for, write


class Install(TempDirTest):
    def test_install_into_destdir_and_build_against_it(self):
        dest = self.path("dest")
        env = dict(os.environ)
        build = os.path.basename(BUILD)
        r = subprocess.run(["make", "-s", "install", "PREFIX=/opt/pm", "DESTDIR=" + dest, "BUILD=" + build],
                           cwd=ROOT, capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        root = dest + "/opt/pm"
        for f in ("bin/py-mon", "include/pymon.h", "lib/libpymon.a", "lib/libpymon.so",
                  "lib/libpymon.so.0", "lib/pkgconfig/pymon.pc"):
            self.assertTrue(os.path.exists(os.path.join(root, f)), f)
        pc = open(os.path.join(root, "lib/pkgconfig/pymon.pc")).read()
        self.assertIn("prefix=/opt/pm", pc)
        self.assertIn("-lpymon", pc)
        # Build the README example against the installed files only.
        exe = self.path("watch_print")
        cc = os.environ.get("CC", "cc")
        # A sanitizer build of the library needs its runtime in the program too.
        san = ["-fsanitize=address,undefined"] if build == "build-san" else []
        r = subprocess.run([cc] + san + [os.path.join(ROOT, "examples", "watch_print.c"), "-I" + root + "/include",
                            "-L" + root + "/lib", "-lpymon", "-o", exe], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        env["LD_LIBRARY_PATH"] = root + "/lib"
        p = Proc([exe, "."], cwd=self.path("dest"), env=env)
        self.procs.append(p)
        wait_for(lambda: "watching" in p.stderr_text(), what="the example to start")
        write(self.path("dest", "new.py"))
        self.assertIn("new.py", p.wait_line(lambda l: "new.py" in l))


class Linking(TempDirTest):
    def test_binaries_bind_every_symbol_at_load(self):
        # -z now: no lazy binding through the dynamic linker later, in py-mon
        # or in its kept guardian (which would map ld.so's pages again).
        for f in ("py-mon", "libpymon.so.0"):
            r = subprocess.run(["readelf", "-d", os.path.join(BUILD, f)], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("BIND_NOW", r.stdout, f)
