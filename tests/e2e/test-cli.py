#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sysg status, logs, restart, stop, start, monitor and purge as a user runs them.

With SG_TEST_CLI_BUS=1 (under a private session bus: dbus-run-session) every sysg command
runs with --bus and sysgd owns org.systemg: the same matrix over D-Bus.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

import sgtest
from sgtest import DEADLINE, Results, alive, wait_for

SYSGD = os.environ["SG_TEST_SYSGD"]
SYSG = os.environ["SG_TEST_SYSG"]
HELPER = os.environ["SG_TEST_HELPER_CHILD"]
BUS = os.environ.get("SG_TEST_CLI_BUS") == "1"
RESULTS = Results()


def command(args):
    """sysg with args, and --bus after the command when the matrix runs over D-Bus."""
    args = list(args)
    return [SYSG] + args[:1] + (["--bus"] if BUS else []) + args[1:]


class Project(sgtest.Project):
    """A temporary project directory and state directory."""

    def __init__(self, yaml):
        super().__init__(yaml, "sg-cli-")
        self.env.pop("NO_COLOR", None)
        if not BUS:
            # Over the socket no bus is wanted: never reach a real session's.
            self.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + self.path("no-bus")
        self.procs = []
        self.pids = set()

    def sysg(self, *args, timeout=60):
        return subprocess.run(command(args), env=self.env, capture_output=True,
                              text=True, timeout=timeout, cwd=self.dir)

    def sysg_socket(self, *args):
        """sysg over the control socket, whatever the matrix runs on."""
        return super().sysg(*args)

    def spawn(self, *args):
        proc = subprocess.Popen(command(args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=self.dir)
        self.procs.append(proc)
        return proc

    def start(self):
        result = self.sysg("start", "--daemonize")
        assert result.returncode == 0, result
        self.pids.update(self.pid_json().values())
        return self.supervisor_pid()

    def close(self):
        sgtest.kill_all(self.procs)
        self.stop_supervisor()
        self.kill_services(self.pids)
        super().close()


def with_project(yaml):
    return sgtest.with_project(Project, yaml)


TWO = ('version: "1"\nservices:\n'
       '  web:\n    exec: ["HELPER", "stdout:hello web", "stderr:web complains", "pause"]\n'
       '  worker:\n    command: "HELPER stdout:working pause"\n    depends_on: [web]\n')


def read_lines(proc, want, deadline=DEADLINE):
    """Reads proc's stdout until want(lines) holds, with a deadline."""
    end = time.monotonic() + deadline
    data = b""
    while time.monotonic() < end:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, end - time.monotonic()))
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            data += chunk
            lines = data.decode().splitlines()
            if want(lines):
                return lines
    raise AssertionError("timed out reading: %r" % data.decode()[-2000:])


@with_project(TWO)
def test_usage_errors(p):
    for args in (["status", "--bogus"], ["logs", "--kind", "nope"], ["logs", "a", "b"],
                 ["logs", "--lines", "-1"], ["restart", "extra"], ["purge", "extra"],
                 ["monitor", "extra"], ["stop", "--service"], ["nosuchcommand"],
                 ["status", "--log-level", "loud"], []):
        result = p.sysg(*args)
        assert result.returncode == 2, (args, result)
        assert result.stderr.strip(), (args, result)
    assert p.sysg("status", "--log-level", "debug").returncode == 0
    for command in ("status", "logs", "restart", "purge", "monitor"):
        result = p.sysg(command, "--help")
        assert result.returncode == 0 and command in result.stdout, result


@with_project(TWO)
def test_no_supervisor(p):
    for args in (["restart"], ["restart", "--service", "web"], ["monitor"],
                 ["monitor", "--json"], ["monitor", "--notify"],
                 ["restart", "--config", p.config]):
        result = p.sysg(*args)
        assert result.returncode == 5, (args, result)
        assert "no supervisor" in result.stderr.lower(), result
    result = p.sysg("status")
    assert result.returncode == 0, result
    assert "systemg is not running" in result.stdout, result.stdout
    status = p.status()
    assert status["supervisor"]["running"] is False
    assert [s["name"] for s in status["services"]] == ["web", "worker"], status
    assert all(s["pid"] is None and s["state"] == "stopped" for s in status["services"])
    assert p.sysg("stop").returncode == 0
    assert p.sysg("stop", "--service", "web").returncode == 0
    assert p.sysg("stop", "--service", "nope").returncode == 4
    assert p.sysg("start", "--service", "web").returncode == 5


