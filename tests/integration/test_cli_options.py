"""Black-box tests of py-mon's command line: bad input is refused with
exit status 2, one line naming what was wrong and the --help pointer, and
nothing is started; --help and --version; --help and docs/py-mon.1 list
the same options with the same text; every documented spelling of an
option is accepted; what the command words become; status line output.

The bad-input tests and --help/--version need only the parser. The tests
marked "runs the command" need the supervisor (pymon_observer_run)."""
import os
import re
import signal
import subprocess
import sys
import time

from support import PYMON, ROOT, TIMEOUT, Proc, TempDirTest, wait_for, write

MAN = os.path.join(ROOT, "docs", "py-mon.1")
HELP_POINTER = "Try 'py-mon --help' for more information."

# Every option of the table: (short, long, takes a value: True for
# " VALUE", else how its value is written after the name).
OPTIONS = [
    ("x", "exec", True), ("w", "watch", True), ("e", "ext", True), ("i", "ignore", True),
    (None, "no-default-ignore", False), (None, "no-vcs-ignore", False),
    (None, "on", True), ("d", "delay", True), (None, "poll", "[=TIME]"), (None, "no-poll", False),
    (None, "poll-on-limit", False), ("s", "signal", True),
    ("t", "stop-timeout", True), (None, "on-busy", True), (None, "restart-on-exit", "[=WHEN]"),
    (None, "env-file", True), (None, "socket", " [HOST:]PORT"), ("c", "clear", False),
    ("p", "postpone", False), (None, "once", False), (None, "rs", False),
    ("q", "quiet", False), ("v", "verbose", False), (None, "no-color", False),
    (None, "each", False), ("j", "jobs", True), (None, "json", False), ("n", "count", True),
    (None, "timeout", True), (None, "config", True), (None, "no-config", False),
    (None, "print-config", False), ("h", "help", False), ("V", "version", False),
]


def version():
    with open(os.path.join(ROOT, "include", "pymon.h")) as f:
        return re.search(r'#define PYMON_VERSION "([^"]+)"', f.read()).group(1)


