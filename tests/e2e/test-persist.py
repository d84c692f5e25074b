#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Surviving a killed supervisor, reload, stale state: the real sysgd and sysg."""
import json
import os
import signal
import socket
import subprocess
import sys

import sgtest
from sgtest import DEADLINE, Results, alive, wait_for

SYSGD = os.environ["SG_TEST_SYSGD"]
HELPER = os.environ["SG_TEST_HELPER_CHILD"]
RESULTS = Results()


def marked_processes(state_id):
    """{pid: (service, invocation_id)} of live processes carrying this state id."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if not alive(pid):
            continue
        values = dict(item.split(b"=", 1) for item in env if b"=" in item)
        if values.get(b"SYSTEMG_STATE_ID", b"").decode() == state_id:
            found[pid] = (values.get(b"SYSTEMG_SERVICE", b"").decode(),
                          values.get(b"SYSTEMG_INVOCATION_ID", b"").decode())
    return found


class Project(sgtest.Project):
    """A project directory with its state directory; every process it started is cleaned."""

    def __init__(self, yaml):
        super().__init__(yaml, "sg-persist-")
        self.daemons = []

    def sysgd(self, *args):
        """A foreground sysgd in its own session: no terminal, so SIGHUP means reload."""
        stderr = open(os.path.join(self.dir, "sysgd-%d.err" % len(self.daemons)), "w")
        proc = subprocess.Popen([SYSGD, "--config", self.config] + list(args), env=self.env,
                                stdout=subprocess.DEVNULL, stderr=stderr,
                                start_new_session=True)
        stderr.close()
        proc.stderr_path = stderr.name
        self.daemons.append(proc)
        return proc

    def kill9(self, proc):
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def read_json(self, name):
        with open(os.path.join(self.state, name)) as f:
            return json.load(f)

    def pids(self):
        return self.pid_json()

    def states(self):
        try:
            return self.read_json("state.json")["services"]
        except (OSError, ValueError, KeyError):
            return {}

    def state_id(self):
        return self.read_json("state.json")["state_id"]

    def status(self, *args):
        result = self.sysg("status", "--json", *args)
        assert result.returncode == 0, result
        return {s["name"]: s for s in json.loads(result.stdout)["services"]}

    def all_running(self, *names):
        states = self.states()
        return all(states.get(n, {}).get("status") == "running" for n in names)

    def settled_since(self, daemon):
        """Whether sysgd daemon (not an earlier one) has logged that it settled."""
        log = self.log()
        start = log.rfind("supervisor starting (PID %d)" % daemon.pid)
        return start >= 0 and "all services settled" in log[start:]

    def settled(self, daemon):
        wait_for(lambda: self.settled_since(daemon), "sysgd %d to settle" % daemon.pid)

    def close(self):
        sgtest.terminate_all(self.daemons, DEADLINE)
        # whatever a failed test left: the recorded services, then anything marked
        if os.path.isdir(self.state):
            self.sysg("stop")
            try:
                for pid in marked_processes(self.state_id()):
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError, KeyError):
                pass
        super().close()


def with_project(yaml):
    return sgtest.with_project(Project, yaml)


PAUSE = '    exec: ["HELPER", "pause"]\n'
COUNTER = ('    command: "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo $i; '
           'sleep 0.1; done"\n')


@with_project('version: "1"\nservices:\n  db:\n' + PAUSE
              + '  api:\n' + PAUSE + '    depends_on: [db]\n'
              + '  counter:\n' + COUNTER)
def test_kill9_adopts_same_processes(p):
    first = p.sysgd()
    wait_for(lambda: p.all_running("db", "api", "counter"), "services to run")
    before = p.pids()
    p.kill9(first)
    assert all(alive(pid) for pid in before.values()), "services survive the supervisor"
    p.sysgd()
    wait_for(lambda: "adopting counter" in p.log(), "the new supervisor to adopt")
    wait_for(lambda: p.all_running("db", "api", "counter"), "services to run")
    assert p.pids() == before, (p.pids(), before)
    status = p.status()
    for name, pid in before.items():
        assert status[name]["pid"] == pid and status[name]["state"] == "running", status
    assert sorted(svc for svc, _ in marked_processes(p.state_id()).values()
                  if svc != "counter") == ["api", "db"]
    # a stop reaches adopted processes
    assert p.sysg("stop", "--service", "api").returncode == 0
    assert not alive(before["api"])


@with_project('version: "1"\nservices:\n  counter:\n' + COUNTER)
def test_writer_keeps_writing(p):
    log = os.path.join(p.state, "logs", "counter_stdout.log")

    def lines():
        try:
            with open(log) as f:
                return [int(line) for line in f.read().split()]
        except (OSError, ValueError):
            return []

    first = p.sysgd()
    wait_for(lambda: len(lines()) >= 3, "the counter to write")
    pid = p.pids()["counter"]
    p.kill9(first)
    at_kill = len(lines())
    wait_for(lambda: len(lines()) >= at_kill + 3, "the counter to write with no supervisor")
    p.sysgd()
    wait_for(lambda: "adopting counter" in p.log(), "adoption")
    seen = len(lines())
    wait_for(lambda: len(lines()) >= seen + 3, "the counter to write after adoption")
    assert p.pids()["counter"] == pid
    got = lines()
    assert got == list(range(1, len(got) + 1)), "a gap or a repeat in %r" % got


@with_project('version: "1"\nservices:\n  keeper:\n' + PAUSE
              + '  worker:\n' + PAUSE + '    restart_policy: on-failure\n    backoff: 100ms\n'
              + '  single:\n' + PAUSE)
def test_gone_while_down_is_a_crash(p):
    first = p.sysgd()
    wait_for(lambda: p.all_running("keeper", "worker", "single"), "services to run")
    before = p.pids()
    p.kill9(first)
    os.kill(before["worker"], signal.SIGKILL)
    os.kill(before["single"], signal.SIGKILL)
    wait_for(lambda: not alive(before["worker"]) and not alive(before["single"]),
             "the services to die")
    p.settled(p.sysgd())
    wait_for(lambda: p.all_running("keeper", "worker"), "worker to be restarted")
    assert p.pids()["worker"] != before["worker"]
    assert p.pids()["keeper"] == before["keeper"]
    status = p.status()
    assert status["worker"]["restart_count"] == 1, status["worker"]
    # restart_policy never: failed, and it says why
    assert status["single"]["state"] == "failed", status["single"]
    assert "exit status unknown" in status["single"]["cause"], status["single"]
    assert "handled as crashes" in p.log()


@with_project('version: "1"\nservices:\n  web:\n' + PAUSE + '  old:\n' + PAUSE)
def test_orphan_adopted_and_stoppable(p):
    first = p.sysgd()
    wait_for(lambda: p.all_running("web", "old"), "services to run")
    old = p.pids()["old"]
    p.kill9(first)
    p.write('version: "1"\nservices:\n  web:\n' + PAUSE)
    p.sysgd()
    wait_for(lambda: "adopted as orphaned" in p.log(), "the orphan")
    assert alive(old), "an orphan is never killed silently"
    assert "old" not in p.status()
    orphan = p.status("--all")["old"]
    assert orphan["orphaned"] is True and orphan["pid"] == old, orphan
    text = p.sysg("status", "--all").stdout
    assert "orphaned" in text, text
    stop = p.sysg("stop", "--service", "old")
    assert stop.returncode == 0, stop
    assert not alive(old)
    wait_for(lambda: "old" not in p.status("--all"), "the orphan to disappear")
    assert "web" in p.pids() and "old" not in p.pids()


@with_project('version: "1"\nservices:\n  web:\n' + PAUSE + '  api:\n' + PAUSE)
def test_missing_from_pid_json_not_duplicated(p):
    first = p.sysgd()
    wait_for(lambda: p.all_running("web", "api"), "services to run")
    before = p.pids()
    p.kill9(first)
    # as if the kill landed between the spawn of api and the write of pid.json
    pids = p.read_json("pid.json")
    del pids["services"]["api"]
    states = p.read_json("state.json")
    states["services"]["api"]["pid"] = None
    for name, data in (("pid.json", pids), ("state.json", states)):
        with open(os.path.join(p.state, name), "w") as f:
            json.dump(data, f)
    p.settled(p.sysgd())
    wait_for(lambda: p.all_running("web", "api"), "services to run")
    assert p.pids() == before, (p.pids(), before)
    assert "found by its markers" in p.log()
    assert sorted(svc for svc, _ in marked_processes(p.state_id()).values()) == ["api", "web"]


@with_project('version: "1"\nservices:\n  same:\n' + PAUSE + '  edited:\n' + PAUSE)
def test_changed_while_down_restarted(p):
    first = p.sysgd()
    wait_for(lambda: p.all_running("same", "edited"), "services to run")
    before = p.pids()
    p.kill9(first)
    p.write('version: "1"\nservices:\n  same:\n' + PAUSE + '  edited:\n'
            + '    exec: ["HELPER", "sleep:600000"]\n')
    p.sysgd()
    wait_for(lambda: p.pids().get("edited", before["edited"]) != before["edited"]
             and p.all_running("edited"), "edited to be restarted")
    assert not alive(before["edited"])
    assert p.pids()["same"] == before["same"]


RELOAD_BEFORE = ('version: "1"\nservices:\n  keep:\n' + PAUSE
                 + '  change:\n' + PAUSE + '    env: { vars: { V: "1" } }\n'
                 + '  drop:\n' + PAUSE)
RELOAD_AFTER = ('version: "1"\nservices:\n  keep:\n' + PAUSE
                + '  change:\n' + PAUSE + '    env: { vars: { V: "2" } }\n'
                + '  fresh:\n' + PAUSE)
RELOAD_INVALID = 'version: "1"\nservices:\n  keep:\n' + PAUSE + '    restar: always\n'


def subscribe(state):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.path.join(state, "control.sock"))
    sock.sendall(b'{"jsonrpc": "2.0", "id": 1, "method": "subscribe"}\n')
    reader = sock.makefile("r")
    assert json.loads(reader.readline())["result"] == {}
    return sock, reader


def notifications_until_reloaded(reader):
    sock_events = []
    while True:
        message = json.loads(reader.readline())
        if message.get("method") in ("service_added", "service_removed", "reloaded"):
            sock_events.append((message["method"], message["params"]))
        if message.get("method") == "reloaded":
            return sock_events


def check_reload(p, trigger):
    p.sysgd()
    wait_for(lambda: p.all_running("keep", "change", "drop"), "services to run")
    before = p.pids()
    sock, reader = subscribe(p.state)
    sock.settimeout(DEADLINE)
    try:
        new_config = trigger(p)
        events = notifications_until_reloaded(reader)
    finally:
        sock.close()
    assert ("service_added", {"name": "fresh"}) in events, events
    assert events[-1] == ("reloaded", {"config": new_config}), events
    wait_for(lambda: p.all_running("keep", "change", "fresh")
             and p.pids().get("change") != before["change"] and "drop" not in p.pids(),
             "the reload to be applied")
    assert p.pids()["keep"] == before["keep"]
    assert not alive(before["drop"]) and not alive(before["change"])
    assert "drop" not in p.status("--all")
    with open(os.path.join(p.state, "config_hint")) as f:
        assert f.read().strip() == new_config
    assert p.read_json("state.json")["services"].keys() == {"keep", "change", "fresh"}
    result = p.sysg("status", "--json")
    assert json.loads(result.stdout)["supervisor"]["config"] == new_config, result.stdout
    return p.pids()


@with_project(RELOAD_BEFORE)
def test_reload_with_restart_config(p):
    def trigger(project):
        path = project.write(RELOAD_AFTER, "next.yaml")
        result = project.sysg("restart", "--config", path)
        assert result.returncode == 0, result
        return path
    after = check_reload(p, trigger)
    # an invalid file changes nothing and says why
    bad = p.write(RELOAD_INVALID, "bad.yaml")
    result = p.sysg("restart", "--config", bad)
    assert result.returncode == 3, result
    assert "bad.yaml:5:5: services.keep.restar" in result.stderr, result.stderr
    assert p.pids() == after
    assert "reload refused, nothing changed" in p.log()


@with_project(RELOAD_BEFORE)
def test_reload_with_sighup(p):
    def trigger(project):
        project.write(RELOAD_AFTER)
        os.kill(project.daemons[0].pid, signal.SIGHUP)
        return project.config
    after = check_reload(p, trigger)
    p.write(RELOAD_INVALID)
    os.kill(p.daemons[0].pid, signal.SIGHUP)
    wait_for(lambda: "reload refused" in p.log(), "the refusal in the log")
    assert p.pids() == after
    assert p.daemons[0].poll() is None


@with_project('version: "1"\nservices: {}\n')
def test_reload_of_a_daemon_with_no_file(p):
    """Started with no configuration (as D-Bus activation may), a reload finds one."""
    xdg = os.path.join(p.dir, "xdg")
    empty = os.path.join(p.dir, "empty")
    os.makedirs(os.path.join(xdg, "systemg"))
    os.makedirs(empty)
    env = dict(p.env, XDG_CONFIG_HOME=xdg)
    daemon = subprocess.Popen([SYSGD], env=env, cwd=empty, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    p.daemons.append(daemon)
    p.settled(daemon)
    assert "no configuration found" in p.log()
    config = os.path.join(xdg, "systemg", "systemg.yaml")
    with open(config, "w") as f:
        f.write(('version: "1"\nservices:\n  web:\n' + PAUSE).replace("HELPER", HELPER))
    os.kill(daemon.pid, signal.SIGHUP)
    wait_for(lambda: p.all_running("web"), "web to start after the reload")
    with open(os.path.join(p.state, "config_hint")) as f:
        assert f.read().strip() == config


# ---- stale state ----

@with_project('version: "1"\nservices:\n  web:\n' + PAUSE)
def test_stale_socket_removed(p):
    os.makedirs(p.state, mode=0o700)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(os.path.join(p.state, "control.sock"))
    stale.close()  # bound, nobody listening
    p.sysgd()
    wait_for(lambda: p.all_running("web"), "web to run")
    assert "removed stale control.sock" in p.log(), p.log()
    assert p.sysg("status").returncode == 0


@with_project('version: "1"\nservices:\n  web:\n' + PAUSE)
def test_corrupt_state_files_set_aside(p):
    os.makedirs(p.state, mode=0o700)
    for name in ("state.json", "pid.json"):
        with open(os.path.join(p.state, name), "w") as f:
            f.write('{"services": {"web": 12')
    p.sysgd()
    wait_for(lambda: p.all_running("web"), "web to run")
    log = p.log()
    assert "state.json was corrupt; set aside as" in log, log
    assert "pid.json was corrupt; set aside as" in log, log
    aside = [n for n in os.listdir(p.state) if ".corrupt-" in n]
    assert len(aside) == 2, aside
    assert p.pids().keys() == {"web"}


def boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return None


ONCE_AND_JOB = ('version: "1"\nservices:\n  once:\n' + PAUSE
                + '  job:\n    exec: ["HELPER", "stamp:DIR/job-runs"]\n')


def job_runs(p):
    try:
        with open(os.path.join(p.dir, "job-runs")) as f:
            return len(f.read().splitlines())
    except OSError:
        return 0


@with_project(ONCE_AND_JOB)
def test_gone_in_same_boot_stays_failed(p):
    """Killed while no supervisor ran, with nothing of the run left: a crash, not a reboot."""
    if boot_id() is None:
        return "the kernel's boot id cannot be read"
    first = p.sysgd()
    p.settled(first)
    wait_for(lambda: p.all_running("once"), "once to run")
    assert p.read_json("state.json")["boot_id"] == boot_id()
    once = p.pids()["once"]
    p.kill9(first)
    os.kill(once, signal.SIGKILL)
    wait_for(lambda: not alive(once), "once to die")
    p.settled(p.sysgd())
    status = p.status()
    # restart_policy never: it stays failed, and says why; the job is not run again
    assert status["once"]["state"] == "failed", status["once"]
    assert "exit status unknown" in status["once"]["cause"], status["once"]
    assert status["once"]["pid"] is None, status["once"]
    assert status["job"]["state"] == "exited", status["job"]
    assert job_runs(p) == 1
    assert "handled as crashes: once" in p.log()


@with_project(ONCE_AND_JOB)
def test_other_boot_starts_afresh(p):
    """state.json written under another boot id: a reboot, everything starts afresh."""
    if boot_id() is None:
        return "the kernel's boot id cannot be read"
    first = p.sysgd()
    p.settled(first)
    once = p.pids()["once"]
    p.kill9(first)
    os.kill(once, signal.SIGKILL)
    wait_for(lambda: not alive(once), "once to die")
    state = p.read_json("state.json")
    state["boot_id"] = "00000000-0000-0000-0000-000000000000"
    with open(os.path.join(p.state, "state.json"), "w") as f:
        json.dump(state, f)
    p.settled(p.sysgd())
    wait_for(lambda: p.all_running("once"), "once to run again")
    assert p.pids()["once"] != once
    wait_for(lambda: job_runs(p) == 2, "the job to run again")
    log = p.log()
    assert "stale sysg.pid" in log, log
    assert "state from an earlier run (it was another boot): starting afresh" in log, log
    assert p.read_json("state.json")["boot_id"] == boot_id()


@with_project(ONCE_AND_JOB)
def test_clean_stop_starts_afresh(p):
    """A supervisor that stopped everything ended its run: the next one starts it all."""
    first = p.sysgd()
    p.settled(first)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=DEADLINE) == 0
    assert p.read_json("state.json").get("run_ended") is True
    p.settled(p.sysgd())
    wait_for(lambda: p.all_running("once"), "once to run again")
    wait_for(lambda: job_runs(p) == 2, "the job to run again")
    assert "run_ended" not in p.read_json("state.json")


@with_project('version: "1"\nservices:\n  web:\n' + PAUSE + '  api:\n' + PAUSE)
def test_offline_stops_recorded(p):
    """sysg stop with no supervisor says so in the state files: no crash for the next one."""
    first = p.sysgd()
    wait_for(lambda: p.all_running("web", "api"), "services to run")
    api = p.pids()["api"]
    p.kill9(first)
    assert p.sysg("stop", "--service", "web").returncode == 0
    assert "web" not in p.pids() and p.states()["web"]["status"] == "stopped"
    second = p.sysgd()
    p.settled(second)
    status = p.status()
    # the operator stopped web: it stays stopped; api is adopted, same process
    assert status["web"]["state"] == "stopped", status["web"]
    assert status["api"]["pid"] == api, status["api"]
    p.kill9(second)
    assert p.sysg("stop").returncode == 0
    assert not alive(api)
    p.settled(p.sysgd())
    wait_for(lambda: p.all_running("web", "api"), "every service to start afresh")


@with_project('version: "1"\nservices:\n  web:\n' + PAUSE)
def test_purge_stops_first(p):
    first = p.sysgd()
    wait_for(lambda: p.all_running("web"), "web to run")
    web = p.pids()["web"]
    state_id = p.state_id()
    p.kill9(first)  # no supervisor: purge stops the recorded processes itself
    result = p.sysg("purge")
    assert result.returncode == 0, result
    assert not alive(web)
    assert not os.path.exists(p.state)
    assert marked_processes(state_id) == {}


@with_project('version: "1"\nservices:\n  web:\n' + PAUSE + '  api:\n' + PAUSE)
def test_offline_stop_finds_unrecorded(p):
    first = p.sysgd()
    wait_for(lambda: p.all_running("web", "api"), "services to run")
    state_id = p.state_id()
    p.kill9(first)
    # the kill landed before api reached pid.json
    pids = p.read_json("pid.json")
    del pids["services"]["api"]
    with open(os.path.join(p.state, "pid.json"), "w") as f:
        json.dump(pids, f)
    result = p.sysg("stop")
    assert result.returncode == 0, result
    assert "api: stopped 1 process" in result.stdout, result.stdout
    assert marked_processes(state_id) == {}


def test_cgroup_adoption():
    """A process with no markers left in a service's cgroup is found and stopped."""
    root, why_not = sgtest.make_cgroup("sg-persist")
    if root is None:
        return why_not
    p = Project('version: "1"\nservices:\n  keeper:\n' + PAUSE
                + '  leaky:\n    exec: ["HELPER", "pids:DIR/pids", "wiped-daemon:60000", '
                '"pause"]\n    restart_policy: always\n    backoff: 100ms\n')
    try:
        first = p.sysgd("--cgroup", root)
        wait_for(lambda: p.all_running("keeper", "leaky"), "services to run")
        wiped = p.wait_for_pids(1, "the wiped daemon")[0]
        leaky = p.pids()["leaky"]
        p.kill9(first)
        # its main process dies while no supervisor watches; the wiped daemon stays
        os.kill(leaky, signal.SIGKILL)
        wait_for(lambda: not alive(leaky), "leaky to die")
        assert alive(wiped)
        second = p.sysgd("--cgroup", root)
        p.settled(second)
        wait_for(lambda: not alive(wiped), "the leftover in the cgroup to be stopped")
        assert "left without their main process" in p.log(), p.log()
        wait_for(lambda: p.all_running("leaky") and p.pids().get("leaky") != leaky,
                 "leaky to be restarted")
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=DEADLINE) == 0
    finally:
        p.close()
        for sub in ("svc-keeper", "svc-leaky", "supervisor", ""):
            try:
                os.rmdir(os.path.join(root, sub) if sub else root)
            except OSError:
                pass


def main():
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            RESULTS.check(name, fn)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
