#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The set-up script of the README: installs what is missing, builds, and runs either the
# bundled example ("example") or every test suite ("test").
#
#   ./bootstrap.sh example   build and run the main job on data/examples/
#   ./bootstrap.sh test      build twice (gcc -Werror, clang ASan+UBSan), run every suite,
#                            run the process-level suites again as an unprivileged user,
#                            fuzz each libFuzzer target for a bounded time, run the unit
#                            suites under valgrind, and print "N passed, N failed" over all
set -euo pipefail

cd "$(dirname "$0")"
top=$(pwd)

packages=(
	gcc clang libclang-rt-14-dev llvm-14 meson ninja-build pkg-config gettext
	libglib2.0-dev libjson-glib-dev libyaml-dev libsystemd-dev
	tzdata locales dbus-daemon dbus-bin python3 groff-base python3-dbusmock systemd valgrind
	postgresql
)

log() { printf '==> %s\n' "$*" >&2; }

install_packages() {
	local missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || {
			echo "bootstrap: not root and no sudo; install: ${missing[*]}" >&2
			exit 1
		}
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -q >/dev/null
	"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# The French test needs fr_FR.UTF-8; Debian ships it commented out in /etc/locale.gen.
ensure_locale() {
	if locale -a 2>/dev/null | grep -qix 'fr_FR\.utf-\?8'; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "fr_FR.UTF-8 is missing and we are not root: the French test will be skipped"
		return 0
	fi
	log "generating the fr_FR.UTF-8 locale"
	if ! grep -q '^fr_FR\.UTF-8 UTF-8' /etc/locale.gen 2>/dev/null; then
		if grep -q '^# *fr_FR\.UTF-8 UTF-8' /etc/locale.gen 2>/dev/null; then
			sed -i 's/^# *\(fr_FR\.UTF-8 UTF-8\)/\1/' /etc/locale.gen
		else
			echo 'fr_FR.UTF-8 UTF-8' >>/etc/locale.gen
		fi
	fi
	locale-gen >/dev/null
}

# build DIR [meson options...]: configure once, then compile.
build() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir" >/dev/null
}

# count DIR [LOG]: reads meson's machine-readable results (meson-logs/testlog.json, or
# LOG: a run with --wrapper W writes testlog-W.json) and prints "passed failed skipped".
count() {
	python3 - "$1/meson-logs/${2:-testlog.json}" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    lines = open(sys.argv[1]).read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    if not line.strip():
        continue
    result = json.loads(line).get("result", "")
    if result in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif result == "SKIP":
        skipped += 1
    else:
        failed += 1
print(passed, failed, skipped)
PY
}

total_passed=0
total_failed=0
total_skipped=0

# run_suites DIR LABEL [meson test args...]
run_suites() {
	local dir=$1 label=$2
	shift 2
	log "tests: $label"
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" || true
	read -r p f s < <(count "$dir")
	log "$label: $p passed, $f failed, $s skipped"
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
	total_skipped=$((total_skipped + s))
}

# The suites that start real processes run again unprivileged: root ignores file modes,
# reads other users' /proc and hides permission and containment bugs.
run_unprivileged() {
	local user=sysg-ci
	if [ "$(id -u)" -ne 0 ]; then
		log "already unprivileged: the first run covered it"
		return 0
	fi
	id "$user" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/sh "$user"
	local work
	work=$(mktemp -d /tmp/systemg-unprivileged.XXXXXX)
	tar -C "$top" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$work" -xf -
	chown -R "$user:" "$work"
	chmod 0755 "$work"
	log "build (unprivileged, as $user)"
	setpriv --reuid="$user" --regid="$user" --init-groups --reset-env \
		env HOME="$(getent passwd "$user" | cut -d: -f6)" PATH="$PATH" LANG=C.UTF-8 \
		bash -c "cd '$work' && meson setup build >/dev/null && ninja -C build >/dev/null"
	log "tests: unprivileged"
	setpriv --reuid="$user" --regid="$user" --init-groups --reset-env \
		env HOME="$(getent passwd "$user" | cut -d: -f6)" PATH="$PATH" LANG=C.UTF-8 \
		bash -c "cd '$work' && meson test -C build --print-errorlogs --num-processes 2 \
			--no-rebuild $(unprivileged_suites)" || true
	read -r p f s < <(count "$work/build")
	log "unprivileged: $p passed, $f failed, $s skipped"
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
	total_skipped=$((total_skipped + s))
	rm -rf "$work"
}