class CliTest(TempDirTest):
    def run_pymon(self, args, env=None, timeout=TIMEOUT):
        """Runs py-mon to its end in self.dir; (status, stdout, stderr)."""
        try:
            r = subprocess.run([PYMON] + list(args), cwd=self.dir, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail("py-mon %r did not exit within %.0fs" % (args, timeout))
        return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


# ---- bad input ----------------------------------------------------------

class TestBadInput(CliTest):
    """Each case: exit 2, two lines on stderr (the message naming the
    option and value, then the pointer), nothing on stdout, and the
    command (which would create a marker file) never started."""

    def setUp(self):
        super().setUp()
        self.marker = self.path("started")
        self.command = "touch '%s'" % self.marker

    def tearDown(self):
        try:
            # py-mon exited; a command it had started would have had time
            # to create the marker, or still be about to.
            time.sleep(0.1)
            self.assertFalse(os.path.exists(self.marker), "the command was started")
        finally:
            super().tearDown()

    def refused(self, args, *needles, command=True):
        argv = list(args) + ([self.command] if command else [])
        status, out, err = self.run_pymon(argv)
        lines = err.splitlines()
        self.assertEqual(status, 2, "py-mon %r: status %d, stderr %r" % (argv, status, err))
        self.assertEqual(len(lines), 2, "py-mon %r: stderr %r" % (argv, err))
        self.assertTrue(lines[0].startswith("py-mon: "), lines)
        for n in needles:
            self.assertIn(n, lines[0], "py-mon %r" % (argv,))
        self.assertEqual(lines[1], HELP_POINTER)
        self.assertEqual(out, "")
        return lines[0]

    def test_unknown_long_option(self):
        self.refused(["--bogus"], "unknown option", "'--bogus'")
        self.refused(["--bogus=1"], "unknown option", "'--bogus'")
        self.refused(["--dela", "5"], "unknown option", "'--dela'")

    def test_unknown_short_option(self):
        self.refused(["-Z"], "unknown option", "'-Z'")
        self.refused(["-cpZ"], "unknown option", "'-Z'")

    def test_bad_delay(self):
        for v in ["abc", "1.5x", "5m", "ms", ".", "1e3", " 5", "0x10"]:
            self.refused(["--delay", v], "--delay", "'%s'" % v)
        self.refused(["-d", "-5"], "-d", "'-5'", "negative")
        self.refused(["--delay=99999999999"], "--delay", "99999999999", "too large")
        self.refused(["--delay=4294968s"], "--delay", "too large")
        self.refused(["--delay="], "--delay", "''")
        self.refused(["-dsoon"], "-d", "'soon'")

    def test_bad_stop_timeout(self):
        self.refused(["--stop-timeout", "later"], "--stop-timeout", "'later'")
        self.refused(["-t", "-1s"], "-t", "'-1s'")

    def test_bad_signal(self):
        for v in ["FOO", "SIGFOO", "SIG", "0", "65", "999999999999", "-1", "TERM1", ""]:
            self.refused(["--signal", v], "--signal", "'%s'" % v)
        self.refused(["-s", "0"], "-s", "'0'")

    def test_bad_on(self):
        self.refused(["--on", "bogus"], "--on", "bogus")
        self.refused(["--on", "create,bogus"], "--on", "bogus")
        self.refused(["--on="], "--on", "''")

    def test_bad_on_busy(self):
        self.refused(["--on-busy", "sometimes"], "--on-busy", "'sometimes'")
        self.refused(["--on-busy="], "--on-busy", "''")

    def test_empty_ext(self):
        for v in ["", ",", " . ", ",,"]:
            self.refused(["--ext", v], "--ext", "'%s'" % v)
        self.refused(["-e", ""], "-e", "''")

    def test_empty_watch_and_ignore(self):
        self.refused(["--watch", ""], "--watch", "''")
        self.refused(["--ignore="], "--ignore", "''")

    def test_missing_value(self):
        self.refused(["--delay"], "'--delay'", "needs a value", command=False)
        self.refused(["-w"], "'-w'", "needs a value", command=False)

    def test_value_given_to_a_flag(self):
        self.refused(["--clear=yes"], "'--clear'", "no value")

    def test_missing_command(self):
        for args in [[], ["-c"], ["--"], ["run"], ["run", "-c"], ["-w", "."], ["-c", "--"]]:
            self.refused(args, "missing command", command=False)

    def test_empty_command(self):
        self.refused([""], "empty command", command=False)
        self.refused(["--", ""], "empty command", command=False)

    def test_missing_watch_path(self):
        self.refused(["-w", "nope"], "--watch", "'nope'", "No such file or directory")
        os.mkdir(self.path("src"))
        self.refused(["-w", "src", "--watch=src/gone.py"], "'src/gone.py'", "No such file")

    def test_control_characters_in_values_are_escaped(self):
        line = self.refused(["--delay", "\x1b[31mred"], "--delay", "'\\x1b[31mred'")
        self.assertNotIn("\x1b", line)


# ---- --help, --version, the man page ------------------------------------

# What may follow an option's name in --help: " TIME", "[=TIME]", " [HOST:]PORT".
VALUE = r"(?: [A-Z]+|\[=[A-Z]+\]| \[[A-Z]+:\][A-Z]+)?"


def help_options(text):
    """{long name: description} from --help output (continuation lines
    joined)."""
    opts, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^  (?:-(\w), )?\s*--([\w-]+)%s\s{2,}(.*)$" % VALUE, line)
        if m:
            current = m.group(2)
            opts[current] = m.group(3)
        elif re.match(r"^  (?:-\w, )?\s*--[\w-]+%s$" % VALUE, line):
            current = re.search(r"--([\w-]+)", line).group(1)
            opts[current] = ""
        elif current and line.startswith(" " * 20) and line.strip():
            opts[current] = (opts[current] + " " + line.strip()).strip()
        else:
            current = None
    return opts


def man_text(s):
    """Roff source to plain text, enough for comparing sentences."""
    s = re.sub(r"\\f[BIRP]", "", s)
    return s.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\")


def man_options():
    """{long name: description} from the OPTIONS section of docs/py-mon.1."""
    with open(MAN) as f:
        src = f.read()
    section = re.search(r"^\.SH OPTIONS\n(.*?)^\.SH ", src, re.S | re.M).group(1)
    opts = {}
    for tag, body in re.findall(r"^\.TP\n(.*)\n((?:[^.\n].*\n)+)", section, re.M):
        name = re.search(r"--([\w-]+)", man_text(tag)).group(1)
        opts[name] = " ".join(man_text(body).split())
    return opts


class TestHelpVersion(CliTest):
    def test_help_lists_every_option(self):
        for flag in ["--help", "-h"]:
            status, out, err = self.run_pymon([flag])
            self.assertEqual(status, 0, err)
            self.assertEqual(err, "")
            self.assertIn("Usage: py-mon", out)
            for short, name, takes in OPTIONS:
                spec = ("-%s, --%s" % (short, name)) if short else ("    --%s" % name)
                value = " [A-Z]+" if takes is True else re.escape(takes) if takes else r"(\s|$)"
                self.assertRegex(out, r"(?m)^  %s%s" % (re.escape(spec), value))
            self.assertEqual(set(help_options(out)), {o[1] for o in OPTIONS})

    def test_help_wins_over_a_missing_command(self):
        status, out, _ = self.run_pymon(["-c", "--help"])
        self.assertEqual(status, 0)
        self.assertIn("--stop-timeout", out)

    def test_version(self):
        for flag in ["--version", "-V"]:
            status, out, err = self.run_pymon([flag])
            self.assertEqual((status, out, err), (0, "py-mon %s\n" % version(), ""))

    def test_man_page_and_help_have_the_same_options_and_text(self):
        _, out, _ = self.run_pymon(["--help"])
        in_help = help_options(out)
        in_man = man_options()
        self.assertEqual(sorted(in_help), sorted(in_man))
        for name, text in in_help.items():
            self.assertEqual(text, in_man[name], "--%s differs between --help and docs/py-mon.1" % name)

    def test_man_page_sections(self):
        with open(MAN) as f:
            src = f.read()
        for sec in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT", "EXIT STATUS",
                    "SIGNALS", "EXAMPLES"]:
            self.assertRegex(src, r"(?m)^\.SH \"?%s\"?$" % sec)
        for word in ["PYMON_CHANGED_PATHS", "VIRTUAL_ENV", "NO_COLOR", "max_user_watches",
                     "SIGUSR1", "gunicorn", "pytest", "flask", "uvicorn", "manage.py"]:
            self.assertIn(word, src)