@with_project(TWO)
def test_invalid_config(p):
    p.write('version: "1"\nservices:\n  web:\n    restar_policy: always\n',
            p.path("bad.yaml"))
    for args in (["status", "--config", "bad.yaml"], ["start", "--config", "bad.yaml"],
                 ["logs", "--config", "bad.yaml"], ["status", "--config", "missing.yaml"]):
        result = p.sysg(*args)
        assert result.returncode == 3, (args, result)
        assert "bad.yaml" in result.stderr or "missing.yaml" in result.stderr, result


STRING, INT, NUMBER, LIST, OBJ, BOOL = str, int, (int, float), list, dict, bool
SCHEMA = {"name": STRING, "kind": STRING, "state": STRING, "pid": INT, "pgid": INT,
          "started_at": STRING, "restart_count": INT, "exit_code": INT, "exit_signal": INT,
          "restart_policy": STRING, "depends_on": LIST, "health": STRING,
          "memory_bytes": INT, "cpu_seconds": NUMBER, "tasks": INT, "command": STRING,
          "orphaned": BOOL}
SUPERVISOR = {"running": BOOL, "pid": INT, "config": STRING, "state_dir": STRING,
              "version": STRING, "started_at": STRING}


def check_schema(status, running):
    assert set(SUPERVISOR) <= set(status["supervisor"]), status["supervisor"]
    for key, kind in SUPERVISOR.items():
        value = status["supervisor"][key]
        assert value is None or isinstance(value, kind), (key, value)
    assert status["supervisor"]["running"] is running
    for service in status["services"]:
        assert set(SCHEMA) <= set(service), sorted(set(SCHEMA) - set(service))
        for key, kind in SCHEMA.items():
            value = service[key]
            assert value is None or isinstance(value, kind), (service["name"], key, value)
            if kind is INT:
                assert not isinstance(value, bool), (key, value)
        for key in ("started_at",):
            if service[key] is not None:
                assert service[key].endswith("Z") and "T" in service[key], service[key]


@with_project('version: "1"\nservices:\n'
              '  web:\n    exec: ["HELPER", "pids:DIR/pids", "bg:60000", "pause"]\n'
              '    restart_policy: on-failure\n'
              '  shell:\n    command: "HELPER pause"\n'
              '  job:\n    command: "exit 3"\n')
def test_status_json_and_text(p):
    result = p.sysg("start", "--daemonize")
    assert result.returncode == 1, result  # job fails
    p.pids.update(p.pid_json().values())
    wait_for(lambda: os.path.exists(p.path("pids")) and open(p.path("pids")).read(), "bg")
    status = p.status()
    check_schema(status, True)
    assert status["supervisor"]["pid"] == p.supervisor_pid()
    assert status["supervisor"]["config"] == p.config
    web = [s for s in status["services"] if s["name"] == "web"][0]
    assert web["state"] == "running" and web["pid"] == p.pid_json()["web"], web
    assert web["argv"][0] == HELPER and web["restart_policy"] == "on-failure", web
    assert web["tasks"] >= 2, web
    job = [s for s in status["services"] if s["name"] == "job"][0]
    assert job["state"] == "failed" and job["exit_code"] == 3 and job["pid"] is None, job
    assert "argv" not in job, job
    # pretty JSON, as received: keys in the server's order
    raw = p.sysg("status", "--json").stdout
    assert raw.index('"supervisor"') < raw.index('"services"'), raw
    text = p.sysg("status").stdout
    assert "systemg is running (PID %d)" % p.supervisor_pid() in text, text
    assert "running since" in text and "ago" in text, text
    assert "Main PID: %d" % web["pid"] in text, text
    bg = int(open(p.path("pids")).read().split()[0])
    assert "%d %s" % (bg, HELPER) in text, text  # the process tree
    assert "failed (exit status 3)" in text, text
    assert "\033[" not in text, "no colour without a terminal"
    one = p.sysg("status", "--service", "web")
    assert one.returncode == 0 and "● web" in one.stdout and "● job" not in one.stdout, one
    one = p.status("--service", "job")
    assert [s["name"] for s in one["services"]] == ["job"], one
    assert p.sysg("status", "--service", "nope").returncode == 4


