#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What sysg start, stop and restart answer, and when: reload with --service, concurrent
cold starts, pre_start failures, unknown names and the state files at the answer.

With SG_TEST_CLI_BUS=1 (under a private session bus: dbus-run-session) every sysg command
runs with --bus and sysgd owns org.systemg: the same tests over D-Bus.
"""
import json
import os
import subprocess
import sys

import sgtest
from sgtest import Results, alive, wait_for

SYSG = os.environ["SG_TEST_SYSG"]
SYSGD = os.environ["SG_TEST_SYSGD"]
BUS = os.environ.get("SG_TEST_CLI_BUS") == "1"
RESULTS = Results()


def command(args):
    """sysg with args, and --bus after the command when the tests run over D-Bus."""
    args = list(args)
    return [SYSG] + args[:1] + (["--bus"] if BUS else []) + args[1:]


class Project(sgtest.Project):
    """A temporary project directory and state directory."""

    def __init__(self, yaml):
        super().__init__(yaml, "sg-cli-ops-")
        if not BUS:
            # Over the socket no bus is wanted: never reach a real session's.
            self.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + self.path("no-bus")
        self.procs = []
        self.pids = set()

    def sysg(self, *args, timeout=60):
        return subprocess.run(command(args), env=self.env, capture_output=True,
                              text=True, timeout=timeout, cwd=self.dir)

    def spawn(self, *args):
        proc = subprocess.Popen(command(args), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.dir)
        self.procs.append(proc)
        return proc

    def start(self):
        result = self.sysg("start", "--daemonize")
        assert result.returncode == 0, result
        self.pids.update(self.pid_json().values())
        return self.supervisor_pid()

    def state_json(self):
        with open(os.path.join(self.state, "state.json")) as f:
            return json.load(f)["services"]

    def stamps(self, name):
        """The PIDs a service wrote with the helper's stamp: action, one per instance."""
        try:
            with open(self.path(name)) as f:
                return [int(line.split()[2]) for line in f.read().splitlines()]
        except OSError:
            return []

    def close(self):
        sgtest.kill_all(self.procs)
        self.stop_supervisor()
        self.kill_services(self.pids)
        super().close()


def with_project(yaml):
    return sgtest.with_project(Project, yaml)


STAMPED = ('version: "1"\nservices:\n'
           '  web:\n    exec: ["HELPER", "stamp:DIR/web.stamps", "pause"]\n'
           '  worker:\n    exec: ["HELPER", "stamp:DIR/worker.stamps", "pause"]\n'
           '    depends_on: [web]\n')


# ---- restart --service NAME --config FILE ----

@with_project(STAMPED)
def test_restart_service_with_config(p):
    p.start()
    wait_for(lambda: len(p.stamps("web.stamps")) == 1, "web to start")
    # worker changes, web does not: the reload restarts worker, then web is restarted
    v2 = p.write(STAMPED.replace('"pause"]\n    depends_on',
                                 '"pause"]\n    env: { vars: { V: "2" } }\n    depends_on'),
                 "v2.yaml")
    result = p.sysg("restart", "--service", "web", "--config", v2)
    assert result.returncode == 0, result
    p.pids.update(p.pid_json().values())
    web, worker = p.stamps("web.stamps"), p.stamps("worker.stamps")
    assert len(web) == 2 and len(worker) == 2, (web, worker)
    assert p.service("web")["pid"] == web[1] and alive(web[1]), p.service("web")
    assert p.status()["supervisor"]["config"] == v2
    # web changes: the reload restarted it, and that is the restart asked for
    v3 = p.write(STAMPED.replace('"pause"]\n  worker',
                                 '"pause"]\n    env: { vars: { V: "3" } }\n  worker'),
                 "v3.yaml")
    result = p.sysg("restart", "--service", "web", "--config", v3)
    assert result.returncode == 0, result
    p.pids.update(p.pid_json().values())
    web = p.stamps("web.stamps")
    assert len(web) == 3, web
    assert p.service("web")["pid"] == web[2] and p.service("web")["state"] == "running"
    # a name the new file lacks: exit 4, and nothing is reloaded
    result = p.sysg("restart", "--service", "nope", "--config", v2)
    assert result.returncode == 4, result
    assert "nope" in result.stderr, result
    assert p.status()["supervisor"]["config"] == v3
    assert len(p.stamps("worker.stamps")) == 3  # v3 undid worker's change, v2 did not come


