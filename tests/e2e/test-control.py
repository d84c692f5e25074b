#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The control socket and logs against clients that hog, stall or vanish: real sysgd, sysg."""
import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time

import sgtest
from sgtest import DEADLINE, Results, alive, wait_for

SYSGD = os.environ["SG_TEST_SYSGD"]
SYSG = os.environ["SG_TEST_SYSG"]
RESULTS = Results()

# The limits of docs/limits.md that these tests exercise.
LOGS_BYTES_MAX = 4 * 1024 * 1024
CLIENTS_MAX = 1024
IDLE_TIMEOUT = 30
STALL_TIMEOUT = 30
CLI_TIMEOUT = 10

LINE = 64 * 1024  # bytes of each long log line, its newline included
LONG_LINES = 1500

ONE = ('version: "1"\nlogs: { max_bytes: 0 }\nservices:\n'
       '  a:\n    exec: ["HELPER", "pause"]\n')


class Project(sgtest.Project):
    """A project with one service, its sysgd, and raw connections to control.sock."""

    def __init__(self, yaml):
        super().__init__(yaml, "sg-control-e2e-")
        self.daemon = None
        self.conns = []

    def start(self):
        self.daemon = subprocess.Popen([SYSGD, "--config", self.config], env=self.env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.running("a") or self.daemon.poll() is not None, "a to run")
        assert self.daemon.poll() is None, "sysgd exited: %s" % self.log()

    def running(self, name):
        try:
            with open(os.path.join(self.state, "state.json")) as f:
                return json.load(f)["services"][name]["status"] == "running"
        except (OSError, KeyError, ValueError):
            return False

    def connect(self):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(os.path.join(self.state, "control.sock"))
        self.conns.append(conn)
        return conn

    def close(self):
        for conn in self.conns:
            conn.close()
        if self.daemon is not None:
            if self.daemon.poll() is None:
                os.kill(self.daemon.pid, signal.SIGCONT)
                self.daemon.terminate()
                try:
                    self.daemon.wait(timeout=DEADLINE)
                except subprocess.TimeoutExpired:
                    self.daemon.kill()
                    self.daemon.wait()
        super().close()


def with_project(yaml):
    return sgtest.with_project(Project, yaml)


def request(conn, method, params=None, id_=1):
    message = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        message["params"] = params
    conn.sendall(json.dumps(message).encode() + b"\n")


def read_answer(conn, deadline):
    """The next line from conn as JSON, within deadline seconds."""
    data = b""
    end = time.monotonic() + deadline
    while not data.endswith(b"\n"):
        left = end - time.monotonic()
        if left <= 0 or not select.select([conn], [], [], left)[0]:
            raise AssertionError("no answer within %g s" % deadline)
        chunk = conn.recv(1 << 20)
        if not chunk:
            raise AssertionError("the connection closed before the answer")
        data += chunk
    return json.loads(data)


def closed_by_peer(conn, deadline):
    """Waits up to deadline seconds for the daemon to close conn (what it sent is read)."""
    end = time.monotonic() + deadline
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([conn], [], [], left)[0]:
            return False
        try:
            if not conn.recv(1 << 20):
                return True
        except ConnectionResetError:
            return True


def write_long_log(p, count=LONG_LINES):
    """logs/a_stdout.log with count numbered lines of LINE bytes each."""
    logs = os.path.join(p.state, "logs")
    os.makedirs(logs, mode=0o700, exist_ok=True)
    filler = b"x" * (LINE - 8)
    with open(os.path.join(logs, "a_stdout.log"), "wb") as f:
        for i in range(count):
            f.write(b"%06d " % i + filler + b"\n")


def check_newest_lines(lines, count=LONG_LINES):
    """The lines are the newest of the file, in order, within the byte limit."""
    assert lines, "no line"
    assert sum(len(line) + 1 for line in lines) <= LOGS_BYTES_MAX
    numbers = [int(line.split(" ", 1)[0]) for line in lines]
    assert numbers == list(range(count - len(lines), count)), numbers[:3] + numbers[-3:]
    assert all(len(line) == LINE - 1 for line in lines)


def timed(fn):
    start = time.monotonic()
    result = fn()
    return result, time.monotonic() - start


@with_project(ONE)
def test_long_lines_answered_while_others_are_served(p):
    write_long_log(p)
    p.start()
    conn = p.connect()
    start = time.monotonic()
    request(conn, "logs", {"name": "a", "kind": "stdout", "lines": LONG_LINES})
    # another client is served while that answer is made
    status, took = timed(lambda: subprocess.run([SYSG, "status", "--json"], env=p.env,
                                                capture_output=True, text=True, timeout=30))
    assert status.returncode == 0, status
    assert took < 5, "status took %.1f s" % took
    answer = read_answer(conn, 30)
    took = time.monotonic() - start
    assert took < 3, "logs took %.1f s" % took
    check_newest_lines(answer["result"]["lines"])


