#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sysg monitor --notify against a mock desktop notification daemon (python3-dbusmock).

Runs under a private session bus (dbus-run-session): the mock owns
org.freedesktop.Notifications there and records every call, read back through
org.freedesktop.DBus.Mock.GetCalls.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import sgtest
from sgtest import DEADLINE, Results, wait_for

SYSG = os.environ["SG_TEST_SYSG"]
SYSGD = os.environ["SG_TEST_SYSGD"]
RESULTS = Results()
NOTIFICATIONS = ("org.freedesktop.Notifications", "/org/freedesktop/Notifications")

CONFIG = """version: "1"
services:
  probe:
    exec: ["HELPER", "pause"]
  crashy:
    exec: ["HELPER", "pause"]
  flaky:
    exec: ["HELPER", "pause"]
    restart_policy: on-failure
    backoff: "100ms"
  doomed:
    exec: ["HELPER", "wait-file:DIR/go", "exit:1"]
    restart_policy: always
    backoff: "100ms"
    max_restarts: 1
"""


def busctl(*args):
    result = subprocess.run(["busctl", "--user"] + list(args), capture_output=True, text=True,
                            timeout=DEADLINE)
    assert result.returncode == 0, result
    return result.stdout


def dbusmock_python():
    """An interpreter that has the dbusmock module: ours, else a python3 in PATH."""
    candidates = [sys.executable]
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidates.append(os.path.join(directory or ".", "python3"))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            probe = subprocess.run([candidate, "-c", "import dbusmock"],
                                   capture_output=True)
            if probe.returncode == 0:
                return candidate
    return None


