#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Which processes sysg and sysgd take for theirs: the real binaries beside processes that
are not theirs, zombies, and children that leave the session and lose their markers."""
import ctypes
import fcntl
import json
import os
import pwd
import signal
import subprocess
import sys

import sgtest
from sgtest import DEADLINE, Results, alive, wait_for

SYSGD = os.environ["SG_TEST_SYSGD"]
HELPER = os.environ["SG_TEST_HELPER_CHILD"]
RESULTS = Results()
STATE_ID = "5eed" * 8
PR_SET_CHILD_SUBREAPER = 36


def start_time(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


class Project(sgtest.Project):
    """A project and its state directory; every process it started is killed at the end."""

    def __init__(self, yaml='version: "1"\nservices: {}\n'):
        super().__init__(yaml, "sg-ownership-")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + self.path("no-bus")
        self.procs = []
        self.pids = set()

    def foreign(self, *args):
        """A session leader that is not systemg's (no markers), running helper-child args."""
        proc = subprocess.Popen([HELPER] + list(args) + ["pause"], start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
        self.procs.append(proc)
        wait_for(lambda: alive(proc.pid) and os.getsid(proc.pid) == proc.pid,
                 "the foreign process to run")
        return proc.pid

    def sysgd(self, *args):
        proc = subprocess.Popen([SYSGD, "--config", self.config] + list(args), env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def write_state(self, pids, services):
        os.makedirs(self.state, mode=0o700, exist_ok=True)
        with open(os.path.join(self.state, "pid.json"), "w") as f:
            json.dump({"services": pids}, f)
        with open(os.path.join(self.state, "state.json"), "w") as f:
            json.dump({"state_id": STATE_ID, "services": services}, f)

    def status(self, *args):
        result = self.sysg("status", "--json", *args)
        assert result.returncode == 0, result
        return {s["name"]: s for s in json.loads(result.stdout)["services"]}

    def running(self, *names):
        try:
            status = self.status()
        except (AssertionError, ValueError):
            return False
        return all(status.get(n, {}).get("state") == "running" for n in names)

    def close(self):
        sgtest.kill_all(self.procs)
        self.kill_services(self.pids)
        super().close()


def with_project(yaml='version: "1"\nservices: {}\n'):
    return sgtest.with_project(Project, yaml)


@with_project()
def test_offline_stop_spares_foreign_leader(p):
    """pid.json names a session leader that is not ours, with no start time recorded."""
    leader = p.foreign("pids:" + p.path("pids"), "bg:60000")
    child = p.wait_for_pids(1, "its child")[0]
    p.pids.add(child)
    p.write_state({"web": leader}, {"web": {"status": "running", "pid": leader}})
    result = p.sysg("stop")
    assert result.returncode == 0, result
    assert alive(leader) and alive(child), "a process that is not ours was signalled"
    assert "not stopping PID %d" % leader in result.stderr, result
    assert "no process start time was recorded" in result.stderr, result
    # the entry named no process of ours: it is gone from pid.json
    assert "web" not in p.pid_json(), p.pid_json()
    # a start time that is not the recorded one: left alone too
    p.write_state({"web": leader}, {"web": {"status": "running", "pid": leader,
                                            "process_start_time": start_time(leader) + 1}})
    result = p.sysg("stop", "--service", "web")
    assert result.returncode == 0 and alive(leader), result
    assert "start time is not the one recorded" in result.stderr, result
    # offline status does not claim it either
    assert p.status("--all")["web"]["pid"] is None


@with_project()
def test_offline_stop_spares_start_time_of_another_boot(p):
    """A PID and start time recorded under another boot id prove nothing: both restart from
    zero at every boot, so a stranger may match them after a reboot."""
    leader = p.foreign()
    recorded = {"web": {"status": "running", "pid": leader,
                        "process_start_time": start_time(leader)}}
    p.write_state({"web": leader}, recorded)
    with open(os.path.join(p.state, "state.json")) as f:
        state = json.load(f)
    state["boot_id"] = "00000000-0000-4000-8000-000000000000"
    with open(os.path.join(p.state, "state.json"), "w") as f:
        json.dump(state, f)
    result = p.sysg("stop")
    assert result.returncode == 0, result
    assert alive(leader), "a start time of another boot was taken for proof"
    assert "not stopping PID %d" % leader in result.stderr, result
    assert "web" not in p.pid_json(), p.pid_json()


def lock_holder(p, names):
    """A process that holds the lock on sysg.pid and writes names (None: its own PID)."""
    code = ("import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.write(fd, b'%d\\n' % (int(sys.argv[2]) or os.getpid()))\n"
            "print('ready', flush=True)\n"
            "time.sleep(600)\n")
    os.makedirs(p.state, mode=0o700, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", code, os.path.join(p.state, "sysg.pid"),
                             str(names or 0)], stdout=subprocess.PIPE, start_new_session=True)
    p.procs.append(proc)
    assert proc.stdout.readline() == b"ready\n"
    return proc


@with_project()
def test_stop_spares_pid_file_of_non_supervisor(p):
    """Something that is not a supervisor holds the lock on sysg.pid."""
    victim = p.foreign()
    holder = lock_holder(p, victim)
    result = p.sysg("stop")
    assert result.returncode == 1, result
    assert "refusing to signal PID %d" % victim in result.stderr, result
    assert "does not hold the lock" in result.stderr, result
    assert "stopped the supervisor" not in result.stdout, result
    assert alive(victim) and holder.poll() is None
    sgtest.kill_all([holder])
    # the lock holder names itself, but it does not serve control.sock
    holder = lock_holder(p, None)
    result = p.sysg("stop")
    assert result.returncode == 1, result
    assert "does not serve" in result.stderr, result
    assert holder.poll() is None, "the lock holder was signalled"
    result = p.sysg("purge")
    assert result.returncode != 0 and os.path.isdir(p.state), result
    assert holder.poll() is None


def other_user():
    for name in ("sysg-ci", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


def test_root_refuses_other_users_state_dir():
    """Root on a state directory of another user: refused, its records never acted on."""
    if os.geteuid() != 0:
        return "needs root"
    user = other_user()
    if user is None:
        return "no second user (sysg-ci or nobody)"
    p = Project()
    try:
        leader = p.foreign()
        # what that user wrote: a root session leader, even with its right start time
        p.write_state({"web": leader}, {"web": {"status": "running", "pid": leader,
                                                "process_start_time": start_time(leader)}})
        for path in [p.state] + [os.path.join(p.state, n) for n in os.listdir(p.state)]:
            os.chown(path, user.pw_uid, user.pw_gid)
        for args in (["stop"], ["stop", "--service", "web"], ["status"], ["purge"],
                     ["logs", "web"]):
            result = p.sysg(*args)
            assert result.returncode == 1, (args, result)
            assert "owned by uid %d" % user.pw_uid in result.stderr, (args, result)
        assert alive(leader), "root signalled what another user's state directory named"
        assert os.path.isdir(p.state)
    finally:
        p.close()
    return None


@with_project()
def test_cli_tightens_loose_state_dir(p):
    """A state directory of ours with looser permissions is tightened, as sysgd does."""
    os.makedirs(p.state)
    os.chmod(p.state, 0o755)
    result = p.sysg("status")
    assert result.returncode == 0, result
    assert "tightened permissions" in result.stderr, result
    assert os.stat(p.state).st_mode & 0o777 == 0o700


TWO = ('version: "1"\nservices:\n'
       '  web:\n    exec: ["HELPER", "pause"]\n'
       '  worker:\n    exec: ["HELPER", "pause"]\n')


@with_project(TWO)
def test_offline_stop_removes_dead_pids(p):
    daemon = p.sysgd()
    wait_for(lambda: p.running("web", "worker"), "services to run")
    pids = p.pid_json()
    p.pids.update(pids.values())
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()
    os.kill(pids["worker"], signal.SIGKILL)
    wait_for(lambda: not alive(pids["worker"]), "worker to die")
    result = p.sysg("stop", "--service", "worker")
    assert result.returncode == 0, result
    assert p.pid_json() == {"web": pids["web"]}, p.pid_json()
    result = p.sysg("stop")
    assert result.returncode == 0, result
    assert not alive(pids["web"])
    assert p.pid_json() == {}, p.pid_json()


@with_project('version: "1"\nservices:\n  web:\n    exec: ["HELPER", "rewrite-env", "pause"]\n')
def test_adopted_rewritten_main_is_stopped(p):
    """A main process whose environment is a process title, adopted by a new sysgd (not its
    parent): its recorded start time proves it, and a stop reaches it."""
    first = p.sysgd()
    wait_for(lambda: p.running("web"), "web to run")
    web = p.pid_json()["web"]
    p.pids.add(web)
    first.send_signal(signal.SIGKILL)
    first.wait()
    second = p.sysgd()
    wait_for(lambda: p.running("web") and p.status()["web"]["pid"] == web, "web to be adopted")
    result = p.sysg("stop", "--service", "web")
    assert result.returncode == 0, result
    assert not alive(web)
    assert second.poll() is None


def set_subreaper(on):
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) == 0


@with_project(TWO)
def test_zombie_is_not_running(p):
    """A recorded main process that exited and was not reaped yet is not running."""
    set_subreaper(True)
    zombie = 0
    try:
        daemon = p.sysgd()
        wait_for(lambda: p.running("web", "worker"), "services to run")
        pids = p.pid_json()
        p.pids.update(pids.values())
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
        # the services are our children now (we are the subreaper); we do not reap web
        zombie = pids["web"]
        os.kill(zombie, signal.SIGKILL)
        wait_for(lambda: not alive(zombie), "web to become a zombie")
        with open("/proc/%d/stat" % zombie) as f:
            assert f.read().rsplit(")", 1)[1].split()[0] == "Z"
        status = p.status()
        assert status["web"]["pid"] is None and status["web"]["tasks"] is None, status
        assert status["worker"]["pid"] == pids["worker"], status
        text = p.sysg("status", "--service", "web").stdout
        assert "its process is gone" in text and str(zombie) not in text, text
        result = p.sysg("stop")
        assert result.returncode == 0, result
        assert p.pid_json() == {}, p.pid_json()
    finally:
        set_subreaper(False)
        for pid in p.pids:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


POSTGRES_LIKE = ('version: "1"\nservices:\n'
                 '  db:\n    exec: ["HELPER", "pids:DIR/pids", "wiped-child:60000", '
                 '"wiped-child:60000", "pause"]\n'
                 '  other:\n    exec: ["HELPER", "pause"]\n')


def check_postgres_like(p, args):
    """Children that setsid() and exec with an empty environment while their parent lives
    are the service's: counted, drawn and stopped, online and offline."""
    daemon = p.sysgd(*args)
    wait_for(lambda: p.running("db", "other"), "services to run")
    kids = p.wait_for_pids(2, "the children")
    p.pids.update(kids)
    status = p.status()
    p.pids.update(s["pid"] for s in status.values() if s["pid"])
    assert status["db"]["tasks"] == 3, status["db"]
    text = p.sysg("status", "--service", "db").stdout
    assert all(str(k) in text for k in kids), text
    result = p.sysg("stop", "--service", "db")
    assert result.returncode == 0, result
    wait_for(lambda: not any(alive(k) for k in kids), "the children to be stopped")
    assert p.status()["other"]["state"] == "running"
    # with no supervisor: the same set
    os.unlink(p.path("pids"))
    assert p.sysg("start", "--service", "db").returncode == 0
    kids = p.wait_for_pids(2, "the children again")
    p.pids.update(kids)
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()
    status = p.status()
    assert status["db"]["tasks"] == 3, status["db"]
    result = p.sysg("stop", "--service", "db")
    assert result.returncode == 0, result
    assert "db: stopped 3 process" in result.stdout, result
    assert not any(alive(k) for k in kids)
    assert alive(status["other"]["pid"])


@with_project(POSTGRES_LIKE)
def test_setsid_children_markers(p):
    check_postgres_like(p, [])


def test_setsid_children_cgroup():
    root, why_not = sgtest.make_cgroup("sg-ownership")
    if root is None:
        return why_not
    p = Project(POSTGRES_LIKE)
    try:
        check_postgres_like(p, ["--cgroup", root])
    finally:
        pids = set(p.pids) | set(p.pid_json().values())
        p.close()
        for pid in pids:
            wait_for(lambda: not alive(pid), "process %d to exit" % pid)
        for sub in ("svc-db", "svc-other", "supervisor", ""):
            try:
                os.rmdir(os.path.join(root, sub) if sub else root)
            except OSError:
                pass
    return None


def postgres_binaries():
    for version in sorted(os.listdir("/usr/lib/postgresql"), reverse=True) \
            if os.path.isdir("/usr/lib/postgresql") else []:
        bin_dir = os.path.join("/usr/lib/postgresql", version, "bin")
        if all(os.access(os.path.join(bin_dir, b), os.X_OK) for b in ("postgres", "initdb")):
            return bin_dir
    return None


def test_postgres():
    """The real PostgreSQL: its backends setsid() and overwrite their environment with their
    process titles, yet status counts them and stop --service stops them."""
    bin_dir = postgres_binaries()
    if bin_dir is None:
        return "PostgreSQL is not installed"
    prefix = []
    user = None
    if os.geteuid() == 0:
        # postgres refuses to run as root: the whole project runs as another user
        user = other_user()
        if user is None:
            return "needs a user other than root for postgres"
        prefix = ["setpriv", "--reuid=%d" % user.pw_uid, "--regid=%d" % user.pw_gid,
                  "--clear-groups"]
    p = Project('version: "1"\nservices:\n  db:\n    exec: ["%s/postgres", "-D", "DIR/data", '
                '"-k", "DIR", "-c", "listen_addresses=", "-c", "fsync=off"]\n' % bin_dir)
    env = dict(p.env, HOME=p.dir)
    daemon = None

    def run(*args):
        return subprocess.run(prefix + list(args), env=env, capture_output=True, text=True,
                              timeout=60, cwd=p.dir)

    def status():
        result = run(os.environ["SG_TEST_SYSG"], "status", "--json")
        assert result.returncode == 0, result
        return json.loads(result.stdout)["services"][0]

    try:
        if user is not None:
            os.chown(p.dir, user.pw_uid, user.pw_gid)
            os.chown(p.config, user.pw_uid, user.pw_gid)
        result = run(os.path.join(bin_dir, "initdb"), "-D", p.path("data"), "-A", "trust",
                     "-U", "postgres", "--no-sync")
        assert result.returncode == 0, result
        daemon = subprocess.Popen(prefix + [SYSGD, "--config", p.config], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True, cwd=p.dir)
        p.procs.append(daemon)
        wait_for(lambda: status()["state"] == "running", "postgres to run")
        main_pid = status()["pid"]
        p.pids.add(main_pid)

        def backends():
            found = []
            for entry in os.listdir("/proc"):
                try:
                    with open("/proc/%s/stat" % entry) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == main_pid and fields[0] != "Z":
                    found.append(int(entry))
            return found
        # the postmaster starts its background processes after it is up
        kids = wait_for(lambda: len(backends()) >= 3 and backends(), "postgres's backends")
        p.pids.update(kids)
        wait_for(lambda: status()["tasks"] == 1 + len(backends()), "every backend counted")
        kids = backends()
        p.pids.update(kids)
        assert all(os.getsid(k) == k for k in kids), "the backends lead their own sessions"
        result = run(os.environ["SG_TEST_SYSG"], "stop", "--service", "db")
        assert result.returncode == 0, result
        assert not any(alive(k) for k in kids + [main_pid])
    finally:
        if daemon is not None:
            run(os.environ["SG_TEST_SYSG"], "stop")
        p.close()
    return None


def main():
    tests = [test_offline_stop_spares_foreign_leader,
             test_offline_stop_spares_start_time_of_another_boot,
             test_stop_spares_pid_file_of_non_supervisor,
             test_root_refuses_other_users_state_dir, test_cli_tightens_loose_state_dir,
             test_offline_stop_removes_dead_pids, test_adopted_rewritten_main_is_stopped,
             test_zombie_is_not_running,
             test_setsid_children_markers, test_setsid_children_cgroup, test_postgres]
    only = sys.argv[1:]
    for test in tests:
        if not only or test.__name__ in only:
            RESULTS.check(test.__name__, test)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
