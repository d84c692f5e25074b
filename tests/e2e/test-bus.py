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

from sgtest import DEADLINE, Results, alive, wait_for

SYSGD = os.environ["SG_TEST_SYSGD"]
SYSG = os.environ["SG_TEST_SYSG"]
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


class Project:
    """A configuration, a state directory and a sysgd on a private bus."""

    def __init__(self, yaml, bus):
        self.dir = tempfile.mkdtemp(prefix="sg-bus-e2e-")
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "systemg.yaml")
        self.bus = bus
        with open(self.config, "w") as f:
            f.write(yaml.replace("HELPER", HELPER).replace("DIR", self.dir))
        self.env = dict(os.environ, SYSTEMG_STATE_DIR=self.state, LANG="C",
                        DBUS_SESSION_BUS_ADDRESS=bus.address)
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

    def sysg(self, *args):
        return subprocess.run([SYSG] + list(args), env=self.env, capture_output=True,
                              text=True, timeout=60, cwd=self.dir)

    def state_of(self, name):
        return self.service_get(name, "State")

    def log(self):
        try:
            with open(os.path.join(self.state, "supervisor.log")) as f:
                return f.read()
        except OSError:
            return ""

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
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        for proc, out in self.monitors:
            proc.terminate()
            proc.wait()
            out.close()
        shutil.rmtree(self.dir, ignore_errors=True)


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


def main():
    tests = [test_spec_examples]
    for test in tests:
        RESULTS.check(test.__name__, test)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
