"""The tree recovers when the disk changes under it (issue 12): a root
deleted and made again is watched again and its files reported, also when
its parents went too; a directory unreadable at scan time is read once its
permissions change."""
import json
import os
import shutil

from support import PYMON, Proc, TempDirTest, unreadable_prefix, wait_for, write


class Recovery(TempDirTest):
    def watch(self, root, prefix=()):
        p = Proc(list(prefix) + [PYMON, "watch", "--json", "--no-config", "-w", root], cwd=self.dir)
        self.procs.append(p)
        wait_for(lambda: "watching" in p.stderr_text(), what="py-mon watch to start")
        return p

    def until(self, p, path, kind="create"):
        while True:
            e = json.loads(p.line())
            if e["path"] == path and e["event"] == kind:
                return e

    def test_a_root_deleted_and_made_again_is_watched_again(self):
        os.makedirs(self.path("w"))
        p = self.watch("w")
        shutil.rmtree(self.path("w"))
        self.until(p, "w", "delete")
        os.makedirs(self.path("w", "sub"))
        write(self.path("w", "sub", "a.py"))
        self.until(p, "w/sub/a.py")
        # And it keeps working: a later file, then the same again.
        write(self.path("w", "b.py"))
        self.until(p, "w/b.py")
        shutil.rmtree(self.path("w"))
        self.until(p, "w", "delete")
        os.makedirs(self.path("w"))
        write(self.path("w", "c.py"))
        self.until(p, "w/c.py")
        p.wait_stderr("w is back; watching it again")

    def test_a_root_whose_parents_went_too(self):
        os.makedirs(self.path("a", "b", "w"))
        p = self.watch("a/b/w")
        shutil.rmtree(self.path("a"))
        self.until(p, "a/b/w", "delete")
        os.makedirs(self.path("a"))          # one step closer
        os.makedirs(self.path("a", "b", "w"))
        write(self.path("a", "b", "w", "x.py"))
        self.until(p, "a/b/w/x.py")

    def test_an_unreadable_directory_is_read_when_its_mode_changes(self):
        os.makedirs(self.path("w", "locked"))
        write(self.path("w", "locked", "old.py"))
        os.chmod(self.path("w", "locked"), 0)
        prefix, why = unreadable_prefix(self.path("w", "locked"))
        if prefix is None:
            self.skipTest(why)
        p = self.watch("w", prefix)
        wait_for(lambda: "cannot watch" in p.stderr_text(), what="the warning about w/locked")
        os.chmod(self.path("w", "locked"), 0o755)
        self.until(p, "w/locked/old.py")     # its contents, reported once readable
        write(self.path("w", "locked", "new.py"))
        self.until(p, "w/locked/new.py")     # and watched from then on
