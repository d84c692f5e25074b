#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""sysgd and sysg start/stop as a user runs them: real binaries, real processes, temp state."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import sgtest
from sgtest import DEADLINE, Results, alive, wait_for

SYSGD = os.environ["SG_TEST_SYSGD"]
SYSG = os.environ["SG_TEST_SYSG"]
RESULTS = Results()


class Project(sgtest.Project):
    """A temporary project directory and state directory, and the sysgd started on it."""

    def __init__(self, yaml):
        super().__init__(yaml, "sg-e2e-")
        self.daemons = []

    def sysgd(self, *args, **kwargs):
        proc = subprocess.Popen([SYSGD, "--config", self.config] + list(args), env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                **kwargs)
        self.daemons.append(proc)
        return proc

    def state_json(self):
        with open(os.path.join(self.state, "state.json")) as f:
            return json.load(f)

    def pid_json(self):
        """The services of pid.json; unlike sgtest's, a missing file fails the test."""
        with open(os.path.join(self.state, "pid.json")) as f:
            return json.load(f)["services"]

    def recorded(self, name):
        """The status state.json records for name, or None."""
        try:
            return self.state_json()["services"][name]["status"]
        except (OSError, KeyError, ValueError):
            return None

    def running(self, name):
        return self.recorded(name) == "running"

    def close(self):
        self.stop_supervisor()
        sgtest.kill_all(self.daemons)
        super().close()


def with_project(yaml):
    return sgtest.with_project(Project, yaml)


@with_project('version: "1"\nservices:\n'
              '  web:\n    exec: ["HELPER", "pause"]\n'
              '  worker:\n    exec: ["HELPER", "pause"]\n    depends_on: [web]\n')
def test_sigterm_stops_everything(p):
    daemon = p.sysgd()
    wait_for(lambda: p.running("worker"), "worker to run")
    pids = p.pid_json()
    assert set(pids) == {"web", "worker"}, pids
    assert all(alive(pid) for pid in pids.values())
    assert os.stat(os.path.join(p.state, "sysg.pid")).st_mode & 0o777 == 0o600
    assert os.stat(p.state).st_mode & 0o777 == 0o700
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=DEADLINE) == 0
    assert not any(alive(pid) for pid in pids.values())
    assert not os.path.exists(os.path.join(p.state, "sysg.pid"))
    assert os.path.exists(os.path.join(p.state, "config_hint"))
    assert p.pid_json() == {}
    # dependents stop before what they depend on
    log = p.log()
    assert log.index("worker stopped") < log.index("web stopped"), log


@with_project('version: "1"\nservices:\n  web:\n    exec: ["HELPER", "pause"]\n')
def test_second_supervisor_refused(p):
    p.sysgd()
    wait_for(lambda: p.running("web"), "web to run")
    first = p.supervisor_pid()
    second = p.sysgd()
    assert second.wait(timeout=DEADLINE) == 1
    err = second.stderr.read()
    assert "PID %d" % first in err, err
    assert alive(first)


@with_project('version: "1"\nservices:\n  web:\n    exec: ["HELPER", "pause"]\n')
def test_stale_pid_file_removed(p):
    os.makedirs(p.state, mode=0o700)
    with open(os.path.join(p.state, "sysg.pid"), "w") as f:
        f.write("999999\n")
    p.sysgd()
    wait_for(lambda: p.running("web"), "web to run")
    assert "stale sysg.pid" in p.log(), p.log()
    assert p.supervisor_pid() != 999999


@with_project('version: "1"\nservices:\n'
              + "".join('  s%d:\n    exec: ["HELPER", "pause"]\n' % i for i in range(20)))
def test_idle_supervisor_sleeps(p):
    p.sysgd()
    wait_for(lambda: all(p.running("s%d" % i) for i in range(20)), "services to run")
    pid = p.supervisor_pid()
    time.sleep(0.3)  # let the last state write finish
    before = sgtest.context_switches(pid)
    time.sleep(2.0)  # the observation window itself, not a wait for something
    after = sgtest.context_switches(pid)
    assert after == before, "%d context switches while idle" % (after - before)


@with_project('version: "1"\nservices:\n'
              '  ok:\n    exec: ["HELPER", "pause"]\n'
              '  broken:\n    command: "echo first words >&2; echo last words >&2; exit 3"\n'
              '  after:\n    exec: ["HELPER", "pause"]\n    depends_on: [broken]\n')
def test_daemonize_reports_failures(p):
    result = p.sysg("start", "--daemonize", "--config", p.config)
    assert result.returncode == 1, result
    assert "broken: failed: exit status 3" in result.stderr, result.stderr
    assert "last words" in result.stderr and "first words" in result.stderr, result.stderr
    assert "after: blocked: dependency broken is failed" in result.stderr, result.stderr
    pid = p.supervisor_pid()
    assert pid and alive(pid), "the supervisor keeps running"
    stop = p.sysg("stop")
    assert stop.returncode == 0, stop
    # stop returns once the supervisor released its lock; its exit follows at once
    wait_for(lambda: not alive(pid), "the supervisor to exit")


@with_project('version: "1"\nservices:\n'
              '  db:\n    command: "test -f DIR/ok && exec HELPER pause; exit 3"\n'
              '    restart_policy: on-failure\n    backoff: 1s\n'
              '  api:\n    exec: ["HELPER", "pause"]\n    depends_on: [db]\n'
              '  slow:\n    exec: ["HELPER", "pause"]\n    health_check: { notify: true }\n'
              '  web:\n    exec: ["HELPER", "pause"]\n    depends_on: [slow]\n')
