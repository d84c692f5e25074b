#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""org.systemg on a private session bus: busctl against the real sysgd, signals, activation."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import sgtest
from sgtest import DEADLINE, Results, alive, wait_for

SYSGD = os.environ["SG_TEST_SYSGD"]
HELPER = os.environ["SG_TEST_HELPER_CHILD"]
SERVICE_FILE = os.environ.get("SG_TEST_DBUS_SERVICE_FILE", "")
DBUS_DIR = os.environ.get("SG_TEST_DBUS_XML_DIR", "")
RESULTS = Results()

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%(dir)s/bus</listen>
  <auth>EXTERNAL</auth>
  %(servicedir)s
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    %(others)s
  </policy>
</busconfig>
"""


class Bus:
    """A private session bus: our own dbus-daemon, stopped by its PID."""

    def __init__(self, servicedir=None, env=None, allow_others=False):
        self.dir = tempfile.mkdtemp(prefix="sg-bus-")
        os.chmod(self.dir, 0o755)
        config = os.path.join(self.dir, "bus.conf")
        with open(config, "w") as f:
            f.write(BUS_CONFIG % {
                "dir": self.dir,
                "servicedir": "<servicedir>%s</servicedir>" % servicedir if servicedir else "",
                "others": '<allow user="*"/>' if allow_others else "",
            })
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--config-file", config, "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=env or os.environ, cwd=self.dir)
        self.address = self.proc.stdout.readline().strip()
        assert self.address, "dbus-daemon gave no address"
        os.chmod(os.path.join(self.dir, "bus"), 0o777)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Project(sgtest.Project):
    """A configuration, a state directory and a sysgd on a private bus."""

    def __init__(self, yaml, bus):
        super().__init__(yaml, "sg-bus-e2e-")
        self.bus = bus
        self.env["DBUS_SESSION_BUS_ADDRESS"] = bus.address
        self.env.pop("XDG_RUNTIME_DIR", None)
        self.daemon = None
        self.monitors = []

    def start(self, *args):
        self.daemon = subprocess.Popen([SYSGD, "--config", self.config] + list(args),
                                       env=self.env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        wait_for(lambda: self.owned() or self.daemon.poll() is not None, "org.systemg")
        assert self.daemon.poll() is None, "sysgd exited: %s" % self.log()

    def owned(self):
        return self.busctl("status", "org.systemg", check=False).returncode == 0

    def busctl(self, *args, check=True):
        result = subprocess.run(["busctl", "--user"] + list(args), env=self.env,
                                capture_output=True, text=True, timeout=60)
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def call(self, method, *args, path="/org/systemg", interface="org.systemg.Manager",
             check=True):
        return self.busctl("--json=short", "call", "org.systemg", path, interface, method,
                           *args, check=check)

    def get(self, path, interface, prop):
        result = self.busctl("--json=short", "get-property", "org.systemg", path, interface,
                             prop)
        return json.loads(result.stdout)["data"]

    def service_get(self, name, prop):
        return self.get(service_path(name), "org.systemg.Service", prop)

    def state_of(self, name):
        return self.service_get(name, "State")

    def monitor(self):
        """Starts capturing what org.systemg sends; returns once the capture sees traffic."""
        out = open(os.path.join(self.dir, "monitor-%d.json" % len(self.monitors)), "w+")
        proc = subprocess.Popen(["busctl", "--user", "monitor", "--json=short",
                                 "org.systemg"], env=self.env, stdout=out,
                                stderr=subprocess.DEVNULL)
        self.monitors.append((proc, out))

        def seen_ping():
            self.busctl("call", "org.systemg", "/org/systemg", "org.freedesktop.DBus.Peer",
                        "Ping")
            return any(m.get("member") == "Ping" for m in read_monitor(out))
        wait_for(seen_ping, "the monitor to start")
        return out

    def close(self):
        """Stops everything; a daemon that did not exit cleanly (0) fails the test."""
        status = None
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                status = self.daemon.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        for proc, out in self.monitors:
            proc.terminate()
            proc.wait()
            out.close()
        log = self.log()
        super().close()
        assert status in (None, 0), "sysgd exited with %s: %s" % (status, log[-2000:])


def read_monitor(out):
    """Every complete message captured so far."""
    out.flush()
    with open(out.name) as f:
        lines = f.read().split("\n")
    messages = []
    for line in lines[:-1]:
        try:
            messages.append(json.loads(line))
        except ValueError:
            pass
    return messages


def signals(out, member, interface="org.systemg.Manager"):
    return [m for m in read_monitor(out)
            if m.get("type") == "signal" and m.get("member") == member
            and m.get("interface") == interface]


def service_path(name):
    """sd_bus_path_encode: every byte outside [A-Za-z0-9] as _XX."""
    return "/org/systemg/service/" + "".join(
        c if c.isascii() and c.isalnum() else "_%02x" % ord(c) for c in name)


def with_bus_project(yaml):
    def decorator(fn):
        def run():
            bus = Bus()
            project = Project(yaml, bus)
            try:
                project.start()
                return fn(project)
            finally:
                project.close()
                bus.close()
        run.__name__ = fn.__name__
        return run
    return decorator


TWO = ('version: "1"\nservices:\n'
       '  api:\n    exec: ["HELPER", "pause"]\n'
       '  my-db.x:\n    command: "exec HELPER pause"\n    restart_policy: always\n'
       '    depends_on: [api]\n')


@with_bus_project(TWO)
def test_spec_examples(p):
    wait_for(lambda: p.state_of("my-db.x") == "running", "my-db.x to run")
    listing = json.loads(p.call("ListServices").stdout)
    assert listing["type"] == "a(sssuo)", listing
    rows = {row[0]: row for row in listing["data"][0]}
    assert set(rows) == {"api", "my-db.x"}, rows
    assert rows["api"][1:3] == ["service", "running"], rows
    assert rows["my-db.x"][4] == "/org/systemg/service/my_2ddb_2ex", rows
    assert alive(rows["api"][3])
    old_pid = rows["api"][3]
    # RestartService answers once the new instance is up
    p.call("RestartService", "s", "api")
    assert p.state_of("api") == "running"
    new_pid = p.service_get("api", "Pid")
    assert new_pid != old_pid and alive(new_pid) and not alive(old_pid)
    text = p.busctl("get-property", "org.systemg", "/org/systemg/service/api",
                    "org.systemg.Service", "State").stdout
    assert text.strip() == 's "running"', text
    path = json.loads(p.call("GetService", "s", "my-db.x").stdout)["data"][0]
    assert path == "/org/systemg/service/my_2ddb_2ex", path
    tree = p.busctl("tree", "org.systemg").stdout
    assert "/org/systemg/service/api" in tree and "my_2ddb_2ex" in tree, tree



def normalize(interface):
    """An interface element as comparable data: members by name, arguments in order."""
    members = {}
    for element in interface:
        if element.tag not in ("method", "signal", "property"):
            continue
        args = tuple((a.get("name"), a.get("type"),
                      a.get("direction", "in" if element.tag == "method" else "out"))
                     for a in element.findall("arg"))
        annotations = tuple(sorted((a.get("name"), a.get("value"))
                                   for a in element.findall("annotation")))
        members[(element.tag, element.get("name"))] = (
            args, element.get("type"), element.get("access"), annotations)
    return members


def interface_of(text, name):
    root = ET.fromstring(text)
    for interface in root.findall("interface"):
        if interface.get("name") == name:
            return normalize(interface)
    raise AssertionError("no interface %s in %s" % (name, text))


@with_bus_project(TWO)
def test_introspection_matches_xml(p):
    for name, path in (("org.systemg.Manager", "/org/systemg"),
                       ("org.systemg.Service", "/org/systemg/service/api")):
        with open(os.path.join(DBUS_DIR, name + ".xml")) as f:
            contract = interface_of(f.read(), name)
        live_xml = p.busctl("introspect", "--xml-interface", "org.systemg", path).stdout
        live = interface_of(live_xml, name)
        missing = set(contract) ^ set(live)
        assert not missing, "members differ: %s" % sorted(missing)
        for key in contract:
            assert contract[key] == live[key], (key, contract[key], live[key])
    om = p.busctl("introspect", "--xml-interface", "org.systemg", "/org/systemg").stdout
    assert "org.freedesktop.DBus.ObjectManager" in om


@with_bus_project(TWO + '  bad:\n    exec: ["HELPER", "exit:3"]\n')
def test_error_names(p):
    def error_name(method, *args):
        return dbus_send_error(p.env, method, *args)

    for method in ("StartService", "StopService", "RestartService", "GetService"):
        name, text = error_name(method, "string:nope")
        assert name == "org.systemg.Error.NoSuchService", text
        assert "no such service: nope" in text, text
    name, text = error_name("GetLogs", "string:nope", "string:", "uint32:5")
    assert name == "org.systemg.Error.NoSuchService", text
    name, text = error_name("GetLogs", "string:", "string:stdout", "uint32:5")
    assert name == "org.freedesktop.DBus.Error.InvalidArgs", text
    # a start that fails: Failed, with the socket's text
    name, text = error_name("StartService", "string:bad")
    assert name == "org.systemg.Error.Failed", text
    assert "bad did not start: failed" in text, text


def dbus_send_error(env, method, *args, address=None, user=None):
    """The error name and text of a Manager call that must fail (dbus-send shows the name)."""
    cmd = ["dbus-send", "--bus=" + (address or env["DBUS_SESSION_BUS_ADDRESS"]),
           "--print-reply", "--dest=org.systemg", "/org/systemg",
           "org.systemg.Manager." + method] + list(args)
    if user is not None:
        cmd = ["setpriv", "--reuid=" + user, "--regid=" + user, "--clear-groups"] + cmd
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, result
    match = re.search(r"Error (\S+):", result.stderr)
    assert match, result.stderr
    return match.group(1), result.stderr


@with_bus_project(TWO)
def test_invalid_config_error(p):
    wait_for(lambda: p.state_of("api") == "running", "api to run")
    bad = os.path.join(p.dir, "bad.yaml")
    with open(bad, "w") as f:
        f.write('version: "1"\nservices:\n  x:\n    comand: "true"\n')
    name, text = dbus_send_error(p.env, "Reload", "string:" + bad)
    if name == "org.systemg.Error.Failed" and "reload is not available" in text:
        return "Reload is not built yet: InvalidConfig not reachable"
    assert name == "org.systemg.Error.InvalidConfig", text
    assert "comand" in text, text
    assert p.state_of("api") == "running", "an invalid file changes nothing"
    return None


CI_USER = "sysg-ci"


def test_access_denied():
    """A caller of another UID: refused, and nothing happens (needs root and the CI user)."""
    if os.geteuid() != 0:
        return "needs root to call as another user"
    try:
        import pwd
        pwd.getpwnam(CI_USER)
    except KeyError:
        return "no user " + CI_USER
    bus = Bus(allow_others=True)
    p = Project(TWO, bus)
    try:
        p.start()
        wait_for(lambda: p.state_of("api") == "running", "api to run")
        for method, args in (("ListServices", []), ("StopService", ["string:api"]),
                             ("Stop", []), ("Shutdown", []),
                             ("GetLogs", ["string:", "string:", "uint32:5"])):
            name, text = dbus_send_error(p.env, method, *args, user=CI_USER)
            assert name == "org.systemg.Error.AccessDenied", (method, text)
        # the service object's methods too
        cmd = ["setpriv", "--reuid=" + CI_USER, "--regid=" + CI_USER, "--clear-groups",
               "dbus-send", "--bus=" + bus.address, "--print-reply", "--dest=org.systemg",
               service_path("api"), "org.systemg.Service.Stop"]
        result = subprocess.run(cmd, env=p.env, capture_output=True, text=True, timeout=60)
        assert "org.systemg.Error.AccessDenied" in result.stderr, result
        assert p.state_of("api") == "running"
        assert p.daemon.poll() is None
        assert "refused" in p.log() and "UID" in p.log(), p.log()
    finally:
        p.close()
        bus.close()
    return None


def other_user():
    """The UID and GID of a user that is not us: the CI user, or nobody."""
    import pwd
    for name in (CI_USER, "nobody"):
        try:
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            pass
    return None


def test_properties_denied_to_others():
    """Another UID reads no property (command lines are private); refusals of a flood of
    calls make a few log lines, not one each (needs root)."""
    if os.geteuid() != 0:
        return "needs root to call as another user"
    user = other_user()
    if user is None:
        return "no other user to call as"
    bus = Bus(allow_others=True)
    p = Project(TWO, bus)
    try:
        p.start()
        wait_for(lambda: p.state_of("api") == "running", "api to run")
        send = ["setpriv", "--reuid=%d" % user[0], "--regid=%d" % user[1], "--clear-groups",
                "dbus-send", "--bus=" + bus.address, "--print-reply", "--dest=org.systemg"]
        api = service_path("api")
        props = "org.freedesktop.DBus.Properties."
        for call in ([api, props + "Get", "string:org.systemg.Service", "string:Command"],
                     [api, props + "GetAll", "string:org.systemg.Service"],
                     ["/org/systemg", props + "Get", "string:org.systemg.Manager",
                      "string:ConfigPath"],
                     ["/org/systemg", props + "GetAll", "string:org.systemg.Manager"],
                     ["/org/systemg", "org.freedesktop.DBus.ObjectManager.GetManagedObjects"]):
            result = subprocess.run(send + call, env=p.env, capture_output=True, text=True,
                                    timeout=60)
            assert result.returncode != 0, (call, result.stdout)
            assert "org.systemg.Error.AccessDenied" in result.stderr, (call, result.stderr)
            assert HELPER not in result.stdout + result.stderr, call
        # introspection stays open to everyone; the owner still reads everything
        result = subprocess.run(send + ["/org/systemg",
                                        "org.freedesktop.DBus.Introspectable.Introspect"],
                                env=p.env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert HELPER in p.service_get("api", "Command")
        # a flood of refusals
        refusals = 200
        script = 'for i in $(seq %d); do "$@" >/dev/null 2>&1; done; true' % refusals
        start = time.monotonic()
        subprocess.run(["sh", "-c", script, "sh"] + send + [api, props + "Get",
                                                            "string:org.systemg.Service",
                                                            "string:Command"],
                       env=p.env, timeout=120, check=True)
        took = time.monotonic() - start

        def logged():
            """Refusals the log accounts for: one a line, or counted in a summary line."""
            total = 0
            for line in p.log().splitlines():
                match = re.search(r"(\d+) more in the last second", line)
                total += int(match.group(1)) if match else "refused" in line
            return total
        # every refusal is accounted for (five above, then the flood), in a few lines
        wait_for(lambda: logged() >= refusals + 5, "the refusals to be counted")
        lines = [l for l in p.log().splitlines() if "refused" in l]
        assert len(lines) <= took + 4, "%d lines in %.1f s" % (len(lines), took)
    finally:
        p.close()
        bus.close()
    return None


@with_bus_project('version: "1"\nlogs: { max_bytes: 0 }\nservices:\n'
                  '  api:\n    exec: ["HELPER", "pause"]\n')
def test_get_logs_of_long_lines(p):
    """1,500 lines of 64 KiB: GetLogs answers the newest that fit in 4 MiB, quickly, and
    another caller is served meanwhile."""
    wait_for(lambda: p.state_of("api") == "running", "api to run")
    line = 64 * 1024
    filler = b"x" * (line - 8)
    with open(os.path.join(p.state, "logs", "api_stdout.log"), "ab") as f:
        for i in range(1500):
            f.write(b"%06d " % i + filler + b"\n")
    start = time.monotonic()
    logs = subprocess.Popen(["busctl", "--user", "--json=short", "call", "org.systemg",
                             "/org/systemg", "org.systemg.Manager", "GetLogs", "ssu", "api",
                             "stdout", "1500"], env=p.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert p.state_of("api") == "running"
    out, err = logs.communicate(timeout=60)
    took = time.monotonic() - start
    assert logs.returncode == 0, err
    assert took < 3, "GetLogs took %.1f s" % took
    lines = json.loads(out)["data"][0]
    numbers = [int(l.split(" ", 1)[0]) for l in lines]
    assert numbers == list(range(1500 - len(lines), 1500)), numbers[:3]
    assert 0 < sum(len(l) + 1 for l in lines) <= 4 * 1024 * 1024


@with_bus_project('version: "1"\nservices:\n'
                  '  api:\n    exec: ["HELPER", "pause"]\n'
                  '  job:\n    command: "exit 0"\n'
                  '  bad:\n    exec: ["HELPER", "stdout:x", "exit:3"]\n'
                  '  dep:\n    exec: ["HELPER", "pause"]\n    depends_on: [api]\n'
                  '    restart_policy: on-failure\n')
def test_properties_agree_with_status(p):
    wait_for(lambda: p.state_of("dep") == "running" and p.state_of("job") == "exited"
             and p.state_of("bad") == "failed", "services to settle")
    status = json.loads(p.sysg("status", "--json").stdout)
    assert status["supervisor"]["pid"] == p.get("/org/systemg", "org.systemg.Manager", "Pid")
    assert status["supervisor"]["state_dir"] == p.get("/org/systemg", "org.systemg.Manager",
                                                      "StateDirectory")
    assert status["supervisor"]["config"] == p.get("/org/systemg", "org.systemg.Manager",
                                                   "ConfigPath")
    assert status["supervisor"]["version"] == p.get("/org/systemg", "org.systemg.Manager",
                                                    "Version")
    for service in status["services"]:
        name = service["name"]
        props = json.loads(p.busctl("--json=short", "call", "org.systemg", service_path(name),
                                    "org.freedesktop.DBus.Properties", "GetAll", "s",
                                    "org.systemg.Service").stdout)["data"][0]
        values = {key: value["data"] for key, value in props.items()}
        assert values["Name"] == name
        assert values["Kind"] == service["kind"], (name, values, service)
        assert values["State"] == service["state"], (name, values, service)
        assert values["Pid"] == (service["pid"] or 0), (name, values, service)
        assert values["RestartCount"] == service["restart_count"], (name, values, service)
        expected_code = service["exit_code"] if service["exit_code"] is not None else -1
        assert values["ExitCode"] == expected_code, (name, values, service)
        assert values["ExitSignal"] == (service["exit_signal"] or 0), (name, values, service)
        assert values["StartedAt"] == usec(service["started_at"]), (name, values, service)
        assert values["Command"] == service["command"], (name, values, service)
        assert values["RestartPolicy"] == service["restart_policy"], (name, values, service)
        assert values["DependsOn"] == service["depends_on"], (name, values, service)
        if service["pid"]:
            assert values["MemoryBytes"] > 0, (name, values)


def usec(text):
    """RFC 3339 UTC with microseconds to microseconds since the epoch; 0 for null."""
    if text is None:
        return 0
    match = re.fullmatch(r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(?:\.(\d+))?Z", text)
    assert match, text
    import calendar
    fields = [int(x) for x in match.groups()[:6]]
    fraction = (match.group(7) or "0").ljust(6, "0")[:6]
    return calendar.timegm(fields) * 1000000 + int(fraction)


@with_bus_project('version: "1"\nservices:\n'
                  '  crashy:\n    exec: ["HELPER", "pause"]\n    restart_policy: always\n'
                  '    backoff: "200ms"\n')
def test_crash_and_restart_signals(p):
    wait_for(lambda: p.state_of("crashy") == "running", "crashy to run")
    out = p.monitor()
    pid = p.service_get("crashy", "Pid")
    os.kill(pid, signal.SIGKILL)

    def announced_states():
        return [m["payload"]["data"][1]["State"]["data"]
                for m in signals(out, "PropertiesChanged", "org.freedesktop.DBus.Properties")
                if m["path"] == service_path("crashy") and "State" in m["payload"]["data"][1]]

    def restarted():
        pairs = [m["payload"]["data"] for m in signals(out, "ServiceStateChanged")]
        # the monitor prints one signal at a time: wait for both of the last change
        if pairs and pairs[-1] == ["crashy", "starting", "running"] and \
                announced_states()[-1:] == ["running"]:
            return pairs
        return None
    pairs = wait_for(restarted, "crashy to be restarted")
    # a chain: each change starts where the last one ended
    assert pairs[0][1] == "running", pairs
    for before, after in zip(pairs, pairs[1:]):
        assert before[2] == after[1], pairs
    states = [pair[2] for pair in pairs]
    assert "backoff" in states and states[-2:] == ["starting", "running"], states
    # the same states through PropertiesChanged on the service's object, in the same order
    changed = [m for m in signals(out, "PropertiesChanged", "org.freedesktop.DBus.Properties")
               if m["path"] == service_path("crashy")]
    announced = [m["payload"]["data"][1]["State"]["data"] for m in changed
                 if "State" in m["payload"]["data"][1]]
    assert announced == states, (announced, states)
    everything = set()
    for m in changed:
        everything |= set(m["payload"]["data"][1])
    assert {"Pid", "Pgid", "ExitSignal", "RestartCount", "StartedAt", "Cause"} <= everything, \
        everything
    new_pid = p.service_get("crashy", "Pid")
    assert new_pid != pid and alive(new_pid), (pid, new_pid)
    # the crash was announced with its signal
    signals_seen = [m["payload"]["data"][1]["ExitSignal"]["data"] for m in changed
                    if "ExitSignal" in m["payload"]["data"][1]]
    assert 9 in signals_seen, signals_seen


@with_bus_project('version: "1"\nservices:\n'
                  '  tick:\n    exec: ["HELPER", "exit:3"]\n'
                  '    cron: { expression: "* * * * * *" }\n')
def test_cron_job_on_the_bus(p):
    out = p.monitor()

    def finished():
        found = signals(out, "CronJobFinished")
        return found if found else None
    first = wait_for(finished, "a CronJobFinished signal")[0]["payload"]
    assert first["type"] == "ssitt", first
    name, result, exit_code, started, ended = first["data"]
    assert (name, result, exit_code) == ("tick", "failed", 3), first
    assert 0 < started <= ended, first
    path = service_path("tick")
    assert p.service_get("tick", "CronExpression") == "* * * * * *"
    assert p.service_get("tick", "LastResult") == "failed"
    next_run = p.service_get("tick", "NextRun")
    assert next_run > ended, (next_run, ended)

    def announced():
        names = set()
        for m in signals(out, "PropertiesChanged", "org.freedesktop.DBus.Properties"):
            if m["path"] == path:
                names |= set(m["payload"]["data"][1])
        # LastResult is announced only when it changes: every run here fails, so after
        # the first run (perhaps before the capture began) only NextRun moves.
        return "NextRun" in names
    wait_for(announced, "PropertiesChanged for NextRun")


MANY = 200


@with_bus_project('version: "1"\nservices:\n'
                  + "".join('  s%03d:\n    exec: ["HELPER", "pause"]\n' % i
                            for i in range(MANY)))
def test_no_signal_lost(p):
    wait_for(lambda: all(row[2] == "running" for row in
                         json.loads(p.call("ListServices").stdout)["data"][0]),
             "every service to run")
    p.call("Stop")
    out = p.monitor()
    # every service starts at once; Start answers when all are up
    p.call("Start")
    expected = {"s%03d" % i: [["stopped", "starting"], ["starting", "running"]]
                for i in range(MANY)}

    def all_seen():
        seen = {}
        for m in signals(out, "ServiceStateChanged"):
            name, old, new = m["payload"]["data"]
            seen.setdefault(name, []).append([old, new])
        return seen if seen == expected else None
    try:
        wait_for(all_seen, "a ServiceStateChanged for every change")
    except AssertionError:
        seen = {}
        for m in signals(out, "ServiceStateChanged"):
            seen.setdefault(m["payload"]["data"][0], []).append(m["payload"]["data"][1:])
        wrong = {k: v for k, v in seen.items() if v != expected.get(k)}
        raise AssertionError("%d services seen, wrong: %s" % (len(seen), list(wrong.items())[:5]))


@with_bus_project('version: "1"\nservices:\n'
                  '  api:\n    exec: ["HELPER", "pause"]\n'
                  '  stubborn:\n    exec: ["HELPER", "ignore-term", "stdout:up", "pause"]\n'
                  '    stop_timeout: "2s"\n')
def test_one_set_of_operations(p):
    """A stop of everything asked on the socket refuses a start asked on the bus."""
    import socket
    def set_up():
        try:
            with open(os.path.join(p.state, "logs", "stubborn_stdout.log")) as f:
                return "up" in f.read()
        except OSError:
            return False
    wait_for(set_up, "stubborn to ignore SIGTERM")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(os.path.join(p.state, "control.sock"))
    try:
        sock.sendall(b'{"jsonrpc": "2.0", "id": 1, "method": "stop"}\n')
        wait_for(lambda: p.state_of("stubborn") == "stopping", "the stop to begin")
        name, text = dbus_send_error(p.env, "StartService", "string:api")
        assert name == "org.systemg.Error.Failed", text
        assert "being stopped" in text, text
        sock.settimeout(DEADLINE)
        answer = json.loads(sock.makefile().readline())
        assert answer.get("result") == {}, answer
    finally:
        sock.close()
    assert p.state_of("api") == "stopped" and p.state_of("stubborn") == "stopped"
    # and once that is done, the bus starts them again
    p.call("Start")
    assert p.state_of("api") == "running"


@with_bus_project(TWO)
def test_idle_on_the_bus(p):
    wait_for(lambda: p.state_of("my-db.x") == "running", "my-db.x to run")
    time.sleep(0.3)  # let the last state write finish
    before = sgtest.context_switches(p.daemon.pid)
    time.sleep(1.5)  # the observation window itself
    after = sgtest.context_switches(p.daemon.pid)
    assert after == before, "%d context switches while idle" % (after - before)


def test_no_bus_and_lost_bus():
    bus = Bus()
    p = Project(TWO, bus)
    try:
        # no session bus: a warning, and the daemon runs
        env = dict(p.env)
        env.pop("DBUS_SESSION_BUS_ADDRESS")
        env["XDG_RUNTIME_DIR"] = os.path.join(p.dir, "no-runtime-dir")
        lonely = subprocess.Popen([SYSGD, "--config", p.config], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: "no session bus" in p.log(), "the no-bus warning")
            wait_for(lambda: "all services settled: 2 running" in p.log(), "services")
            assert lonely.poll() is None
        finally:
            lonely.terminate()
            assert lonely.wait(timeout=DEADLINE) == 0
        # --no-bus: not on the bus even with one there
        quiet = subprocess.Popen([SYSGD, "--config", p.config, "--no-bus"], env=p.env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: p.log().count("all services settled") == 2, "services")
            assert not p.owned()
        finally:
            quiet.terminate()
            assert quiet.wait(timeout=DEADLINE) == 0
        # the bus goes away under a running daemon: it goes on without it
        p.start()
        wait_for(lambda: p.log().count("all services settled") == 3, "services")
        bus.proc.terminate()
        bus.proc.wait()
        wait_for(lambda: "lost the D-Bus connection" in p.log(), "the lost-bus warning")
        status = p.sysg("status", "--json")
        assert status.returncode == 0, status
        assert p.daemon.poll() is None
        p.daemon.terminate()
        assert p.daemon.wait(timeout=DEADLINE) == 0
    finally:
        p.close()
        bus.close()


def test_name_already_owned():
    bus = Bus()
    first = Project(TWO, bus)
    second = Project(TWO, bus)
    try:
        first.start()
        second.daemon = subprocess.Popen([SYSGD, "--config", second.config], env=second.env,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: "org.systemg is already owned" in second.log(), "the log line")
        assert second.daemon.poll() is None, "runs on without the name"
        # the name stays with the first
        assert first.get("/org/systemg", "org.systemg.Manager", "StateDirectory") == first.state
    finally:
        second.close()
        first.close()
        bus.close()


def test_activation():
    work = tempfile.mkdtemp(prefix="sg-bus-activation-")
    services = os.path.join(work, "services")
    state = os.path.join(work, "state")
    config_home = os.path.join(work, "config")
    os.makedirs(services)
    os.makedirs(os.path.join(config_home, "systemg"))
    config = os.path.join(config_home, "systemg", "systemg.yaml")
    with open(config, "w") as f:
        f.write('version: "1"\nservices:\n  hello:\n    exec: ["%s", "pause"]\n' % HELPER)
    # the build's service file, pointing at the build's sysgd
    with open(SERVICE_FILE) as f:
        text = f.read()
    assert re.search(r"^Name=org\.systemg$", text, re.M), text
    assert re.search(r"^Exec=\S*/sysgd$", text, re.M), text
    with open(os.path.join(services, "org.systemg.service"), "w") as f:
        f.write(re.sub(r"^Exec=.*$", "Exec=" + SYSGD, text, flags=re.M))
    env = dict(os.environ, SYSTEMG_STATE_DIR=state, XDG_CONFIG_HOME=config_home, LANG="C")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    bus = Bus(servicedir=services, env=env)
    pid = 0
    try:
        call_env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)
        assert not os.path.exists(os.path.join(state, "sysg.pid"))
        result = subprocess.run(["busctl", "--user", "--json=short", "call", "org.systemg",
                                 "/org/systemg", "org.systemg.Manager", "ListServices"],
                                env=call_env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result
        rows = json.loads(result.stdout)["data"][0]
        assert [row[0] for row in rows] == ["hello"], rows
        with open(os.path.join(state, "sysg.pid")) as f:
            pid = int(f.read())
        assert alive(pid)
        result = subprocess.run(["busctl", "--user", "get-property", "org.systemg",
                                 "/org/systemg", "org.systemg.Manager", "ConfigPath"],
                                env=call_env, capture_output=True, text=True, timeout=60)
        assert result.stdout.strip() == 's "%s"' % config, result
        # what tells sysgd it was activated is not passed on to its services
        with open("/proc/%d/environ" % pid, "rb") as f:
            assert b"DBUS_STARTER_BUS_TYPE=session" in f.read().split(b"\0")
        result = subprocess.run(["busctl", "--user", "--json=short", "get-property",
                                 "org.systemg", "/org/systemg/service/hello",
                                 "org.systemg.Service", "Pid"],
                                env=call_env, capture_output=True, text=True, timeout=60)
        service_pid = json.loads(result.stdout)["data"]
        with open("/proc/%d/environ" % service_pid, "rb") as f:
            environ = f.read().split(b"\0")
        assert any(v.startswith(b"SYSTEMG_SERVICE=hello") for v in environ), environ
        assert not any(v.startswith(b"DBUS_STARTER_") for v in environ), environ
    finally:
        if pid and alive(pid):
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not alive(pid), "the activated sysgd to exit")
        bus.close()
        shutil.rmtree(work, ignore_errors=True)


def main():
    tests = [test_spec_examples, test_introspection_matches_xml, test_error_names,
             test_invalid_config_error, test_access_denied, test_properties_denied_to_others,
             test_properties_agree_with_status,
             test_get_logs_of_long_lines, test_crash_and_restart_signals,
             test_cron_job_on_the_bus, test_one_set_of_operations,
             test_no_signal_lost, test_idle_on_the_bus, test_no_bus_and_lost_bus,
             test_name_already_owned, test_activation]
    for test in tests:
        RESULTS.check(test.__name__, test)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