@with_project(ONE)
def test_logs_cost_follows_what_is_returned(p):
    """Asking for 1,000 lines of 64 KiB returns the same 4 MiB as asking for 60: it must
    not take much longer (reading blocks by prepending them took quadratic time)."""
    write_long_log(p)
    few, few_took = timed(lambda: p.sysg("logs", "a", "--kind", "stdout", "--lines", "60"))
    many, many_took = timed(lambda: p.sysg("logs", "a", "--kind", "stdout", "--lines", "1000"))
    assert few.returncode == 0 and many.returncode == 0, (few.stderr, many.stderr)
    assert many_took < 3 * few_took + 1, "%.2f s for 60 lines, %.2f s for 1000" % (
        few_took, many_took)
    check_newest_lines(few.stdout.splitlines())
    check_newest_lines(many.stdout.splitlines())
    # what the byte limit left out is said, not silently dropped
    assert "4 MiB" in many.stderr, many.stderr


@with_project(ONE)
def test_idle_connections_do_not_lock_out(p):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 1200
    if hard < want + 100:
        return "the hard open-file limit (%d) is below %d" % (hard, want + 100)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want + 100), hard))
    try:
        p.start()
        idle = [p.connect() for _ in range(want)]
        result, took = timed(lambda: subprocess.run([SYSG, "status"], env=p.env,
                                                    capture_output=True, text=True,
                                                    timeout=30))
        assert result.returncode == 0, result
        assert "a" in result.stdout, result.stdout
        # room was made by closing the oldest idle connections, and that was logged
        assert closed_by_peer(idle[0], DEADLINE), "the oldest idle client is still connected"
        assert not closed_by_peer(idle[-1], 0), "the newest idle client was dropped"
        wait_for(lambda: "idle" in p.log() and "dropped" in p.log(), "the drop in the log")
        drops = [l for l in p.log().splitlines() if "dropped" in l]
        assert len(drops) <= 10, drops  # at most one line a second, with a count
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@with_project(ONE)
def test_idle_and_stalled_clients_time_out(p):
    write_long_log(p, 100)
    p.start()
    quiet = p.connect()
    subscriber = p.connect()
    request(subscriber, "subscribe")
    assert read_answer(subscriber, DEADLINE)["result"] == {}
    stalled = p.connect()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    # three answers of about 1 MiB, far more than the socket holds, never read
    for i in range(3):
        request(stalled, "logs", {"name": "a", "kind": "stdout", "lines": 15}, id_=i)
    start = time.monotonic()
    assert closed_by_peer(quiet, IDLE_TIMEOUT + DEADLINE), "the idle client is still there"
    took = time.monotonic() - start
    assert took > IDLE_TIMEOUT - 2, "dropped after %.1f s" % took
    wait_for(lambda: "did not read" in p.log(), "the stalled client to be dropped",
             STALL_TIMEOUT + DEADLINE)
    assert closed_by_peer(stalled, DEADLINE)
    # a subscriber waits for events, however long: it stays
    assert not closed_by_peer(subscriber, 0), "the subscriber was dropped"
    request(subscriber, "status", id_=2)
    assert "result" in read_answer(subscriber, DEADLINE)


@with_project(ONE)
def test_cli_gives_up_on_a_supervisor_that_does_not_answer(p):
    p.start()
    pid = p.daemon.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        result, took = timed(lambda: subprocess.run([SYSG, "status"], env=p.env,
                                                    capture_output=True, text=True,
                                                    timeout=CLI_TIMEOUT + 30))
    finally:
        os.kill(pid, signal.SIGCONT)
    assert result.returncode == 1, result
    message = "supervisor (PID %d) did not answer within %d s" % (pid, CLI_TIMEOUT)
    assert message in result.stderr, result.stderr
    assert CLI_TIMEOUT - 1 < took < CLI_TIMEOUT + 10, took
    # resumed, it answers again
    assert p.sysg("status").returncode == 0
    assert alive(pid)


def main():
    tests = [test_long_lines_answered_while_others_are_served,
             test_logs_cost_follows_what_is_returned, test_idle_connections_do_not_lock_out,
             test_idle_and_stalled_clients_time_out,
             test_cli_gives_up_on_a_supervisor_that_does_not_answer]
    only = os.environ.get("SG_TEST_ONLY")
    for test in tests:
        if only is None or only in test.__name__:
            RESULTS.check(test.__name__, test)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