SLOW_STOP = ('version: "1"\nservices:\n'
             '  web:\n    exec: ["HELPER", "stamp:DIR/web.stamps", "ignore-term", "pause"]\n'
             '    stop_timeout: 1s\n')


@with_project(SLOW_STOP)
def test_restart_service_with_config_slow_stop(p):
    # the reload's restart of web is still stopping it when web's restart is asked for
    p.start()
    v2 = p.write(SLOW_STOP.replace("1s", "1s\n    env: { vars: { V: \"2\" } }"), "v2.yaml")
    result = p.sysg("restart", "--service", "web", "--config", v2)
    assert result.returncode == 0, result
    p.pids.update(p.pid_json().values())
    web = p.stamps("web.stamps")
    assert len(web) == 2, web
    assert p.service("web")["pid"] == web[1] and p.service("web")["state"] == "running"


# ---- concurrent cold starts ----

@with_project(STAMPED)
def test_concurrent_cold_starts(p):
    other = p.write(STAMPED.replace("stamps", "other"), "other.yaml")
    for round in range(4):
        procs = [p.spawn("start", "--daemonize") for _ in range(3)]
        outcomes = [(proc.wait(timeout=60), proc.stdout.read(), proc.stderr.read())
                    for proc in procs]
        p.pids.update(p.pid_json().values())
        assert all(rc == 0 for rc, _, _ in outcomes), (round, outcomes)
        supervisor = p.supervisor_pid()
        assert supervisor and alive(supervisor), round
        assert len(p.stamps("web.stamps")) == round + 1, (round, p.stamps("web.stamps"))
        assert len(p.stamps("worker.stamps")) == round + 1, round
        # the lock sysg handed to sysgd stays with the supervisor
        web = p.pid_json()["web"]
        fds = [os.readlink("/proc/%d/fd/%s" % (web, fd)) for fd in os.listdir("/proc/%d/fd"
                                                                              % web)]
        assert os.path.realpath(p.state) not in fds, fds
        with open("/proc/%d/environ" % web, "rb") as f:
            assert b"SYSTEMG_STARTUP_LOCK_FD" not in f.read()
        # another configuration meanwhile: refused, the supervisor stays
        result = p.sysg("start", "--daemonize", "--config", other)
        assert result.returncode == 5, result
        assert p.supervisor_pid() == supervisor
        result = p.sysg("stop")
        assert result.returncode == 0, result
        wait_for(lambda: not alive(supervisor), "the supervisor to exit")
    assert not os.path.exists(p.path("web.other"))