def test_dependents_say_why_they_wait(p):
    p.sysgd()
    # db keeps failing before it is ready: api is blocked, and says by what
    wait_for(lambda: p.recorded("api") == "blocked", "api to be blocked")
    status = {s["name"]: s for s in json.loads(p.sysg("status", "--json").stdout)["services"]}
    assert status["api"]["state"] == "blocked" and status["api"]["pid"] is None, status["api"]
    assert status["api"]["cause"].startswith("waiting for db: "), status["api"]
    # web waits for slow's first readiness: starting, with the cause in the text status too
    assert status["web"]["state"] == "starting", status["web"]
    assert status["web"]["cause"] == "waiting for slow", status["web"]
    text = p.sysg("status").stdout
    assert "waiting for slow" in text, text
    assert "waiting for db: " in text, text
    # db recovers: api starts by itself
    p.write("", "ok")
    wait_for(lambda: p.running("api"), "api to run once db is ready")


@with_project('version: "1"\nservices:\n'
              '  ok:\n    exec: ["HELPER", "pause"]\n'
              '  job:\n    command: "exit 0"\n')
def test_daemonize_all_up(p):
    result = p.sysg("start", "--daemonize", "--config", p.config)
    assert result.returncode == 0, result
    assert p.running("ok")
    assert p.state_json()["services"]["job"]["status"] == "exited"
    assert p.sysg("stop").returncode == 0


@with_project('version: "1"\nservices:\n'
              '  tree:\n    exec: ["HELPER", "pids:DIR/pids", "bg:60000", "daemon:60000", '
              '"pause"]\n')
def test_stop_without_supervisor(p):
    assert p.sysg("start", "--daemonize", "--config", p.config).returncode == 0
    tree = p.wait_for_pids(2, "the tree")
    main = p.pid_json()["tree"]
    os.kill(p.supervisor_pid(), signal.SIGKILL)
    wait_for(lambda: p.sysg("stop").returncode == 0 and not alive(main), "offline stop")
    assert not any(alive(pid) for pid in tree + [main])


@with_project('version: "1"\nservices:\n  limits:\n    exec: ["HELPER", "nofile", "pause"]\n')
def test_open_file_limit_restored(p):
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = min(512, hard)
    if soft == hard:
        return "the hard open-file limit is too low to tell raised from restored"
    # sysgd starts with a low soft limit, raises its own, and gives services the original.
    p.sysgd(preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))
    out = os.path.join(p.state, "logs", "limits_stdout.log")
    wait_for(lambda: os.path.exists(out) and open(out).read().strip(), "the limit")
    assert int(open(out).read().split()[0]) == soft
    with open("/proc/%d/limits" % p.supervisor_pid()) as f:
        line = [l for l in f if l.startswith("Max open files")][0]
    assert int(line.split()[3]) == hard, line


def test_cgroup_containment():
    root, why_not = sgtest.make_cgroup("sg-e2e")
    if root is None:
        return why_not
    p = Project('version: "1"\nservices:\n'
                '  escapes:\n    exec: ["HELPER", "pids:DIR/pids", "wiped-daemon:60000", '
                '"daemon:60000", "pause"]\n    stop_timeout: 2s\n')
    try:
        daemon = p.sysgd("--cgroup", root)
        pids = p.wait_for_pids(2, "the escapees")
        procs = open(os.path.join(root, "svc-escapes", "cgroup.procs")).read().split()
        assert all(str(pid) in procs for pids_ in [pids] for pid in pids_), procs
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=DEADLINE) == 0
        assert not any(alive(pid) for pid in pids), "an escapee survived"
    finally:
        p.close()
        for sub in ("svc-escapes", "supervisor"):
            path = os.path.join(root, sub)
            if os.path.isdir(path):
                if sub == "supervisor":
                    continue
                try:
                    os.rmdir(path)
                except OSError:
                    pass
        # the supervisor moved itself into ROOT/supervisor; it has exited by now
        try:
            os.rmdir(os.path.join(root, "supervisor"))
            os.rmdir(root)
        except OSError:
            pass


def test_example_runs():
    src = os.environ["G_TEST_SRCDIR"]
    example = os.path.join(src, "..", "data", "examples", "web-stack.yaml")
    work = tempfile.mkdtemp(prefix="sg-example-")
    try:
        shutil.copy(example, work)
        env = dict(os.environ, SYSTEMG_STATE_DIR=os.path.join(work, "state"), LANG="C")
        config = os.path.join(work, "web-stack.yaml")
        result = subprocess.run([SYSG, "start", "--daemonize", "--config", config], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result
        with open(os.path.join(work, "state", "state.json")) as f:
            states = {k: v["status"] for k, v in json.load(f)["services"].items()}
        assert states == {"migrate": "exited", "web": "running", "worker": "running"}, states
        stop = subprocess.run([SYSG, "stop"], env=env, capture_output=True, text=True,
                              timeout=60)
        assert stop.returncode == 0, stop
    finally:
        subprocess.run([SYSG, "stop"], env=dict(os.environ,
                       SYSTEMG_STATE_DIR=os.path.join(work, "state")), capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def main():
    tests = [test_sigterm_stops_everything, test_second_supervisor_refused,
             test_stale_pid_file_removed, test_idle_supervisor_sleeps,
             test_daemonize_reports_failures, test_dependents_say_why_they_wait,
             test_daemonize_all_up,
             test_stop_without_supervisor, test_open_file_limit_restored,
             test_cgroup_containment, test_example_runs]
    for test in tests:
        RESULTS.check(test.__name__, test)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
