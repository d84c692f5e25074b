#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile JSON on the control socket and in the state files: the real sysgd and sysg."""
import json
import os
import socket
import subprocess
import sys

import sgtest
from sgtest import DEADLINE, Results, alive, wait_for

SYSGD = os.environ["SG_TEST_SYSGD"]
RESULTS = Results()
STATE_FILES = ("state.json", "pid.json", "cron_state.json")
# 200 KB of brackets: well under the 1 MiB line limit, and 100,000 levels deep.
DEEP = "[" * 100000 + "]" * 100000
CONFIG = ('version: "1"\nservices:\n  web:\n    exec: ["HELPER", "pause"]\n'
          '  nightly:\n    exec: ["HELPER", "exit", "0"]\n'
          '    cron: { expression: "@yearly" }\n')


def strict_loads(text):
    """json.loads that refuses what is not JSON (Python takes NaN and Infinity)."""
    def refuse(name):
        raise ValueError("not JSON: " + name)
    return json.loads(text, parse_constant=refuse)


class Project(sgtest.Project):
    """A project with a foreground sysgd; every process it started is cleaned up."""

    def __init__(self, yaml):
        super().__init__(yaml, "sg-hostile-json-")
        self.daemons = []

    def sysgd(self):
        stderr = open(os.path.join(self.dir, "sysgd-%d.err" % len(self.daemons)), "w")
        proc = subprocess.Popen([SYSGD, "--config", self.config], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=stderr,
                                start_new_session=True)
        stderr.close()
        self.daemons.append(proc)
        return proc

    def read_services(self, name):
        """The "services" of a state file; {} while it is missing or still the deep one
        (too deep for Python's parser too)."""
        try:
            with open(os.path.join(self.state, name)) as f:
                return json.load(f)["services"]
        except (OSError, ValueError, KeyError, RecursionError):
            return {}

    def pid_json(self):
        return self.read_services("pid.json")

    def running(self, name):
        return self.read_services("state.json").get(name, {}).get("status") == "running"

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(DEADLINE)
        sock.connect(os.path.join(self.state, "control.sock"))
        return sock, sock.makefile("rb")

    def close(self):
        sgtest.terminate_all(self.daemons, DEADLINE)
        self.kill_services(set())
        super().close()


def with_project(yaml):
    return sgtest.with_project(Project, yaml)


def ask(sock, reader, line):
    """Sends one line; the answer line, parsed strictly (it must be JSON)."""
    sock.sendall(line.encode() + b"\n")
    answer = reader.readline()
    assert answer.endswith(b"\n"), answer
    return strict_loads(answer.decode())


def status_request(request_id):
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "status"})


@with_project(CONFIG)
def test_deep_request_answered(p):
    daemon = p.sysgd()
    wait_for(lambda: p.running("web"), "web to run")
    sock, reader = p.connect()
    try:
        line = '{"jsonrpc": "2.0", "id": 1, "method": "status", "params": %s}' % DEEP
        assert len(line) < 1024 * 1024
        answer = ask(sock, reader, line)
        assert answer["id"] is None, answer
        assert answer["error"]["code"] == -32700, answer
        assert "nested deeper than 64 levels" in answer["error"]["message"], answer
        # json-glib's message quotes the token cut inside a character: still UTF-8.
        answer = ask(sock, reader, '{"%s" 1}' % ("\u00e9" * 40))
        assert answer["error"]["code"] == -32700, answer
        # The same connection goes on being served.
        answer = ask(sock, reader, status_request(2))
        assert answer["id"] == 2 and "result" in answer, answer
    finally:
        sock.close()
    assert daemon.poll() is None and alive(daemon.pid), "sysgd died"
    result = p.sysg("status")
    assert result.returncode == 0 and "web" in result.stdout, result


