#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Files systemg is handed or finds: FIFOs, planted symbolic links, a foreign control.sock,
output bursts, escape sequences in names and unknown YAML tags, through the real binaries.

Every command that could hang runs with a deadline: a hang fails the test, it never blocks
the suite. The FIFOs' other ends are never opened.
"""
import json
import os
import re
import signal
import subprocess
import sys

import sgtest
from sgtest import Results, alive, wait_for

SYSGD = os.environ["SG_TEST_SYSGD"]
RESULTS = Results()
HANG = 10  # seconds: far more than any of these commands needs

SLEEPER = ('version: "1"\nservices:\n'
           '  web:\n    exec: ["HELPER", "stdout:hello web", "pause"]\n')


class Project(sgtest.Project):
    def __init__(self, yaml=SLEEPER):
        super().__init__(yaml, "sg-trust-")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + self.path("no-bus")
        self.daemons = []

    def run(self, args, timeout=HANG):
        """sysg (or argv starting with a program) with a deadline; a hang is a failure."""
        argv = list(args) if args[0].startswith("/") else [os.environ["SG_TEST_SYSG"]] + args
        proc = subprocess.Popen(argv, env=self.env, cwd=self.dir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace")
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError("%s hung for %d s" % (" ".join(args), timeout))
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)

    def start(self):
        result = self.run(["start", "--daemonize"], timeout=60)
        assert result.returncode == 0, result
        pid = self.supervisor_pid()
        self.daemons.append(pid)
        return pid

    def fifo(self, name):
        path = self.path(name)
        os.mkfifo(path, 0o600)
        return path

    def plant(self, name, content="precious\n", mode=0o644):
        """A file outside the state directory, and a symlink to it at STATE/name."""
        target = self.path("target-" + name.replace("/", "-"))
        with open(target, "w") as f:
            f.write(content)
        os.chmod(target, mode)
        os.makedirs(os.path.join(self.state, "logs"), mode=0o700, exist_ok=True)
        os.chmod(self.state, 0o700)
        os.symlink(target, os.path.join(self.state, name))
        return target

    def close(self):
        # A daemon stuck in open() never sees SIGTERM (it reads signals from a signalfd).
        for pid in self.daemons + [self.supervisor_pid()]:
            if pid and alive(pid):
                os.kill(pid, signal.SIGTERM)
                try:
                    wait_for(lambda: not alive(pid), "sysgd to exit", deadline=5)
                except AssertionError:
                    os.kill(pid, signal.SIGKILL)
        self.kill_services(set())
        super().close()


def with_project(yaml=SLEEPER):
    return sgtest.with_project(Project, yaml)


def assert_untouched(target, content="precious\n", mode=0o644):
    with open(target) as f:
        assert f.read() == content, "the target of the link was written"
    assert os.stat(target).st_mode & 0o7777 == mode, oct(os.stat(target).st_mode)


# ---- FIFOs: configuration and env files must be regular files ----

@with_project()
def test_fifo_config_validate(p):
    fifo = p.fifo("fifo.yaml")
    result = p.run(["validate", "--config", fifo])
    assert result.returncode == 3, result
    assert fifo + ": not a regular file (a FIFO)" in result.stderr, result


@with_project('version: "1"\nenv:\n  file: "fifo.env"\nservices: {}\n')
def test_fifo_env_file_validate(p):
    p.fifo("fifo.env")
    result = p.run(["validate", "--config", p.config])
    assert result.returncode == 3, result
    assert re.search(r"systemg\.yaml:3:9: env\.file: fifo\.env: not a regular file \(a FIFO\)",
                     result.stderr), result


@with_project()
def test_fifo_config_start(p):
    fifo = p.fifo("fifo.yaml")
    result = p.run(["start", "--daemonize", "--config", fifo])
    assert result.returncode == 3, result
    assert "not a regular file (a FIFO)" in result.stderr, result
    result = p.run([SYSGD, "--config", fifo])
    assert result.returncode == 3, result
    assert "not a regular file (a FIFO)" in result.stderr, result
    assert not os.path.exists(os.path.join(p.state, "sysg.pid"))


@with_project('version: "1"\nservices:\n  web:\n    exec: ["HELPER", "pause"]\n'
              '    env: { file: "fifo.env" }\n')
def test_fifo_env_file_start(p):
    p.fifo("fifo.env")
    result = p.run(["start", "--daemonize"])
    assert result.returncode == 3, result
    assert "fifo.env: not a regular file (a FIFO)" in result.stderr, result


@with_project()
def test_fifo_during_reload(p):
    p.start()
    fifo = p.fifo("fifo.yaml")
    result = p.run(["restart", "--config", fifo])
    assert result.returncode == 3, result
    assert "not a regular file (a FIFO)" in result.stderr, result
    p.fifo("fifo.env")
    env_config = p.write(SLEEPER + '    env: { file: "fifo.env" }\n', "env-fifo.yaml")
    result = p.run(["restart", "--config", env_config])
    assert result.returncode == 3, result
    assert "fifo.env: not a regular file (a FIFO)" in result.stderr, result
    # the main loop never stopped: the supervisor still answers, on its old configuration
    result = p.run(["status", "--json"])
    assert result.returncode == 0, result
    status = json.loads(result.stdout)
    assert status["supervisor"]["config"] == p.config, status
    assert [s["state"] for s in status["services"]] == ["running"], status


# ---- symbolic links planted in the state directory ----

@with_project()
def test_symlinked_service_log(p):
    name = os.path.join("logs", "web_stdout.log")
    target = p.plant(name)
    result = p.run(["start", "--daemonize"], timeout=60)
    p.daemons.append(p.supervisor_pid())
    assert result.returncode == 1, result
    assert_untouched(target)
    link = os.path.join(p.state, name)
    assert os.path.islink(link)
    lines = [l for l in p.log().splitlines() if link in l and "symbolic link" in l]
    assert lines and "ERROR" in lines[0], p.log()
    assert "symbolic link" in result.stdout + result.stderr, result


@with_project()
def test_symlinked_supervisor_log(p):
    target = p.plant("supervisor.log")
    result = p.run(["start", "--daemonize"], timeout=60)
    assert result.returncode == 1, result
    link = os.path.join(p.state, "supervisor.log")
    assert link in result.stderr and "symbolic link" in result.stderr, result
    assert_untouched(target)
    assert os.path.islink(link)


@with_project()
def test_symlinked_state_files(p):
    targets = [p.plant(name) for name in ("pid.json", "state.json", "cron_state.json",
                                          "config_hint", os.path.join("logs",
                                                                      "web_stdout.log.1"))]
    p.start()
    assert p.run(["logs", "web"]).returncode in (0, 1)
    assert p.run(["stop"], timeout=60).returncode == 0
    for target in targets:
        assert_untouched(target)


@with_project()
def test_symlinked_lock_files(p):
    for name in ("sysg.pid", "pid.json.lock"):
        target = p.plant(name)
        result = p.run(["start", "--daemonize"], timeout=60)
        p.daemons.append(p.supervisor_pid())
        link = os.path.join(p.state, name)
        assert result.returncode == 1, result
        assert "refusing %s: it is a symbolic link" % link in result.stderr, result
        assert_untouched(target)
        os.unlink(link)


@with_project()
def test_cli_refuses_symlinked_files(p):
    # sysg logs: a live log and a rotated one that are links are refused, never shown
    live = p.plant(os.path.join("logs", "web_stdout.log"), "secret live\n")
    rotated = p.plant(os.path.join("logs", "web_stdout.log.1"), "secret rotated\n")
    result = p.run(["logs", "web"])
    assert "secret" not in result.stdout, result
    assert os.path.join(p.state, "logs", "web_stdout.log") in result.stderr, result
    assert "symbolic link" in result.stderr, result
    # an offline status does not read state.json through a link
    ghost = {"services": {"ghost": {"status": "running", "started_at": None,
                                    "restart_count": 0, "exit_code": None}}}
    p.plant("state.json", json.dumps(ghost) + "\n")
    result = p.run(["status", "--all", "--json"])
    assert "ghost" not in result.stdout, result
    assert "state.json" in result.stderr and "symbolic link" in result.stderr, result
    assert_untouched(live, "secret live\n")
    assert_untouched(rotated, "secret rotated\n")


# ---- rotation bounds the disk ----

BURST_BYTES = 256 * 1024 * 1024
MAX_BYTES = 1024 * 1024
MAX_FILES = 2
BLOCK = 4096


@with_project('version: "1"\nservices:\n'
              '  burst:\n    exec: ["HELPER", "print:%d", "stdout:burst done", "pause"]\n'
              '    logs: { max_bytes: %d, max_files: %d }\n' % (BURST_BYTES, MAX_BYTES,
                                                              MAX_FILES))
def test_burst_bounded(p):
    p.start()
    logs = os.path.join(p.state, "logs")
    written = BURST_BYTES + 1 + len("burst done\n")

    def files():
        return {n: os.path.getsize(os.path.join(logs, n)) for n in os.listdir(logs)
                if n.startswith("burst_stdout.log")}

    def dropped_lines():
        return [l for l in p.log().splitlines() if "burst_stdout.log" in l and "dropped" in l]

    def tail_done():
        for name in ("burst_stdout.log", "burst_stdout.log.1"):
            try:
                with open(os.path.join(logs, name), "rb") as f:
                    if b"burst done\n" in f.read()[-64:]:
                        return True
            except OSError:
                pass
        return False

    bound = (MAX_FILES + 1) * MAX_BYTES + (MAX_FILES + 1) * BLOCK
    wait_for(lambda: tail_done() and dropped_lines() and sum(files().values()) <= bound,
             "the burst to be rotated away", deadline=60)
    sizes = files()
    assert all(size <= MAX_BYTES + BLOCK for size in sizes.values()), sizes
    assert sum(sizes.values()) <= bound, sizes
    lines = dropped_lines()
    assert len(lines) == 1, lines
    # What a burst drops is counted; a burst spread over several checks also rotates the
    # usual way, dropping the oldest rotated file, which is not counted.
    count = int(re.search(r"dropped (\d+) bytes", lines[0]).group(1))
    assert written - 16 * MAX_BYTES <= count <= written - sum(sizes.values()), (count, sizes)


# ---- control.sock must be our supervisor's socket ----

@with_project()
def test_foreign_control_socket(p):
    other = Project()
    try:
        p.start()
        other.start()
        assert p.run(["status"]).returncode == 0
        ours = os.path.join(p.state, "control.sock")
        theirs = os.path.join(other.state, "control.sock")
        os.rename(ours, ours + ".saved")
        # a symbolic link to another supervisor's socket
        os.symlink(theirs, ours)
        result = p.run(["status", "--json"])
        assert result.returncode != 0 and other.config not in result.stdout, result
        assert ours in result.stderr and "symbolic link" in result.stderr, result
        # the socket of another state directory, moved into ours
        os.unlink(ours)
        os.rename(theirs, ours)
        result = p.run(["status", "--json"])
        assert result.returncode != 0 and other.config not in result.stdout, result
        assert ours in result.stderr and "not the supervisor" in result.stderr, result
        os.rename(ours, theirs)
        os.rename(ours + ".saved", ours)
        result = p.run(["status", "--json"])
        assert result.returncode == 0 and p.config in result.stdout, result
    finally:
        other.close()


# ---- what the terminal gets: control characters escaped ----

@with_project('version: "1"\nservices:\n  web:\n    exec: ["HELPER", "pause"]\n'
              '    "col\\e[31mor": 1\n    "two\\nlines": 2\n')
def test_escaped_keys(p):
    result = p.run(["validate"])
    assert result.returncode == 3, result
    assert "\x1b" not in result.stderr, repr(result.stderr)
    lines = result.stderr.splitlines()
    assert any("services.web.col\\x1b[31mor" in l for l in lines), lines
    assert any("services.web.two\\nlines" in l and "unknown key" in l for l in lines), lines
    assert all(l.startswith(p.config + ":") or l.startswith("sysg:") for l in lines), lines
    result = p.run(["logs", "we\x1b[2Jb"])
    assert result.returncode == 4, result
    assert "\x1b" not in result.stderr and "we\\x1b[2Jb" in result.stderr, repr(result.stderr)


# ---- YAML tags: only the core schema's ----

@with_project('version: "1"\nservices:\n  web:\n    command: !include /etc/passwd\n'
              '    env: { vars: { PORT: !!str 8080, N: !<tag:yaml.org,2002:int> 3 } }\n')
def test_unknown_tag(p):
    result = p.run(["validate"])
    assert result.returncode == 3, result
    assert re.search(r"systemg\.yaml:4:14: services\.web\.command: .*tag \"!include\"",
                     result.stderr), result
    assert len(result.stderr.splitlines()) == 1, result
    p.write('version: "1"\nservices:\n  web:\n    command: !!str "true"\n'
            '    env: { vars: { PORT: !!str 8080, N: !<tag:yaml.org,2002:int> 3 } }\n')
    result = p.run(["validate"])
    assert result.returncode == 0, result


def main():
    tests = [test_fifo_config_validate, test_fifo_env_file_validate, test_fifo_config_start,
             test_fifo_env_file_start, test_fifo_during_reload, test_symlinked_service_log,
             test_symlinked_supervisor_log, test_symlinked_state_files,
             test_symlinked_lock_files, test_cli_refuses_symlinked_files, test_burst_bounded,
             test_foreign_control_socket, test_escaped_keys, test_unknown_tag]
    only = sys.argv[1:]
    for test in tests:
        if not only or test.__name__ in only:
            RESULTS.check(test.__name__, test)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