@with_project(TWO)
def test_live_commands(p):
    p.start()
    web = p.pid_json()["web"]
    assert p.sysg("stop", "--service", "nope").returncode == 4
    assert p.sysg("start", "--service", "nope").returncode == 4
    assert p.sysg("restart", "--service", "nope").returncode == 4
    result = p.sysg("stop", "--service", "web")
    assert result.returncode == 0, result
    assert not alive(web)
    assert p.service("web")["state"] == "stopped"
    assert p.service("worker")["state"] == "running"  # dependents keep running
    result = p.sysg("start", "--service", "web")
    assert result.returncode == 0, result
    web = p.service("web")["pid"]
    p.pids.add(web)
    assert web and alive(web)
    result = p.sysg("restart", "--service", "web")
    assert result.returncode == 0, result
    new = p.service("web")["pid"]
    p.pids.add(new)
    assert new != web and alive(new) and not alive(web)
    result = p.sysg("restart")
    assert result.returncode == 0, result
    p.pids.update(p.pid_json().values())
    assert p.sysg("start").returncode == 0  # nothing stopped: nothing to do
    # another configuration while this one runs
    p.write(TWO, p.path("other.yaml"))
    result = p.sysg("start", "--config", "other.yaml")
    assert result.returncode == 5, result
    assert "sysg restart --config" in result.stderr, result
    result = p.sysg("start", "--config", p.config, "--service", "web")
    assert result.returncode == 0, result
    result = p.sysg("restart", "--config", p.config)
    assert result.returncode in (0, 1), result  # reload: an error is printed, not hidden
    if result.returncode == 1:
        assert result.stderr.strip(), result
    pid = p.supervisor_pid()
    result = p.sysg("stop")
    assert result.returncode == 0, result
    wait_for(lambda: not alive(pid), "the supervisor to exit")


@with_project(TWO)
def test_offline_status_after_kill(p):
    pid = p.start()
    pids = p.pid_json()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), "sysgd to die")
    status = p.status()
    check_schema(status, False)
    assert status["supervisor"]["pid"] is None
    by_name = {s["name"]: s for s in status["services"]}
    assert by_name["web"]["state"] == "running" and by_name["web"]["pid"] == pids["web"]
    assert by_name["web"]["tasks"] == 1, by_name["web"]
    text = p.sysg("status").stdout
    assert "systemg is not running" in text and "its process still runs" in text, text
    # stop with no supervisor: recorded as stopped
    result = p.sysg("stop", "--service", "web")
    assert result.returncode == 0, result
    assert not alive(pids["web"]) and alive(pids["worker"])
    status = p.status()
    by_name = {s["name"]: s for s in status["services"]}
    assert by_name["web"]["pid"] is None and by_name["web"]["state"] == "stopped", by_name
    assert by_name["worker"]["pid"] == pids["worker"]
    # a recorded process that died on its own is told as gone
    os.kill(pids["worker"], signal.SIGKILL)
    wait_for(lambda: not alive(pids["worker"]), "worker to die")
    before = open(os.path.join(p.state, "state.json")).read()
    assert "its process is gone" in p.sysg("status", "--service", "worker").stdout
    p.status()
    # an offline status changes nothing
    assert open(os.path.join(p.state, "state.json")).read() == before
    assert p.sysg("stop").returncode == 0


@with_project(TWO)
def test_offline_status_after_stop_and_all(p):
    pid = p.start()
    assert p.sysg("stop").returncode == 0
    wait_for(lambda: not alive(pid), "sysgd to exit")
    status = p.status()
    assert status["supervisor"]["running"] is False
    assert {s["name"]: s["state"] for s in status["services"]} == \
        {"web": "stopped", "worker": "stopped"}, status
    # a service no longer configured shows with --all only
    p.write('version: "1"\nservices:\n  web:\n    exec: ["HELPER", "pause"]\n')
    assert [s["name"] for s in p.status()["services"]] == ["web"]
    every = p.status("--all")["services"]
    assert [s["name"] for s in every] == ["web", "worker"], every
    assert every[1]["orphaned"] is True and every[0]["orphaned"] is False
    # a corrupt state file is reported and left alone
    path = os.path.join(p.state, "state.json")
    with open(path, "w") as f:
        f.write("{not json")
    result = p.sysg("status")
    assert result.returncode == 0, result
    assert "state.json" in result.stderr, result
    assert open(path).read() == "{not json"
    assert not [f for f in os.listdir(p.state) if "corrupt" in f]