@with_project(CONFIG)
def test_numeric_ids(p):
    p.sysgd()
    wait_for(lambda: p.running("web"), "web to run")
    sock, reader = p.connect()
    try:
        # Not representable: json-glib read it as inf and the answer said "id":inf.0.
        for big in ("1e999", "-1e999", "18446744073709551616"):
            answer = ask(sock, reader,
                         '{"jsonrpc": "2.0", "id": %s, "method": "status"}' % big)
            assert answer["id"] is None and answer["error"]["code"] == -32700, answer
            assert "out of range" in answer["error"]["message"], answer
        # JSON, but not an id the answer could carry back exactly.
        for inexact in ("1.5", "1e5", "2.0"):
            answer = ask(sock, reader,
                         '{"jsonrpc": "2.0", "id": %s, "method": "status"}' % inexact)
            assert answer["id"] is None and answer["error"]["code"] == -32600, answer
            assert "id must be a string, an integer or null" in answer["error"]["message"]
        for exact in (9223372036854775807, -9223372036854775808, 0, "x"):
            answer = ask(sock, reader, status_request(exact))
            assert answer["id"] == exact and "result" in answer, answer
    finally:
        sock.close()


def write_deep_state(p):
    os.makedirs(p.state, mode=0o700, exist_ok=True)
    for name in STATE_FILES:
        top = "jobs" if name == "cron_state.json" else "services"
        with open(os.path.join(p.state, name), "w") as f:
            f.write('{"%s": %s}' % (top, DEEP))


def state_files(p):
    found = {}
    for name in sorted(os.listdir(p.state)):
        with open(os.path.join(p.state, name), "rb") as f:
            found[name] = f.read()
    return found


@with_project(CONFIG)
def test_deep_state_files_offline(p):
    write_deep_state(p)
    before = state_files(p)
    status = p.sysg("status")
    assert status.returncode == 0, status
    stop = p.sysg("stop")
    assert stop.returncode in (0, 1), stop
    for name in STATE_FILES:
        expected = "corrupt state file %s: line 1, column " % os.path.join(p.state, name)
        assert expected in status.stderr, status.stderr
        assert "nested deeper than 64 levels" in status.stderr, status.stderr
    assert "corrupt state file %s" % os.path.join(p.state, "pid.json") in stop.stderr, stop
    assert "nested deeper than 64 levels" in stop.stderr, stop
    # An offline reader reports and changes nothing.
    assert state_files(p) == before


@with_project(CONFIG)
def test_deep_state_files_quarantined(p):
    write_deep_state(p)
    daemon = p.sysgd()
    wait_for(lambda: p.running("web"), "web to run")
    log = p.log()
    for name in STATE_FILES:
        assert "%s was corrupt; set aside as" % name in log, log
        aside = [n for n in os.listdir(p.state) if n.startswith(name + ".corrupt-")]
        assert len(aside) == 1, aside
        with open(os.path.join(p.state, aside[0])) as f:
            assert DEEP in f.read()
    assert daemon.poll() is None
    result = p.sysg("status")
    assert result.returncode == 0 and "web" in result.stdout, result
    assert "corrupt" not in result.stderr, result.stderr


@with_project(CONFIG)
def test_wrong_types_offline(p):
    """Valid JSON with every member of the wrong type: offline readers skip what they cannot
    use, never a GLib critical (fatal in the tests' environment) or a crash."""
    os.makedirs(p.state, mode=0o700, exist_ok=True)
    with open(os.path.join(p.state, "state.json"), "w") as f:
        json.dump({"state_id": {"x": 1}, "cgroup_root": 5, "boot_id": [],
                   "services": {"web": {"status": 7, "pid": "x", "process_start_time": [],
                                        "started_at": {}, "exit_code": "no"}}}, f)
    with open(os.path.join(p.state, "pid.json"), "w") as f:
        json.dump({"services": {"web": "abc", "api": {}}}, f)
    for command in (["status"], ["status", "--json", "--all"], ["stop", "--service", "web"],
                    ["stop"]):
        result = p.sysg(*command)
        assert result.returncode in (0, 1), (command, result)
        assert "CRITICAL" not in result.stderr, (command, result.stderr)


def main():
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            RESULTS.check(name, fn)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
