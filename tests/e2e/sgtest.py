# SPDX-License-Identifier: MIT
"""What the end-to-end tests share: TAP results, deadlines, process checks."""
import os
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
