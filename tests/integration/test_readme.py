"""The README's example program is the file the build compiles, and it
works as the README says."""
import os
import re

from support import BUILD, ROOT, Proc, TempDirTest, write


class ReadmeExample(TempDirTest):
    def test_readme_example_is_the_compiled_file(self):
        readme = open(os.path.join(ROOT, "README.md")).read()
        blocks = re.findall(r"<!-- example:(\S+) -->\n```c\n(.*?)```", readme, re.S)
        self.assertTrue(blocks, "README has no example block")
        for path, code in blocks:
            with open(os.path.join(ROOT, path)) as f:
                self.assertEqual(code, f.read(), "README block differs from %s" % path)
            exe = os.path.join(BUILD, "examples", os.path.splitext(os.path.basename(path))[0])
            self.assertTrue(os.access(exe, os.X_OK), "%s was not built" % exe)

    def test_example_prints_changes(self):
        exe = os.path.join(BUILD, "examples", "watch_print")
        p = Proc([exe, "."], cwd=self.dir)
        self.procs.append(p)
        # "watching N directories" on stderr marks readiness.
        from support import wait_for
        wait_for(lambda: "watching" in p.stderr_text(), what="watch_print to start")
        os.mkdir(self.path("pkg"))
        write(self.path("debug.log"))
        p.wait_line(lambda l: l == "create pkg/")
        write(self.path("pkg", "mod.py"))
        p.wait_line(lambda l: l == "create pkg/mod.py")
        os.rename(self.path("pkg", "mod.py"), self.path("pkg", "renamed.py"))
        p.wait_line(lambda l: l == "move pkg/mod.py -> pkg/renamed.py")
        seen = p.seen
        self.assertFalse(any("debug.log" in l for l in seen))
