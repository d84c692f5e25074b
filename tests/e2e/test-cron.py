#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cron jobs with the real sysgd and sysg: history across restarts, start and stop of a run,
status text and JSON, monitor lines, and an idle supervisor with a daily job."""
import json
import os
import select
import signal
import subprocess
import sys
import time

import sgtest
from sgtest import Results, alive, wait_for

SYSGD = os.environ["SG_TEST_SYSGD"]
SYSG = os.environ["SG_TEST_SYSG"]
RESULTS = Results()


class Project(sgtest.Project):
    """A temporary project and state directory, and the supervisors started on it."""

    def __init__(self, yaml):
        super().__init__(yaml, "sg-cron-")
        self.procs = []

    def sysgd(self):
        proc = subprocess.Popen([SYSGD, "--no-bus", "--config", self.config], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        sock = os.path.join(self.state, "control.sock")
        wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, "control.sock")
        assert proc.poll() is None, "sysgd exited with %s" % proc.returncode
        return proc

    def stop_sysgd(self, proc):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0

    def cron_state(self):
        try:
            with open(os.path.join(self.state, "cron_state.json")) as f:
                return json.load(f)["jobs"]
        except (OSError, ValueError, KeyError):
            return {}

    def history(self, name):
        return self.cron_state().get(name, {}).get("history", [])

    def lines(self, name):
        try:
            with open(os.path.join(self.dir, name)) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def close(self):
        sgtest.terminate_all(self.procs, 30)
        self.stop_supervisor()  # one started by sysg start --daemonize
        super().close()


def with_project(yaml):
    return sgtest.with_project(Project, yaml)


@with_project('version: "1"\nservices:\n'
              '  tick:\n    exec: ["HELPER", "stamp:DIR/runs"]\n'
              '    cron: { expression: "* * * * * *", timezone: "UTC" }\n')
def test_history_survives_restart(p):
    daemon = p.sysgd()
    wait_for(lambda: len(p.history("tick")) >= 2, "two runs in cron_state.json")
    p.stop_sysgd(daemon)
    before = p.history("tick")
    assert all(set(run) == {"started_at", "finished_at", "result", "exit_code"}
               for run in before), before
    assert all(run["started_at"].endswith("Z") for run in before), before
    assert before[0]["result"] == "success" and before[0]["exit_code"] == 0, before
    job = p.cron_state()["tick"]
    assert set(job) == {"expression", "timezone", "next_run", "history"}, job
    assert job["expression"] == "* * * * * *" and job["timezone"] == "UTC", job

    # Offline status reads the history from the file.
    text = p.sysg("status", "--service", "tick")
    assert text.returncode == 0, text
    assert "Schedule: * * * * * * (UTC)" in text.stdout, text.stdout
    assert "Last runs:" in text.stdout and "success (exit status 0)" in text.stdout, text.stdout

    daemon = p.sysgd()
    wait_for(lambda: len(p.history("tick")) > len(before), "a run after the restart")
    after = p.history("tick")
    assert len(before) < 10 and after[:len(before)] == before, (before, after)

    status = p.sysg("status", "--service", "tick", "--json")
    assert status.returncode == 0, status
    cron = json.loads(status.stdout)["services"][0]["cron"]
    assert cron["next_run"].endswith("Z"), cron
    assert before[-1] in cron["history"], cron
    p.stop_sysgd(daemon)


@with_project('version: "1"\nservices:\n'
              '  once:\n    exec: ["HELPER", "stamp:DIR/once"]\n'
              '    cron: { expression: "@yearly" }\n'
              '  long:\n    exec: ["HELPER", "pause"]\n'
              '    cron: { expression: "@yearly" }\n')
def test_start_and_stop_a_run(p):
    daemon = p.sysgd()
    monitor = subprocess.Popen([SYSG, "monitor"], env=p.env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    output = []

    def monitor_says(text, seconds):
        # Raw reads: a buffered reader would hide lines from select().
        end = time.monotonic() + seconds
        while text not in b"".join(output).decode() and time.monotonic() < end:
            ready, _, _ = select.select([monitor.stdout], [], [], end - time.monotonic())
            if ready:
                chunk = os.read(monitor.stdout.fileno(), 65536)
                if not chunk:
                    break
                output.append(chunk)
        return text in b"".join(output).decode()

    try:
        # sysg start --service runs a cron job once, now. Until the monitor has subscribed
        # it may miss a run: start again until it reports one.
        for _ in range(10):
            started = p.sysg("start", "--service", "once")
            assert started.returncode == 0, started
            if monitor_says("once: cron run success (exit status 0)", 2):
                break
        assert monitor_says("once: cron run success (exit status 0)", 0), output
        # Every run that stamped the file is recorded, once cron_state.json caught up.
        wait_for(lambda: p.history("once") and len(p.lines("once")) == len(p.history("once")),
                 "every run of once in cron_state.json")
        assert p.history("once")[-1]["result"] == "success", p.history("once")

        # sysg stop --service stops the run in progress: killed, and the job stays scheduled.
        assert p.sysg("start", "--service", "long").returncode == 0
        status = json.loads(p.sysg("status", "--service", "long", "--json").stdout)
        assert status["services"][0]["state"] == "running", status
        pid = status["services"][0]["pid"]
        stopped = p.sysg("stop", "--service", "long")
        assert stopped.returncode == 0, stopped
        assert not alive(pid)
        wait_for(lambda: p.history("long"), "the killed run in cron_state.json")
        run = p.history("long")[0]
        assert run["result"] == "killed" and run["exit_code"] is None, run
        status = json.loads(p.sysg("status", "--service", "long", "--json").stdout)
        assert status["services"][0]["state"] == "scheduled", status
        assert status["services"][0]["cron"]["next_run"].endswith("Z"), status
        assert monitor_says("long: cron run killed", 15), output
    finally:
        monitor.terminate()
        monitor.wait()
    p.stop_sysgd(daemon)


@with_project('version: "1"\nservices:\n'
              '  slow:\n    exec: ["HELPER", "wait-file:DIR/go"]\n'
              '    cron: { expression: "@yearly" }\n')
def test_run_survives_a_supervisor_kill(p):
    daemon = p.sysgd()
    assert p.sysg("start", "--service", "slow").returncode == 0
    status = json.loads(p.sysg("status", "--service", "slow", "--json").stdout)
    run_pid = status["services"][0]["pid"]
    assert status["services"][0]["state"] == "running" and alive(run_pid), status
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()
    assert alive(run_pid)

    # A new supervisor adopts the run in progress: no second copy, the same process.
    daemon = p.sysgd()
    wait_for(lambda: json.loads(p.sysg("status", "--service", "slow", "--json").stdout)
             ["services"][0]["pid"] == run_pid, "the run to be adopted")
    status = json.loads(p.sysg("status", "--service", "slow", "--json").stdout)
    assert status["services"][0]["state"] == "running", status
    open(os.path.join(p.dir, "go"), "w").close()
    wait_for(lambda: p.history("slow"), "the adopted run in cron_state.json")
    run = p.history("slow")[0]
    # Its exit status went to the supervisor that was killed: unknown, never a success.
    assert run["result"] == "failed" and run["exit_code"] is None, run
    status = json.loads(p.sysg("status", "--service", "slow", "--json").stdout)
    assert status["services"][0]["state"] == "scheduled", status
    assert not alive(run_pid)
    p.stop_sysgd(daemon)


@with_project('version: "1"\nservices:\n'
              '  backup:\n    exec: ["HELPER", "exit:0"]\n'
              '    cron: { expression: "0 0 3 * * *" }\n')
def test_idle_with_a_daily_job(p):
    daemon = p.sysgd()
    wait_for(lambda: p.cron_state().get("backup", {}).get("next_run"), "the next run recorded")
    next_run = p.cron_state()["backup"]["next_run"]
    time.sleep(0.3)  # lets the last state write finish
    before = sgtest.context_switches(daemon.pid)
    time.sleep(2.0)  # the observation window itself, not a wait for something
    after = sgtest.context_switches(daemon.pid)
    if time.strftime("%H:%M") in ("02:59", "03:00"):
        return "the job is due within the window"
    assert after == before, "%d context switches while idle" % (after - before)
    assert p.cron_state()["backup"]["next_run"] == next_run
    p.stop_sysgd(daemon)


RELOAD_V1 = ('version: "1"\nservices:\n'
             '  job_one:\n    exec: ["HELPER", "stamp:DIR/one"]\n'
             '    cron: { expression: "* * * * * *" }\n'
             '  busy:\n    exec: ["HELPER", "pause"]\n'
             '    cron: { expression: "@yearly" }\n'
             '  later:\n    exec: ["HELPER", "stamp:DIR/later"]\n'
             '    cron: { expression: "@yearly" }\n'
             '  keep:\n    exec: ["HELPER", "stamp:DIR/keep"]\n'
             '    cron: { expression: "* * * * * *" }\n')
RELOAD_V2 = ('version: "1"\nservices:\n'
             '  later:\n    exec: ["HELPER", "stamp:DIR/later"]\n'
             '    cron: { expression: "* * * * * *" }\n'
             '  keep:\n    exec: ["HELPER", "stamp:DIR/keep"]\n'
             '    cron: { expression: "* * * * * *" }\n')


@with_project(RELOAD_V1)
def test_reload_removes_and_replans_jobs(p):
    daemon = p.sysgd()
    v2 = p.write(RELOAD_V2, "v2.yaml")
    wait_for(lambda: p.lines("one"), "a run of job_one")
    assert p.sysg("start", "--service", "busy").returncode == 0
    busy = json.loads(p.sysg("status", "--service", "busy", "--json").stdout)["services"][0]
    assert busy["state"] == "running" and alive(busy["pid"]), busy

    result = p.sysg("restart", "--config", v2)
    assert result.returncode == 0, result
    # The run in progress of a removed job is stopped, as a removed service's process is.
    wait_for(lambda: not alive(busy["pid"]), "the removed job's run to be stopped")

    # keep runs every second: two more of its runs prove that time passed; by then a run of
    # job_one started before the reload has stamped its file.
    def keep_runs(more):
        want = len(p.lines("keep")) + more
        wait_for(lambda: len(p.lines("keep")) >= want, "%d more runs of keep" % more)
    keep_runs(2)
    runs = len(p.lines("one"))
    keep_runs(3)
    assert len(p.lines("one")) == runs, "job_one ran after it was removed"

    names = [s["name"] for s in json.loads(p.sysg("status", "--json").stdout)["services"]]
    assert sorted(names) == ["keep", "later"], names
    wait_for(lambda: set(p.cron_state()) == {"keep", "later"}, "cron_state.json without "
             "the removed jobs")
    # A changed expression is planned again: later, yearly before, now runs every second.
    wait_for(lambda: p.lines("later"), "a run of later on its new schedule")
    assert p.cron_state()["later"]["expression"] == "* * * * * *", p.cron_state()
    p.stop_sysgd(daemon)


def many_jobs(count):
    return 'version: "1"\nservices:\n' + "".join(
        '  job%d:\n    exec: ["HELPER", "exit:0"]\n    cron: { expression: "@yearly" }\n' % i
        for i in range(count))


def start_and_stop(p, count):
    """Starts a supervisor on count cron jobs and stops it; the seconds it took."""
    began = time.monotonic()
    started = p.sysg("start", "--daemonize")
    assert started.returncode == 0, started
    pid = p.supervisor_pid()
    last = json.loads(p.sysg("status", "--service", "job%d" % (count - 1), "--json").stdout)
    assert last["services"][0]["state"] == "scheduled", last
    wait_for(lambda: len([job for job in p.cron_state().values() if job["next_run"]]) == count,
             "every job's next run in cron_state.json", deadline=60)
    stopped = p.sysg("stop")
    assert stopped.returncode == 0, stopped
    wait_for(lambda: not alive(pid), "the supervisor to exit", deadline=60)
    elapsed = time.monotonic() - began
    jobs = p.cron_state()
    assert len(jobs) == count and all(job["next_run"] is None for job in jobs.values()), jobs
    return elapsed


@with_project(many_jobs(5000))
def test_many_jobs_start_and_stop(p):
    # Planning is per job, not a pass over every job at each change (5,000 jobs once took
    # 40 s to stop). A few tenths of a second here; where everything is slower (sanitizers),
    # linear still shows against a tenth of the jobs: quadratic would take 100 times as long.
    elapsed = start_and_stop(p, 5000)
    if elapsed < 10:
        return
    small = Project(many_jobs(500))
    try:
        ratio = elapsed / start_and_stop(small, 500)
    finally:
        small.close()
    assert ratio < 30, "5,000 cron jobs took %.1f s, %.0f times 500 jobs" % (elapsed, ratio)

def main():
    tests = [test_history_survives_restart, test_start_and_stop_a_run,
             test_run_survives_a_supervisor_kill, test_idle_with_a_daily_job,
             test_reload_removes_and_replans_jobs, test_many_jobs_start_and_stop]
    for test in tests:
        RESULTS.check(test.__name__, test)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