# ---- accepted input (runs the command) ------------------------------------

class TestAccepted(CliTest):
    """Needs the supervisor: each run uses --once and must exit 0."""

    def once(self, args, env=None):
        status, out, err = self.run_pymon(["--once"] + list(args), env=env)
        self.assertEqual(status, 0, "py-mon %r: %s" % (args, err))
        return out, err

    def test_every_option_spelling(self):
        marker = self.path("ran")
        forms = [
            ["-d100", "-d", "100", "--delay=1.5s", "--delay", "250ms", "-d0"],
            ["-s", "hup", "--signal=SIGTERM", "-s15", "--signal", "sigusr2", "-s", "RTMIN+1"],
            ["-t", "1s", "--stop-timeout=0", "-t500ms"],
            ["--on", "create,modify", "--on=all", "--on", "Move Delete"],
            ["--on-busy", "queue", "--on-busy=ignore", "--on-busy", "SIGNAL", "--on-busy=restart"],
            ["-e", "py,toml", "--ext=.html", "-i", "*.log", "--ignore=build/"],
            ["-w", ".", "--watch=.", "-w."],
            ["--no-default-ignore", "--no-vcs-ignore", "--no-color", "-q", "-v", "-cq"],
        ]
        for args in forms:
            if os.path.exists(marker):
                os.unlink(marker)
            self.once(args + ["touch '%s'" % marker])
            self.assertTrue(os.path.exists(marker), "not run with %r" % args)

    def test_run_subcommand(self):
        status, _, err = self.run_pymon(["run", "--once", "-q", "touch ran"])
        self.assertEqual((status, err), (0, ""))
        self.assertTrue(os.path.exists(self.path("ran")))

    def test_words_after_the_command_belong_to_it(self):
        write(self.path("argv.py"), "import sys, json\n"
              "open('argv.json', 'w').write(json.dumps(sys.argv[1:]))\n")
        self.once([sys.executable, "argv.py", "-v", "--delay", "x", "--"])
        with open(self.path("argv.json")) as f:
            self.assertEqual(f.read(), '["-v", "--delay", "x", "--"]')

    def test_double_dash_runs_without_a_shell(self):
        self.once(["--", "touch", "a b", "$HOME", "*"])
        self.assertEqual(sorted(os.listdir(self.dir)), ["$HOME", "*", "a b"])

    def test_one_string_runs_with_the_shell(self):
        self.once(["echo hi > 'out file'"])
        with open(self.path("out file")) as f:
            self.assertEqual(f.read(), "hi\n")

    def test_python_script_uses_the_virtualenv(self):
        write(self.path("app.py"), "import sys\nopen('args', 'w').write(' '.join(sys.argv[1:]))\n")
        venv = self.path("venv")
        py = os.path.join(venv, "bin", "python")
        write(py, "#!/bin/sh\necho venv > '%s'\nexec '%s' \"$@\"\n" % (self.path("which"), sys.executable))
        os.chmod(py, 0o755)
        env = dict(os.environ, VIRTUAL_ENV=venv)
        self.once(["app.py", "-x", "y"], env=env)
        with open(self.path("which")) as f:
            self.assertEqual(f.read(), "venv\n")
        with open(self.path("args")) as f:
            self.assertEqual(f.read(), "-x y")

    def test_python_script_without_virtualenv_uses_python3(self):
        write(self.path("app.py"), "import sys\nopen('exe', 'w').write(sys.executable)\n")
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        env["VIRTUAL_ENV"] = self.path("no-such-venv")  # set, but no bin/python: python3
        self.once(["app.py"], env=env)
        with open(self.path("exe")) as f:
            self.assertRegex(os.path.basename(f.read()), r"^python3")


