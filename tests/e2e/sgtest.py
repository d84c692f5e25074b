# SPDX-License-Identifier: MIT
"""What the end-to-end tests share: TAP results, deadlines, process checks, projects."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

DEADLINE = 15.0


class Results:
    """Collects test outcomes and prints them as TAP."""

    def __init__(self):
        self.rows = []

    def check(self, name, fn):
        try:
            skipped = fn()
            self.rows.append(("ok", name + (" # SKIP " + skipped if skipped else "")))
        except Exception as error:  # a failed test must not stop the others
            self.rows.append(("not ok", name))
            for line in repr(error).splitlines():
                print("# " + line)

    def report(self):
        print("1..%d" % len(self.rows))
        for i, (status, name) in enumerate(self.rows, 1):
            print("%s %d - %s" % (status, i, name))
        return 1 if any(status == "not ok" for status, _ in self.rows) else 0


def wait_for(condition, what, deadline=DEADLINE):
    """Waits for a condition with a deadline (processes give no event to a test)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("timed out waiting for " + what)


def alive(pid):
    """Whether pid is a live process (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def context_switches(pid):
    """Voluntary and involuntary context switches over every thread of pid."""
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, task)) as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
    return total


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                return fields[4]
    return None


def make_cgroup(prefix):
    """A new cgroup prefix-PID below the cgroup v2 mount: (its path, None), or (None, the
    reason to skip the test: not root, no cgroup v2, or it cannot be made)."""
    mount = cgroup2_mount()
    if os.geteuid() != 0 or mount is None:
        return None, "needs root and a cgroup v2 mount"
    root = os.path.join(mount, "%s-%d" % (prefix, os.getpid()))
    try:
        os.mkdir(root)
    except OSError as error:
        return None, "cannot create a cgroup: %s" % error
    return root, None


class Project:
    """A temporary project directory, its configuration (HELPER and DIR filled in) and its
    state directory. Subclasses add the processes they start and clean them up in close()."""

    def __init__(self, yaml, prefix):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "systemg.yaml")
        self.write(yaml)
        self.env = dict(os.environ, SYSTEMG_STATE_DIR=self.state, LANG="C")

    def write(self, yaml, name="systemg.yaml"):
        """Writes yaml with HELPER and DIR filled in to name (in the project); its path."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(yaml.replace("HELPER", os.environ["SG_TEST_HELPER_CHILD"])
                    .replace("DIR", self.dir))
        return path

    def path(self, name):
        return os.path.join(self.dir, name)

    def sysg(self, *args):
        return subprocess.run([os.environ["SG_TEST_SYSG"]] + list(args), env=self.env,
                              capture_output=True, text=True, timeout=60, cwd=self.dir)

    def status(self, *args):
        """The parsed `sysg status --json` (the command must succeed)."""
        result = self.sysg("status", "--json", *args)
        assert result.returncode == 0, result
        return json.loads(result.stdout)

    def service(self, name):
        """One service object of status()."""
        return [s for s in self.status()["services"] if s["name"] == name][0]

    def wait_for_pids(self, count, what):
        """Waits for the file pids (the helper's pids: action) to list count PIDs; them."""
        path = self.path("pids")

        def listed():
            try:
                with open(path) as f:
                    return f.read().split()
            except OSError:
                return []
        wait_for(lambda: len(listed()) == count, what)
        return [int(x) for x in listed()]

    def supervisor_pid(self):
        try:
            with open(os.path.join(self.state, "sysg.pid")) as f:
                return int(f.read())
        except (OSError, ValueError):
            return 0

    def pid_json(self):
        try:
            with open(os.path.join(self.state, "pid.json")) as f:
                return json.load(f)["services"]
        except (OSError, ValueError, KeyError):
            return {}

    def log(self):
        try:
            with open(os.path.join(self.state, "supervisor.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop_supervisor(self):
        """SIGTERM to the recorded supervisor, if it runs, and waits for it to exit."""
        pid = self.supervisor_pid()
        if pid and alive(pid):
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not alive(pid), "the supervisor to exit")

    def kill_services(self, pids):
        """SIGKILL to what is left of the services: pids (a set) and those pid.json records."""
        pids.update(self.pid_json().values())
        for pid in pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def kill_all(procs):
    """SIGKILL to each Popen still running; reaps them all."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def terminate_all(procs, timeout):
    """SIGTERM to each Popen still running, SIGKILL after timeout seconds; reaps them all."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def with_project(make, *args):
    """A decorator: the test runs with the project make(*args), closed whatever happens."""
    def decorator(fn):
        def run():
            project = make(*args)
            try:
                return fn(project)
            finally:
                project.close()
        run.__name__ = fn.__name__
        return run
    return decorator
