"""py-mon completions, init and explain (issue 11, "Missing")."""
import os
import re
import subprocess

from support import BUILD, PYMON, ROOT, TIMEOUT, TempDirTest, write


def run(args, cwd, **kw):
    r = subprocess.run([PYMON] + list(args), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT, **kw)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


class Completions(TempDirTest):
    def complete(self, script, *words):
        """What bash -i completes for the words (the last one being typed)."""
        words = ["py-mon"] + list(words)
        line = " ".join(words)
        prog = ('source "$1"; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE=%s; COMP_POINT=%d; _py_mon; '
                'printf "%%s\\n" "${COMPREPLY[@]}"' % (
                    " ".join("'%s'" % w for w in words), len(words) - 1, "'%s'" % line, len(line)))
        r = subprocess.run(["bash", "--norc", "--noprofile", "-i", "-c", prog, "bash", script], cwd=self.dir,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode().split()

    def bash_script(self):
        status, out, err = run(["completions", "bash"], self.dir)
        self.assertEqual(status, 0, err)
        script = self.path("py-mon.bash")
        write(script, out)
        return script

    def test_bash_completes_options_and_their_values(self):
        script = self.bash_script()
        self.assertEqual(self.complete(script, "--on-b"), ["--on-busy"])
        self.assertEqual(self.complete(script, "--on-busy", "q"), ["queue"])
        self.assertEqual(sorted(self.complete(script, "--no-")),
                         ["--no-color", "--no-config", "--no-default-ignore", "--no-poll", "--no-vcs-ignore"])
        self.assertIn("--env-file", self.complete(script, "--env"))
        self.assertEqual(self.complete(script, "completions", "f"), ["fish"])
        self.assertIn("explain", self.complete(script, "expl"))
        write(self.path("settings.env"))
        self.assertEqual(self.complete(script, "--env-file", "sett"), ["settings.env"])

    def test_every_option_is_in_every_script(self):
        _, helptext, _ = run(["--help"], self.dir)
        longs = re.findall(r"(?m)^  (?:-\w, |    )--([\w-]+)", helptext)
        self.assertIn("on-busy", longs)
        for shell in ["bash", "zsh", "fish"]:
            status, out, err = run(["completions", shell], self.dir)
            self.assertEqual(status, 0, err)
            for name in longs:
                self.assertIn(name, out, "%s completion lacks --%s" % (shell, name))

    def test_zsh_and_fish_scripts_parse_and_fish_completes(self):
        # zsh and fish are in .ci/run's package list; elsewhere they may be missing.
        import shutil
        for shell, name in [("zsh", "_py-mon"), ("fish", "py-mon.fish")]:
            if not shutil.which(shell):
                self.skipTest("%s is not installed" % shell)
            status, out, err = run(["completions", shell], self.dir)
            self.assertEqual(status, 0, err)
            write(self.path(name), out)
            r = subprocess.run([shell, "-n", self.path(name)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=TIMEOUT)
            self.assertEqual(r.returncode, 0, "%s -n: %s" % (shell, r.stderr.decode()))

        def fish(line):
            r = subprocess.run(["fish", "--no-config", "-c", "source %s; complete -C '%s'" % (
                self.path("py-mon.fish"), line)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TIMEOUT)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            return [l.split("\t")[0] for l in r.stdout.decode().splitlines()]

        self.assertEqual(fish("py-mon --on-b"), ["--on-busy"])
        self.assertEqual(fish("py-mon --on-busy q"), ["queue"])
        self.assertIn("completions", fish("py-mon compl"))

    def test_bad_shell_is_refused(self):
        status, _, err = run(["completions", "tcsh"], self.dir)
        self.assertEqual(status, 2)
        self.assertIn("completions: expected one shell name, bash, zsh or fish (got 'tcsh')", err)
        status, _, err = run(["completions"], self.dir)
        self.assertEqual(status, 2)

    def test_make_install_puts_them_where_the_shells_look(self):
        dest = self.path("dest")
        r = subprocess.run(["make", "-s", "install", "PREFIX=/usr/local", "DESTDIR=" + dest,
                            "BUILD=" + os.path.relpath(BUILD, ROOT)], cwd=ROOT, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        share = os.path.join(dest, "usr/local/share")
        for rel, shell in [("bash-completion/completions/py-mon", "bash"), ("zsh/vendor-completions/_py-mon", "zsh"),
                           ("fish/vendor_completions.d/py-mon.fish", "fish")]:
            with open(os.path.join(share, rel)) as f:
                self.assertEqual(f.read(), run(["completions", shell], self.dir)[1], rel)
        self.assertEqual(self.complete(os.path.join(share, "bash-completion/completions/py-mon"), "--on-b"),
                         ["--on-busy"])


class Init(TempDirTest):
    def init(self):
        status, out, err = run(["init"], self.dir)
        return status, err

    def table(self):
        with open(self.path("pyproject.toml")) as f:
            return f.read()

    def print_config(self):
        status, out, err = run(["--print-config"], self.dir)
        self.assertEqual(status, 0, err)
        return out

    def test_django(self):
        write(self.path("manage.py"), "import django\n")
        status, err = self.init()
        self.assertEqual(status, 0, err)
        self.assertIn("Django project", err)
        self.assertIn('command = "python3 manage.py runserver --noreload"    # pyproject.toml:',
                      self.print_config())

    def test_flask_appended_without_touching_the_rest(self):
        write(self.path("app.py"), "from flask import Flask\napp = Flask(__name__)\n")
        before = '[project]\nname = "demo"  # keep me\n\n[tool.black]\nline-length = 99'  # no final newline
        write(self.path("pyproject.toml"), before)
        status, err = self.init()
        self.assertEqual(status, 0, err)
        text = self.table()
        self.assertTrue(text.startswith(before + "\n\n[tool.py-mon]\n"), text)
        self.assertIn('command = "flask --app app run --no-reload"', text)
        self.assertIn("\n# ", text)  # commented
        self.print_config()  # still valid TOML, and py-mon reads it

    def test_fastapi(self):
        write(self.path("main.py"), "from fastapi import FastAPI\napp = FastAPI()\n")
        status, err = self.init()
        self.assertEqual(status, 0, err)
        self.assertIn('command = "python3 -m uvicorn main:app"', self.table())

    def test_refuses_an_existing_table_and_a_broken_file(self):
        write(self.path("pyproject.toml"), '[project]\nname = "x"\n[tool.py-mon]\ndelay = "1s"\n')
        before = self.table()
        status, err = self.init()
        self.assertEqual(status, 2)
        self.assertIn("pyproject.toml:3:1: [tool.py-mon] exists already", err)
        self.assertEqual(self.table(), before)
        write(self.path("pyproject.toml"), '[project\n')
        status, err = self.init()
        self.assertEqual(status, 2)
        self.assertIn("pyproject.toml:1:", err)
        self.assertEqual(self.table(), "[project\n")

    def test_plain_python_project(self):
        write(self.path("main.py"), "print('hi')\n")
        status, err = self.init()
        self.assertEqual(status, 0, err)
        self.assertIn('command = "python3 main.py"', self.table())

    def test_unknown_project_gets_a_commented_command(self):
        status, err = self.init()
        self.assertEqual(status, 0, err)
        self.assertIn('# command = "python3 app.py"', self.table())
        self.assertIn("set its command", err)


class Explain(TempDirTest):
    def test_reasons_the_library_gives(self):
        os.makedirs(self.path("build"))
        os.makedirs(self.path("pkg", "__pycache__"))
        # .ignore is read in any directory (.gitignore only in a git work tree).
        write(self.path(".ignore"), "# comment\nbuild/\n*.log\n")
        for f in ["app.py", "build/out.o", "pkg/__pycache__/m.pyc", "debug.log", "notes.txt"]:
            write(self.path(f))
        status, out, err = run(["explain", "--no-config", "app.py", "build/out.o", "pkg/__pycache__/m.pyc",
                                "debug.log", "/", "."], self.dir)
        self.assertEqual(status, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "app.py: watched")
        self.assertIn(".ignore:2: build/", lines[1])
        self.assertIn("__pycache__/", lines[2])
        self.assertIn("default", lines[2])
        self.assertEqual(lines[3], "debug.log: ignored by .ignore:3: *.log")
        self.assertEqual(lines[4], "/: outside the watched paths (.)")
        self.assertEqual(lines[5], ".: watched")

    def test_uses_the_options_and_the_roots(self):
        os.makedirs(self.path("src"))
        write(self.path("src", "gen.py"))
        status, out, err = run(["explain", "--no-config", "-w", "src", "-i", "gen.py", "src/gen.py", "other.py"],
                               self.dir)
        self.assertEqual(status, 0, err)
        self.assertEqual(out.splitlines()[1], "other.py: outside the watched paths (src)")
        self.assertEqual(out.splitlines()[0], "src/gen.py: ignored by --ignore pattern 'gen.py'")

    def test_extensions_and_kinds_are_reasons_too(self):
        os.makedirs(self.path("src"))
        status, out, err = run(["explain", "--no-config", "-w", "src", "-e", "py,html", "--on", "create,modify",
                                "src/a.py", "src/b.txt"], self.dir)
        self.assertEqual(status, 0, err)
        self.assertEqual(out.splitlines(), ["src/a.py: watched (only create, modify events count)",
                                            "src/b.txt: not a watched extension (py, html)"])

    def test_needs_a_path(self):
        status, _, err = run(["explain", "--no-config"], self.dir)
        self.assertEqual(status, 2)
        self.assertIn("explain: give one or more paths", err)