@with_project(STAMPED)
def test_autostart_races_start(p):
    # the session's autostart runs sysgd itself while the user types sysg start
    for round in range(4):
        sysgd = subprocess.Popen([SYSGD, "--daemonize"], env=p.env, cwd=p.dir,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.procs.append(sysgd)
        start = p.spawn("start", "--daemonize")
        result = start.wait(timeout=60), start.stdout.read(), start.stderr.read()
        assert result[0] == 0, (round, result)
        # a second sysgd refuses (exit 1, naming the PID); the first one settles with 0
        assert sysgd.wait(timeout=60) in (0, 1), (round, sysgd.stderr.read())
        p.pids.update(p.pid_json().values())
        supervisor = p.supervisor_pid()
        assert supervisor and alive(supervisor), round
        assert len(p.stamps("web.stamps")) == round + 1, (round, p.stamps("web.stamps"))
        assert p.sysg("stop").returncode == 0
        wait_for(lambda: not alive(supervisor), "the supervisor to exit")


@with_project(STAMPED)
def test_concurrent_start_on_another_config(p):
    other = p.write(STAMPED.replace("stamps", "other"), "other.yaml")
    procs = [p.spawn("start", "--daemonize"), p.spawn("start", "--daemonize", "--config",
                                                      other)]
    outcomes = [(proc.wait(timeout=60), proc.stdout.read(), proc.stderr.read())
                for proc in procs]
    p.pids.update(p.pid_json().values())
    # exactly one of the two configurations runs; the other start was told so
    assert sorted(rc for rc, _, _ in outcomes) == [0, 5], outcomes
    loser = [err for rc, _, err in outcomes if rc == 5][0]
    assert "sysg restart --config" in loser, loser
    assert len(p.stamps("web.stamps")) + len(p.stamps("web.other")) == 1


# ---- pre_start failures ----

PRE_START = ('version: "1"\nservices:\n'
             '  web:\n    exec: ["HELPER", "pause"]\n    restart_policy: never\n'
             '    deployment:\n      pre_start: "echo prepared; i=1; while [ $i -le 12 ]; '
             'do echo pre-line-$i >&2; i=$((i+1)); done; exit 7"\n')


def assert_pre_start_report(result):
    assert result.returncode == 1, result
    assert "pre_start failed" in result.stderr, result
    for i in range(3, 13):
        assert "pre-line-%d\n" % i in result.stderr, (i, result.stderr)
    assert "pre-line-1\n" not in result.stderr and "pre-line-2\n" not in result.stderr


@with_project(PRE_START)
def test_pre_start_failure(p):
    result = p.sysg("start", "--daemonize")
    assert_pre_start_report(result)
    logs = os.path.join(p.state, "logs")
    with open(os.path.join(logs, "web_stderr.log")) as f:
        assert f.read().count("pre-line-12\n") == 1
    with open(os.path.join(logs, "web_stdout.log")) as f:
        assert f.read() == "prepared\n"
    web = p.service("web")
    assert web["state"] == "failed" and web["exit_code"] == 7, web
    assert "pre_start failed" in web["cause"], web
    assert p.state_json()["web"]["exit_code"] == 7
    # in the running supervisor, start and restart tell the same
    assert_pre_start_report(p.sysg("start", "--service", "web"))
    assert_pre_start_report(p.sysg("restart", "--service", "web"))
    assert_pre_start_report(p.sysg("restart"))
    assert "pre_start failed" in p.sysg("status", "--service", "web").stdout


# ---- exit 4 before anything else ----

def unknown_name_commands(p):
    return (["start", "--service", "nope"], ["start", "--daemonize", "--service", "nope"],
            ["stop", "--service", "nope"], ["restart", "--service", "nope"],
            ["restart", "--daemonize", "--service", "nope"],
            ["restart", "--service", "nope", "--config", p.config],
            ["status", "--service", "nope"], ["logs", "nope"])


@with_project(STAMPED)
def test_unknown_service(p):
    for args in unknown_name_commands(p):
        result = p.sysg(*args)
        assert result.returncode == 4, (args, result)
        assert "nope" in result.stderr, (args, result)
        assert not p.supervisor_pid(), (args, "no supervisor may be started")
    supervisor = p.start()
    for args in unknown_name_commands(p):
        result = p.sysg(*args)
        assert result.returncode == 4, (args, result)
        assert "nope" in result.stderr, (args, result)
    # another configuration runs: the name is checked against ours first
    other = p.write(STAMPED, "other.yaml")
    result = p.sysg("start", "--daemonize", "--config", other, "--service", "nope")
    assert result.returncode == 4, result
    result = p.sysg("start", "--daemonize", "--config", other, "--service", "web")
    assert result.returncode == 5, result
    assert p.supervisor_pid() == supervisor


# ---- the state files at the answer ----

@with_project(STAMPED)
def test_state_json_at_answer(p):
    p.start()
    for i in range(20):
        result = p.sysg("stop", "--service", "worker")
        assert result.returncode == 0, result
        assert p.state_json()["worker"]["status"] == "stopped", (i, p.state_json())
        result = p.sysg("start", "--service", "worker")
        assert result.returncode == 0, result
        p.pids.update(p.pid_json().values())
        assert p.state_json()["worker"]["status"] == "running", (i, p.state_json())


def main():
    tests = [test_restart_service_with_config, test_restart_service_with_config_slow_stop,
             test_concurrent_cold_starts, test_autostart_races_start,
             test_concurrent_start_on_another_config, test_pre_start_failure,
             test_unknown_service, test_state_json_at_answer]
    only = sys.argv[1:]
    for test in tests:
        if not only or test.__name__ in only:
            RESULTS.check(test.__name__, test)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