# Process-level suites; the unit suite also runs, since some unit tests spawn and kill
# processes of their own (state files under SIGKILL).
unprivileged_suites() {
	echo "--suite unit --suite integration --suite e2e --suite bus"
}

# Each libFuzzer target of tests/fuzz for a bounded time, two at a time (one per core):
# each counts as one test, failed by a crash, a leak or a hang (docs/fuzzing.md).
FUZZ_TARGETS=(config envfile cron state control)
FUZZ_SECONDS=${SYSTEMG_FUZZ_SECONDS:-45}
run_fuzzers() {
	local dir=build-fuzz results t
	log "build (clang, libFuzzer + ASan + UBSan)"
	if [ ! -f "$dir/build.ninja" ]; then
		CC=clang meson setup "$dir" -Dfuzz=true -Dwerror=true \
			-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	fi
	ninja -C "$dir" "${FUZZ_TARGETS[@]/#/tests/fuzz/fuzz-}" >/dev/null
	log "fuzzing: ${FUZZ_TARGETS[*]}, ${FUZZ_SECONDS} s each"
	results=$(mktemp -d /tmp/systemg-fuzz-results.XXXXXX)
	printf '%s\n' "${FUZZ_TARGETS[@]}" |
		xargs -P 2 -I '{}' tests/fuzz/run "$dir" '{}' "$FUZZ_SECONDS" "$results" || true
	local p=0 f=0
	for t in "${FUZZ_TARGETS[@]}"; do
		if [ -f "$results/$t.passed" ]; then p=$((p + 1)); else f=$((f + 1)); fi
	done
	rm -rf "$results"
	log "fuzz: $p passed, $f failed"
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
}

# The unit suites of the gcc build again, under valgrind memcheck.
run_valgrind() {
	log "tests: valgrind memcheck"
	rm -f build-ci/meson-logs/testlog-env.json
	tests/valgrind/run build-ci || true
	read -r p f s < <(count build-ci testlog-env.json)
	log "valgrind: $p passed, $f failed, $s skipped"
	total_passed=$((total_passed + p))
	total_failed=$((total_failed + f))
	total_skipped=$((total_skipped + s))
}

cmd_example() {
	install_packages
	log "build"
	build build
	log "sysg validate --config data/examples/web-stack.yaml"
	build/cli/sysg validate --config data/examples/web-stack.yaml
	log "sysg start --daemonize --config data/examples/web-stack.yaml"
	build/cli/sysg start --daemonize --config data/examples/web-stack.yaml
	log "the services stay up under sysgd; their state:"
	state_dir=${SYSTEMG_STATE_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/systemg}
	cat "$state_dir/state.json"
	log "logs are in $state_dir/logs; stop everything with: build/cli/sysg stop"
}

cmd_test() {
	install_packages
	ensure_locale
	log "build (gcc, warnings as errors)"
	build build-ci -Dwerror=true
	run_suites build-ci "gcc"

	log "build (clang, ASan + UBSan)"
	CC=clang build build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
	# Slow unwinding: GLib has no frame pointers, and suppressions match on full stacks.
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0
	export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
	# Suppressions match function names: the symbolizer must be found.
	export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	run_suites build-asan "asan" --timeout-multiplier 3
	unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS ASAN_SYMBOLIZER_PATH

	run_unprivileged
	run_fuzzers
	run_valgrind

	echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
	[ "$total_failed" -eq 0 ]
}

case "${1:-}" in
example) cmd_example ;;
test) cmd_test ;;
*)
	echo "usage: $0 example|test" >&2
	exit 2
	;;
esac