@with_project(TWO)
def test_logs(p):
    pid = p.start()
    wait_for(lambda: "working" in p.sysg("logs", "worker").stdout, "worker output")
    result = p.sysg("logs", "web")
    assert result.returncode == 0, result
    assert "web stdout: hello web" in result.stdout, result.stdout
    assert "web stderr: web complains" in result.stdout, result.stdout
    result = p.sysg("logs", "web", "--kind", "stderr")
    assert result.stdout == "web complains\n", result
    result = p.sysg("logs", "--kind", "supervisor", "--lines", "3")
    assert len(result.stdout.splitlines()) == 3, result
    result = p.sysg("logs")
    assert "supervisor: " in result.stdout and "worker stdout: working" in result.stdout
    assert p.sysg("logs", "nope").returncode == 4
    assert p.sysg("stop").returncode == 0
    wait_for(lambda: not alive(pid), "sysgd to exit")
    # no supervisor and no services: the files still speak
    result = p.sysg("logs", "web", "--kind", "stdout", "--lines", "1")
    assert result.returncode == 0 and result.stdout == "hello web\n", result
    result = p.sysg("logs", "web", "--kind", "supervisor")
    assert result.returncode == 0 and "web" in result.stdout, result
    assert all(" web" in line for line in result.stdout.splitlines()), result.stdout
    # a removed service's logs stay readable
    p.write('version: "1"\nservices: {}\n')
    assert "hello web" in p.sysg("logs", "web").stdout


@with_project('version: "1"\nlogs: { max_bytes: 4096, max_files: 2 }\nservices:\n'
              '  chatty:\n    command: "i=0; while [ $i -lt 100000 ]; do '
              'echo line-$i-padding-padding-padding; i=$((i+1)); sleep 0.002; done; '
              'exec HELPER pause"\n')
def test_logs_follow_rotation(p):
    p.start()
    log = os.path.join(p.state, "logs", "chatty_stdout.log")
    wait_for(lambda: os.path.exists(log), "the log")
    follow = p.spawn("logs", "chatty", "--kind", "stdout", "--follow", "--lines", "5")
    numbers = []
    rotated = os.path.join(p.state, "logs", "chatty_stdout.log.1")
    lines = read_lines(follow, lambda lines: os.path.exists(rotated) and len(lines) > 400)
    # a second rotation too, to be sure we went through one while following
    first = os.stat(rotated).st_ino
    wait_for(lambda: os.path.exists(rotated) and os.stat(rotated).st_ino != first,
             "a second rotation")
    more = read_lines(follow, lambda more: len(more) > 200)
    follow.send_signal(signal.SIGINT)
    rest = follow.stdout.read().decode().splitlines()
    assert follow.wait(timeout=DEADLINE) == 0
    all_lines = lines + more + rest
    for line in all_lines:
        if line.startswith("line-"):
            numbers.append(int(line.split("-")[1]))
    assert numbers, all_lines[:10]
    seen = set(numbers)
    missing = [n for n in range(min(seen), max(seen) + 1) if n not in seen]
    assert not missing, "lost lines %r" % missing[:20]
    assert max(seen) - min(seen) > 600, (min(seen), max(seen))


class Output:
    """What a process has printed so far, read as it comes."""

    def __init__(self, proc):
        self.proc = proc
        self.data = b""

    def wait(self, want, deadline=DEADLINE):
        """The lines once want(lines) holds; AssertionError at the deadline."""
        end = time.monotonic() + deadline
        while True:
            lines = self.data.decode().splitlines()
            if want(lines):
                return lines
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out reading: %r" % self.data.decode()[-2000:])
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError("ended: %r" % self.data.decode()[-2000:])
                self.data += chunk


def restarted(lines):
    """Whether lines show web going down and then up again."""
    down = [i for i, l in enumerate(lines) if "web: running -> stopping" in l
            or '"old_state":"running","new_state":"stopping"' in l.replace(" ", "")]
    return bool(down) and any("web: starting -> running" in l
                              or '"old_state":"starting","new_state":"running"'
                              in l.replace(" ", "") for l in lines[down[0]:])


@with_project(TWO)
def test_monitor(p):
    pid = p.start()
    text = Output(p.spawn("monitor"))
    as_json = Output(p.spawn("monitor", "--json"))
    # Subscribing has no outward sign: restart until both monitors have shown a restart.
    end = time.monotonic() + DEADLINE
    while True:
        assert p.sysg("restart", "--service", "web").returncode == 0
        p.pids.update(p.pid_json().values())
        try:
            lines = text.wait(restarted, deadline=1.0)
            events = as_json.wait(restarted, deadline=1.0)
            break
        except AssertionError:
            if time.monotonic() > end:
                raise
    assert lines[0][:4].isdigit() and lines[0].split()[0].endswith("Z"), lines
    first = json.loads(events[0])
    assert first["event"] == "service_state_changed" and first["name"] == "web", first
    assert {"time", "old_state", "new_state"} <= set(first), first
    text, as_json = text.proc, as_json.proc
    # SIGINT ends monitor with 0; the supervisor going away too
    as_json.send_signal(signal.SIGINT)
    assert as_json.wait(timeout=DEADLINE) == 0
    assert p.sysg("stop").returncode == 0
    wait_for(lambda: not alive(pid), "sysgd to exit")
    assert text.wait(timeout=DEADLINE) == 0
    assert b"the supervisor went away" in text.stdout.read()


