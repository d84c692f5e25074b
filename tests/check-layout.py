#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layout rules of docs/architecture.md, checked on the tree: every include of a daemon
header carries its room's folder, no file includes a room above its own (or a sibling room),
no two modules include each other in a loop, and no source file is over 800 lines.

Usage: check-layout.py SOURCE_ROOT   (prints TAP; exit 1 on any violation)
"""
import os
import re
import sys

# The rooms of daemon/, lowest first. A room may include only rooms of a lower rank; rooms of
# one rank (control, bus) may not include each other.
RANKS = {
    "base": 0,
    "config": 1,
    "state": 2,
    "process": 3,
    "engine": 4,
    "api": 5,
    "control": 6,
    "bus": 6,
}
MAIN_RANK = 7
# cli/ links only the shared library: it may include rooms up to this rank.
CLI_MAX_RANK = RANKS["process"]
MAX_LINES = 800
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def source_files(root, top):
    for base, dirs, files in os.walk(os.path.join(root, top)):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(base, name), root)


def room_of(path):
    """The daemon room a file lives in, 'main' for daemon/main.c, None outside daemon/."""
    parts = path.split(os.sep)
    if parts[0] != "daemon":
        return None
    if len(parts) == 2:
        return "main"
    return parts[1]


def module_of(path):
    """A module is NAME.c with NAME.h and its private header NAME-private.h."""
    stem = os.path.splitext(path)[0]
    return stem[:-len("-private")] if stem.endswith("-private") else stem


def rank(room):
    return MAIN_RANK if room == "main" else RANKS.get(room)


def check(root):
    problems = {"folder": [], "upward": [], "cycle": [], "size": []}
    headers = {}  # daemon header basename -> path relative to daemon/
    for path in source_files(root, "daemon"):
        if path.endswith(".h"):
            headers.setdefault(os.path.basename(path), []).append(
                os.path.relpath(path, "daemon"))
    graph = {}
    files = list(source_files(root, "daemon")) + list(source_files(root, "cli"))
    files += list(source_files(root, "tests"))
    for path in files:
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            text = f.read()
        n_lines = text.count("\n")
        if n_lines > MAX_LINES and not path.startswith("tests" + os.sep):
            problems["size"].append((path, f"{path}: {n_lines} lines (at most {MAX_LINES})"))
        src_room = room_of(path)
        for inc in INCLUDE.findall(text):
            if inc == "config.h":
                continue
            target = inc if os.path.exists(os.path.join(root, "daemon", inc)) else None
            if target is None:
                if os.path.basename(inc) in headers and not os.path.exists(
                        os.path.join(root, os.path.dirname(path), inc)):
                    problems["folder"].append(
                        f"{path}: #include \"{inc}\" must name its room: "
                        f"\"{headers[os.path.basename(inc)][0]}\"")
                continue
            dst_room = room_of(os.path.join("daemon", target))
            if dst_room == "main" or rank(dst_room) is None:
                problems["folder"].append(f"{path}: #include \"{inc}\" is in no room")
                continue
            if src_room is None:
                if path.startswith("cli" + os.sep) and rank(dst_room) > CLI_MAX_RANK:
                    problems["upward"].append(
                        f"{path}: includes {inc}: cli/ links only base, config, state, process")
            elif src_room != dst_room and (rank(dst_room) >= rank(src_room)):
                problems["upward"].append(
                    f"{path} ({src_room}) includes {inc} ({dst_room}), a room not below its own")
            if not path.startswith("tests" + os.sep):
                graph.setdefault(module_of(path), set()).add(
                    module_of(os.path.join("daemon", target)))
    problems["cycle"] = find_cycles(graph)
    return problems


def find_cycles(graph):
    """Module-level include loops (a.c includes b.h, b.c includes a.h), each reported once."""
    cycles, seen = [], set()
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == node:
                continue
            if state.get(nxt) == 1:
                loop = stack[stack.index(nxt):] + [nxt]
                key = frozenset(loop)
                if key not in seen:
                    seen.add(key)
                    cycles.append(" -> ".join(loop))
            elif state.get(nxt) is None:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node, [])
    return cycles


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    problems = check(root)
    names = {
        "folder": "includes carry the room's folder",
        "upward": "no include of a room above or beside its own",
        "cycle": "no include cycle between modules",
        "size": f"no source file over {MAX_LINES} lines",
    }
    print(f"1..{len(names)}")
    failed = 0
    for i, (key, title) in enumerate(names.items(), 1):
        found = [item[1] if isinstance(item, tuple) else item for item in problems[key]]
        for line in found:
            print(f"# {line}")
        print(f"{'not ok' if found else 'ok'} {i} - {title}")
        failed += bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