class Mock:
    """The notification daemon template of dbusmock, on the private session bus."""

    def __init__(self, python):
        self.proc = subprocess.Popen([python, "-m", "dbusmock", "--template",
                                      "notification_daemon"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: "true" in busctl("call", "org.freedesktop.DBus",
                                          "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                          "NameHasOwner", "s", NOTIFICATIONS[0]),
                 "the mock notification daemon")

    def clear(self):
        busctl("call", NOTIFICATIONS[0], NOTIFICATIONS[1], "org.freedesktop.DBus.Mock",
               "ClearCalls")

    def notifications(self):
        """[{app, replaces, icon, summary, body, hints}] of every Notify call so far."""
        reply = json.loads(busctl("--json=short", "call", NOTIFICATIONS[0], NOTIFICATIONS[1],
                                  "org.freedesktop.DBus.Mock", "GetCalls"))
        found = []
        for _, method, args in reply["data"][0]:
            if method != "Notify":
                continue
            values = [arg["data"] for arg in args]
            found.append({"app": values[0], "replaces": values[1], "icon": values[2],
                          "summary": values[3], "body": values[4],
                          "hints": {k: v["data"] for k, v in values[6].items()}})
        return found

    def by_summary(self, summary):
        return [n for n in self.notifications() if n["summary"] == summary]

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=DEADLINE)


class Project(sgtest.Project):
    def __init__(self):
        super().__init__(CONFIG, "sg-notify-")
        self.procs = []
        self.pids = set()

    def sysg(self, *args, env=None):
        return subprocess.run([SYSG] + list(args), env=env or self.env, capture_output=True,
                              text=True, timeout=60, cwd=self.dir)

    def spawn(self, *args):
        proc = subprocess.Popen([SYSG] + list(args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=self.dir)
        os.set_blocking(proc.stdout.fileno(), False)
        self.procs.append(proc)
        return proc

    def state_of(self, name):
        result = self.sysg("status", "--json", "--service", name)
        assert result.returncode == 0, result
        return json.loads(result.stdout)["services"][0]

    def close(self):
        sgtest.kill_all(self.procs)
        self.stop_supervisor()
        self.kill_services(self.pids)
        super().close()


def read_output(proc, seen):
    """Appends what the monitor printed so far to seen; returns seen."""
    try:
        chunk = os.read(proc.stdout.fileno(), 65536)
    except BlockingIOError:
        chunk = b""
    seen.append(chunk.decode())
    return "".join(seen)


def wait_subscribed(p, monitor):
    """Restarts the probe service until the monitor shows it: then it hears everything."""
    seen = []
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        assert p.sysg("restart", "--service", "probe").returncode == 0
        p.pids.update(p.pid_json().values())
        try:
            return wait_for(lambda: "probe: starting -> running" in read_output(monitor, seen),
                            "the monitor to show the probe", deadline=1.0)
        except AssertionError:
            assert monitor.poll() is None, monitor.stderr.read()
    raise AssertionError("the monitor never showed an event: %r" % "".join(seen))


def check_notifications(mock, transport):
    p = Project()
    try:
        mock.clear()
        result = p.sysg("start", "--daemonize")
        assert result.returncode == 0, result
        p.pids.update(p.pid_json().values())
        monitor = p.spawn("monitor", "--notify", *transport)
        wait_subscribed(p, monitor)
        assert mock.notifications() == [], mock.notifications()

        # a crash with no restart policy: a failure, critical, with its cause
        crashy = p.pid_json()["crashy"]
        os.kill(crashy, signal.SIGKILL)
        failed = wait_for(lambda: mock.by_summary("crashy failed"), "the failure")
        assert len(failed) == 1, failed
        assert failed[0]["app"] == "systemg" and failed[0]["replaces"] == 0, failed
        assert failed[0]["hints"]["urgency"] == 2, failed
        assert "signal 9" in failed[0]["body"] or "SIGKILL" in failed[0]["body"], failed

        # started again by the operator: a recovery that replaces the failure on screen
        assert p.sysg("start", "--service", "crashy").returncode == 0
        p.pids.update(p.pid_json().values())
        recovered = wait_for(lambda: mock.by_summary("crashy recovered"), "the recovery")
        assert recovered[0]["replaces"] != 0, recovered
        assert recovered[0]["hints"]["urgency"] == 1, recovered

        # a crash and an automatic restart: no failure, a recovery
        os.kill(p.pid_json()["flaky"], signal.SIGKILL)
        wait_for(lambda: mock.by_summary("flaky recovered"), "flaky's recovery")
        p.pids.update(p.pid_json().values())
        assert not mock.by_summary("flaky failed"), mock.notifications()

        # restarts that run out: a give-up
        open(os.path.join(p.dir, "go"), "w").close()
        gave_up = wait_for(lambda: mock.by_summary("doomed gave up restarting"), "the give-up")
        assert gave_up[0]["hints"]["urgency"] == 2, gave_up
        assert gave_up[0]["body"].startswith("gave up after 1 restarts"), gave_up
        assert p.state_of("doomed")["state"] == "failed"

        # no more than that: one notification per event
        summaries = sorted(n["summary"] for n in mock.notifications())
        assert summaries == ["crashy failed", "crashy recovered", "doomed gave up restarting",
                             "flaky recovered"], summaries
        monitor.send_signal(signal.SIGINT)
        assert monitor.wait(timeout=DEADLINE) == 0
    finally:
        p.close()


def test_over_socket(mock):
    check_notifications(mock, [])


def test_over_bus(mock):
    check_notifications(mock, ["--bus"])


def test_no_session_bus(mock):
    p = Project()
    try:
        assert p.sysg("start", "--daemonize").returncode == 0
        p.pids.update(p.pid_json().values())
        env = dict(p.env, DBUS_SESSION_BUS_ADDRESS="unix:path=" + os.path.join(p.dir, "none"))
        result = p.sysg("monitor", "--notify", env=env)
        assert result.returncode == 1, result
        assert "session bus" in result.stderr, result
    finally:
        p.close()


def main():
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") or shutil.which("busctl") is None:
        print("1..0 # SKIP needs a private session bus (dbus-run-session) and busctl")
        return 0
    python = dbusmock_python()
    if python is None:
        print("1..0 # SKIP python3-dbusmock is not installed")
        return 0
    mock = Mock(python)
    try:
        for test in (test_over_socket, test_over_bus, test_no_session_bus):
            RESULTS.check(test.__name__, lambda: test(mock))
    finally:
        mock.close()
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
