#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Chaos: sysgd killed with SIGKILL at random moments, 20 rounds, never a duplicate.

The seed is printed; SG_CHAOS_SEED=N replays a run, SG_CHAOS_ROUNDS=N changes its length.
"""
import json
import os
import random
import signal
import sys
import time

from sgtest import Results, alive, wait_for

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
persist = __import__("test-persist")  # the Project and /proc helpers of the persistence tests

RESULTS = Results()
PAUSE = '    exec: ["HELPER", "pause"]\n'
SLOW = ('    command: "sleep 0.3; touch DIR/ready-$$; exec HELPER pause"\n'
        '    health_check: { command: "test -f DIR/ready-$SYSTEMG_PID", interval: "100ms" }\n')
# The cron job runs every 3 s, so that most consistency checks (state files, status and
# /proc read one after the other) fall between two of its transitions.
PROJECT = ('version: "1"\nservices:\n'
           '  long1:\n' + PAUSE + '  long2:\n' + PAUSE
           + '  tick:\n    exec: ["HELPER", "sleep:400"]\n'
           '    cron: { expression: "*/3 * * * * *" }\n'
           + '  crash1:\n    exec: ["HELPER", "sleep:1500", "exit:1"]\n'
           '    restart_policy: always\n    backoff: 100ms\n'
           + '  crash2:\n    exec: ["HELPER", "sleep:2500", "exit:3"]\n'
           '    restart_policy: on-failure\n    backoff: 200ms\n'
           + '  slow1:\n' + SLOW + '  slow2:\n' + SLOW
           + '  dep1:\n' + PAUSE + '    depends_on: [slow1]\n'
           + '  dep2:\n' + PAUSE + '    depends_on: [long1, crash1]\n'
           + '  dep3:\n' + PAUSE + '    depends_on: [dep1, slow2]\n')
NAMES = ["long1", "long2", "tick", "crash1", "crash2", "slow1", "slow2", "dep1", "dep2", "dep3"]


def describe(p):
    """The services' states, for a failure message."""
    result = p.sysg("status", "--json")
    if result.returncode != 0:
        return result.stderr
    return ", ".join("%s=%s(%s)" % (s["name"], s["state"], s.get("cause"))
                     for s in json.loads(result.stdout)["services"])


def cron_problem(p):
    """None when cron_state.json parses and no two runs of the job ever overlapped."""
    try:
        history = p.read_json("cron_state.json")["jobs"]["tick"]["history"]
    except (OSError, ValueError, KeyError) as error:
        return "cron_state.json: %r" % error
    runs = [run for run in history if run["result"] != "overlap"]
    for before, after in zip(runs, runs[1:]):
        if after["started_at"] < before["finished_at"]:
            return "tick: two runs at once: %r %r" % (before, after)
    return None


def consistency_problem(p):
    """None when processes, pid.json, state.json and status agree; else what is wrong."""
    try:
        states = p.read_json("state.json")
        pids = p.read_json("pid.json")["services"]
    except (OSError, ValueError, KeyError) as error:
        return "state files: %r" % error
    result = p.sysg("status", "--json")
    if result.returncode != 0:
        return "status: %s" % result.stderr
    status = {s["name"]: s for s in json.loads(result.stdout)["services"]}
    processes = {}
    for pid, (service, invocation) in persist.marked_processes(states["state_id"]).items():
        processes.setdefault(service, []).append((pid, invocation))
    for name in NAMES:
        mine = processes.get(name, [])
        invocations = {invocation for _, invocation in mine}
        if len(invocations) > 1:
            return "%s: %d instances at once: %r" % (name, len(invocations), mine)
        service = status[name]
        if service["pid"] is not None:
            if [pid for pid, _ in mine] != [service["pid"]]:
                return "%s: status says PID %s, processes %r" % (name, service["pid"], mine)
        elif mine:
            return "%s: %s with no PID, yet processes %r" % (name, service["state"], mine)
        if pids.get(name) != service["pid"]:
            return "%s: pid.json %s, status %s" % (name, pids.get(name), service["pid"])
        recorded = states["services"].get(name, {})
        if recorded.get("status") != service["state"] or recorded.get("pid") != service["pid"]:
            return "%s: state.json %r, status %s %s" % (name, recorded, service["state"],
                                                        service["pid"])
    problem = cron_problem(p)
    if problem is not None:
        return problem
    extra = set(processes) - set(NAMES)
    if extra:
        return "processes of unknown services: %r" % extra
    return None


def test_chaos():
    seed = int(os.environ.get("SG_CHAOS_SEED", random.randrange(1 << 30)))
    rounds = int(os.environ.get("SG_CHAOS_ROUNDS", "20"))
    print("# chaos seed %d (replay with SG_CHAOS_SEED=%d)" % (seed, seed))
    rng = random.Random(seed)
    p = persist.Project(PROJECT)
    began = time.monotonic()
    try:
        for round_ in range(rounds):
            victim = p.sysgd()
            # 0 to 1.5 s, weighted towards the first instants, when most spawns happen
            time.sleep(1.5 * rng.random() ** 2)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            survivor = p.sysgd()
            try:
                wait_for(lambda: p.settled_since(survivor), "round %d to settle" % round_)
            except AssertionError:
                with open(survivor.stderr_path) as f:
                    err = f.read()
                raise AssertionError("round %d (seed %d) never settled: sysgd %s, %s; %s\n%s" % (
                    round_, seed, survivor.poll(), err, describe(p),
                    "\n".join(p.log().splitlines()[-40:])))
            problems = []

            def consistent():
                problem = consistency_problem(p)
                problems.append(problem)
                return problem is None
            try:
                wait_for(consistent, "a consistent state", deadline=10)
            except AssertionError:
                raise AssertionError("round %d (seed %d): %s" % (round_, seed, problems[-1]))
            if round_ % 5 == 4:
                # now and then a clean stop, so that the next kill lands in a first start
                stop = p.sysg("stop")
                assert stop.returncode == 0, stop
            survivor.send_signal(signal.SIGKILL)
            survivor.wait()
        state_id = p.state_id()
        p.sysgd()
        wait_for(lambda: p.settled_since(p.daemons[-1]), "the last supervisor to settle")
        stop = p.sysg("stop")
        assert stop.returncode == 0, stop
        left = persist.marked_processes(state_id)
        assert left == {}, "left after sysg stop: %r" % left
        elapsed = time.monotonic() - began
        print("# %d rounds in %.1f s" % (rounds, elapsed))
        log = p.log()
        for event in ("adopting", "found by its markers", "left without their main process",
                      "handled as crashes", "of another instance"):
            print("# %4d log lines with \"%s\"" % (log.count(event), event))
    finally:
        p.close()


def main():
    RESULTS.check("test_chaos", test_chaos)
    return RESULTS.report()


if __name__ == "__main__":
    sys.exit(main())