# Read live from the processes at each call: two reads a moment apart may differ.
LIVE = ("memory_bytes", "cpu_seconds")


@with_project('version: "1"\nservices:\n'
              '  web:\n    exec: ["HELPER", "bg:60000", "pause"]\n'
              '    restart_policy: on-failure\n'
              '  worker:\n    command: "HELPER pause"\n    depends_on: [web]\n'
              '  job:\n    command: "exit 3"\n'
              '  nightly:\n    command: "true"\n'
              '    cron: { expression: "0 0 2 * * *", timezone: "Europe/Paris" }\n'
              '  checked:\n    exec: ["HELPER", "pause"]\n'
              '    health_check: { command: "true", interval: "1h" }\n')
def test_same_over_both(p):
    if not BUS:
        return "the D-Bus matrix compares both transports"
    assert p.sysg("start", "--daemonize").returncode == 1  # job fails
    p.pids.update(p.pid_json().values())
    wait_for(lambda: (p.service("web")["tasks"] or 0) >= 2, "web's background child")
    # the file edited but not reloaded: status tells what runs, not what the file says
    with open(p.config) as f:
        edited = f.read().replace("Europe/Paris", "UTC").replace(
            "restart_policy: on-failure", "health_check: { command: \"true\" }")
    p.write(edited, p.config)
    over_bus = p.status()
    result = p.sysg_socket("status", "--json")
    assert result.returncode == 0, result
    over_socket = json.loads(result.stdout)
    # the daemon's own values both ways: the same document, but for what is read live
    assert over_bus["supervisor"] == over_socket["supervisor"], (over_bus, over_socket)
    assert [s["name"] for s in over_bus["services"]] == \
        [s["name"] for s in over_socket["services"]]
    for mine, theirs in zip(over_bus["services"], over_socket["services"]):
        assert list(mine) == list(theirs), (mine, theirs)
        for key in LIVE:
            assert (mine[key] is None) == (theirs[key] is None), (mine["name"], key)
            del mine[key], theirs[key]
        assert mine == theirs, (mine, theirs)
    # the same words and exit status for the same mistakes
    p.write('version: "1"\nservices:\n  web:\n    restar_policy: always\n',
            p.path("bad.yaml"))
    for args in (["stop", "--service", "nope"], ["start", "--service", "nope"],
                 ["restart", "--service", "nope"], ["status", "--service", "nope"],
                 ["start", "--service", "job"], ["restart", "--config", "bad.yaml"]):
        bus, socket = p.sysg(*args), p.sysg_socket(*args)
        assert (bus.returncode, bus.stdout, bus.stderr) == \
            (socket.returncode, socket.stdout, socket.stderr), (args, bus, socket)


@with_project(TWO)
def test_not_on_bus(p):
    if not BUS:
        return "the D-Bus matrix only"
    result = subprocess.run([SYSGD, "--config", p.config, "--daemonize", "--no-bus"],
                            env=p.env, capture_output=True, text=True, timeout=60, cwd=p.dir)
    assert result.returncode == 0, result
    p.pids.update(p.pid_json().values())
    for args in (["status"], ["restart"], ["monitor"], ["stop", "--service", "web"],
                 ["start", "--service", "web"], ["stop"], ["purge"]):
        result = p.sysg(*args)
        assert result.returncode == 5, (args, result)
        assert "org.systemg" in result.stderr, (args, result)
    assert os.path.isdir(p.state) and alive(p.supervisor_pid())
    # the socket still answers, and what needs no supervisor works with --bus
    assert p.sysg_socket("status").returncode == 0
    assert p.sysg("logs", "web").returncode == 0
    assert p.sysg("validate").returncode == 0