# ---- status lines ------------------------------------------------------------

class TestOutput(CliTest):
    """Needs the supervisor."""

    def test_start_and_exit_lines(self):
        status, _, err = self.run_pymon(["--once", "-e", ".py, toml", "exit 3"])
        self.assertEqual(status, 3)
        self.assertEqual(err.splitlines(), [
            "[py-mon] %s" % version(),
            "[py-mon] watching: .",
            "[py-mon] watching extensions: py,toml",
            "[py-mon] starting `exit 3`",
            "[py-mon] app exited with code 3",
        ])

    def test_quiet_prints_only_errors(self):
        status, _, err = self.run_pymon(["--once", "-q", "exit 0"])
        self.assertEqual((status, err), (0, ""))
        status, _, err = self.run_pymon(["--once", "-q", "--", "/nonexistent/prog"])
        self.assertNotEqual(status, 0)
        self.assertEqual(err.splitlines(), ["[py-mon] cannot start /nonexistent/prog: No such file or directory"])

    def test_killed_by_signal_is_named(self):
        p = Proc([PYMON, "--", "sh", "-c", "kill -SEGV $$"], cwd=self.dir)
        self.procs.append(p)
        wait_for(lambda: "app crashed - waiting for file changes before starting..." in p.stderr_text(),
                 what="the crashed line")
        lines = p.stderr_text().splitlines()
        i = lines.index("[py-mon] app crashed - waiting for file changes before starting...")
        self.assertEqual(lines[i - 1], "[py-mon] app killed by SIGSEGV")

    def test_crash_waits_for_changes_then_starts(self):
        p = Proc([PYMON, "--no-config", "-d", "20", "--", "sh", "-c", "exit 3"], cwd=self.dir)
        self.procs.append(p)
        wait_for(lambda: "app crashed - waiting for file changes before starting..." in p.stderr_text(),
                 what="the crashed line")
        lines = p.stderr_text().splitlines()
        i = lines.index("[py-mon] app crashed - waiting for file changes before starting...")
        self.assertEqual(lines[i - 1], "[py-mon] app exited with code 3")
        write(self.path("a.py"))
        wait_for(lambda: "[py-mon] starting due to changes: a.py" in p.stderr_text().splitlines(),
                 what="starting (nothing ran, so no restart)")
        self.assertNotIn("restarting", p.stderr_text())

    def test_reason_names_only_paths_that_still_exist(self):
        p = Proc([PYMON, "--no-config", "-d", "300", "--", "sh", "-c", "sleep 60"], cwd=self.dir)
        self.procs.append(p)
        wait_for(lambda: "starting `" in p.stderr_text(), what="start")
        # sed -i and many editors: write a temporary file, rename it over the target.
        write(self.path("sedQii2gy"), "new\n")
        os.rename(self.path("sedQii2gy"), self.path("app.py"))
        write(self.path("gone.tmp"))
        os.unlink(self.path("gone.tmp"))
        line = wait_for(lambda: [l for l in p.stderr_text().splitlines() if "due to changes" in l],
                        what="restart")[0]
        self.assertEqual(line, "[py-mon] restarting due to changes: app.py")

    def test_version_is_printed_once_with_rules(self):
        write(self.path("py-mon.toml"), '[[rule]]\nname = "a"\ncommand = "sleep 60"\n\n'
                                          '[[rule]]\nname = "b"\ncommand = "sleep 60"\n')
        p = Proc([PYMON], cwd=self.dir)
        self.procs.append(p)
        wait_for(lambda: p.stderr_text().count("starting `sleep 60`") == 2, what="both rules started")
        self.assertEqual(p.stderr_text().splitlines().count("[py-mon] %s" % version()), 1, p.stderr_text())

    def test_no_ext_says_all_files(self):
        status, _, err = self.run_pymon(["--no-config", "--once", "true"])
        self.assertEqual(status, 0)
        self.assertIn("[py-mon] watching all files", err.splitlines())
        self.assertNotIn("*.*", err)

    def test_no_killed_line_when_interrupted_together_with_the_command(self):
        # Ctrl-C reaches py-mon and the command: py-mon exits 130 and says
        # nothing about the command's end (it is not waiting for changes).
        pidfile = self.path("pid")
        p = Proc([PYMON, "--no-config", "--", "sh", "-c", 'echo $$ > "$0"; exec sleep 60', pidfile],
                 cwd=self.dir)
        self.procs.append(p)
        pid = int(wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), what="pid"))
        os.kill(p.p.pid, signal.SIGINT)
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass  # py-mon was quicker: it stopped the tree already
        self.assertEqual(p.wait(), 130)
        err = p.stderr_text()
        self.assertNotIn("killed by SIGINT", err)
        self.assertNotIn("waiting for", err)

    def test_changed_paths_are_escaped(self):
        p = Proc([PYMON, "-v", "--", "sh", "-c", "sleep 60"], cwd=self.dir)
        self.procs.append(p)
        wait_for(lambda: "starting" in p.stderr_text(), what="start")
        evil = "a\x1b[2Jb\nc\\d\x7f.py"
        write(self.path(evil))
        wait_for(lambda: "restarting due to changes" in p.stderr_text(), what="restart")
        text = p.stderr_text()
        self.assertIn("create a\\x1b[2Jb\\nc\\\\d\\x7f.py", text)
        self.assertIn("restarting due to changes: a\\x1b[2Jb\\nc\\\\d\\x7f.py", text)
        self.assertNotIn("\x1b", text)
        self.assertNotIn("\x7f", text)

    def test_restart_names_three_paths_and_counts_the_rest(self):
        p = Proc([PYMON, "-d", "300", "--", "sh", "-c", "sleep 60"], cwd=self.dir)
        self.procs.append(p)
        wait_for(lambda: "starting" in p.stderr_text(), what="start")
        for i in range(5):
            write(self.path("f%d.py" % i))
        line = wait_for(lambda: [l for l in p.stderr_text().splitlines() if "restarting due" in l],
                        what="restart")[0]
        self.assertRegex(line, r"^\[py-mon\] restarting due to changes: f\d\.py, f\d\.py, f\d\.py and 2 more$")

    def colored(self, args, env):
        """stderr of a --once run on a pseudo-terminal."""
        import pty
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen([PYMON, "--once"] + args + ["true"], cwd=self.dir, env=env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
        finally:
            os.close(slave)
        chunks = []
        try:
            while True:
                try:
                    b = os.read(master, 4096)
                except OSError:  # EIO: the other side is closed
                    break
                if not b:
                    break
                chunks.append(b)
        finally:
            os.close(master)
            self.assertEqual(p.wait(timeout=TIMEOUT), 0)
        return b"".join(chunks).decode(errors="replace")

    def test_color_only_on_a_terminal_without_no_color(self):
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        env["TERM"] = "xterm"
        self.assertIn("\x1b[", self.colored([], env))
        self.assertNotIn("\x1b[", self.colored(["--no-color"], env))
        self.assertNotIn("\x1b[", self.colored([], dict(env, NO_COLOR="1")))
        self.assertIn("\x1b[", self.colored([], dict(env, NO_COLOR="")))
        _, _, err = self.run_pymon(["--once", "true"], env=env)
        self.assertNotIn("\x1b[", err)

    def test_clear_writes_the_clear_sequence_to_stdout(self):
        status, out, _ = self.run_pymon(["--once", "-c", "echo hi"])
        self.assertEqual((status, out), (0, "\x1b[2J\x1b[3J\x1b[Hhi\n"))

    def test_interrupt_exits_130_without_an_exit_line(self):
        p = Proc([PYMON, "--", "sh", "-c", "sleep 60"], cwd=self.dir)
        self.procs.append(p)
        wait_for(lambda: "starting" in p.stderr_text(), what="start")
        p.send(signal.SIGINT)
        self.assertEqual(p.wait(), 130)
        self.assertNotIn("killed", p.stderr_text())
        self.assertNotIn("exited", p.stderr_text())