@with_project(TWO)
def test_restart_daemonize_starts_one(p):
    result = p.sysg("restart", "--daemonize")
    assert result.returncode == 0, result
    p.pids.update(p.pid_json().values())
    assert p.supervisor_pid() and alive(p.supervisor_pid())
    assert p.service("web")["state"] == "running"


@with_project(TWO)
def test_purge(p):
    pid = p.start()
    pids = p.pid_json()
    result = p.sysg("purge")
    assert result.returncode == 0, result
    assert "removed" in result.stdout and p.state in result.stdout, result
    assert not os.path.exists(p.state)
    assert not any(alive(x) for x in pids.values())
    # purge returns once the supervisor released its lock; its exit follows at once
    wait_for(lambda: not alive(pid), "the supervisor to exit")
    result = p.sysg("purge")
    assert result.returncode == 0, result  # nothing left to purge
    # with no supervisor: the recorded processes are stopped first
    pid = p.start()
    pids = p.pid_json()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), "sysgd to die")
    assert p.sysg("purge").returncode == 0
    assert not os.path.exists(p.state) and not any(alive(x) for x in pids.values())


def test_purge_refuses():
    p = Project('version: "1"\nservices: {}\n')
    try:
        # not a state directory: left alone
        os.makedirs(p.state)
        keep = os.path.join(p.state, "precious.txt")
        open(keep, "w").close()
        result = p.sysg("purge")
        assert result.returncode == 1 and os.path.exists(keep), result
        # a symbolic link: never followed
        shutil.rmtree(p.state)
        target = p.path("elsewhere")
        os.makedirs(os.path.join(target, "logs"))
        os.symlink(target, p.state)
        result = p.sysg("purge")
        assert result.returncode == 1 and os.path.isdir(os.path.join(target, "logs")), result
        # a link inside the state directory is removed, not what it points to
        os.unlink(p.state)
        os.makedirs(os.path.join(p.state, "logs"))
        os.symlink(target, os.path.join(p.state, "logs", "link"))
        result = p.sysg("purge")
        assert result.returncode == 0, result
        assert not os.path.exists(p.state) and os.path.isdir(os.path.join(target, "logs"))
    finally:
        p.close()


def foreground_start(p, env):
    """sysg start in the foreground in its own process group; returns its exit and output."""
    proc = subprocess.Popen(command(["start", "--config", p.config]), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=p.dir,
                            start_new_session=True)
    p.procs.append(proc)
    try:
        want = {"web | hello web", "web ! web complains", "worker | working"}
        lines = read_lines(proc, lambda ls: want <= {" ".join(l.split()) for l in ls})
        p.pids.update(p.pid_json().values())
        services = dict(p.pid_json())
        assert services and all(alive(pid) for pid in services.values()), services
        # other terminals meanwhile
        assert p.service("web")["state"] == "running"
        os.killpg(proc.pid, signal.SIGINT)
        rest = proc.stdout.read().decode().splitlines()
        status = proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not any(alive(pid) for pid in services.values()), services
    assert not p.supervisor_pid() or not alive(p.supervisor_pid())
    return status, lines + rest


@with_project(TWO)
def test_start_foreground(p):
    # old output of the log files is not shown again
    pid = p.start()
    assert p.sysg("stop").returncode == 0
    wait_for(lambda: not alive(pid), "sysgd to exit")
    status, lines = foreground_start(p, p.env)
    assert status == 0, lines
    text = "\n".join(lines)
    assert "\033[" not in text, "no colour without a terminal"
    assert len([l for l in lines if l.endswith("hello web")]) == 1, lines
    supervisor = [l for l in lines if "supervisor starting" in l]
    assert len(supervisor) == 1 and supervisor[0].startswith("sysgd"), lines
    assert any(l.startswith("sysgd") and "exiting" in l for l in lines), lines


@with_project(TWO)
def test_start_foreground_no_color(p):
    status, lines = foreground_start(p, dict(p.env, NO_COLOR="1"))
    assert status == 0, lines
    assert "\033[" not in "\n".join(lines), lines


def main():
    tests = [test_usage_errors, test_no_supervisor, test_invalid_config,
             test_status_json_and_text, test_live_commands, test_offline_status_after_kill,
             test_offline_status_after_stop_and_all, test_logs, test_logs_follow_rotation,
             test_monitor, test_same_over_both, test_not_on_bus,
             test_restart_daemonize_starts_one, test_purge, test_purge_refuses,
             test_start_foreground, test_start_foreground_no_color]
    only = sys.argv[1:]
    for test in tests:
        if not only or test.__name__ in only:
            RESULTS.check(test.__name__, test)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
