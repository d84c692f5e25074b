#!/bin/sh
# SPDX-License-Identifier: MIT
# sysg validate through the real binary: output, exit codes, --json (TAP).
sysg=$1
src=$2
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for example in "$src"/../data/examples/*.yaml; do
	"$sysg" validate --config "$example" >"$tmp/out" 2>"$tmp/err"
	ok $? "example $(basename "$example") is valid"
done

"$sysg" validate --config "$src/data/broken.yaml" >"$tmp/out" 2>"$tmp/err"
ok $(($? != 3)) "a broken file exits 3"
f="$src/data/broken.yaml"
cat >"$tmp/want" <<WANT
$f:5:5: services.api.restar_policy: unknown key "restar_policy" (did you mean "restart_policy"?)
$f:8:21: services.web.exec[1]: undefined variable "UNDEFINED_IN_TEST"
$f:9:18: services.web.depends_on[0]: dependency cycle: api -> web -> api
$f:10:11: services.web.skip: "yes" is not a boolean in YAML 1.2: write true or false
$f:11:14: services.web.backoff: invalid duration "1.5s": use a whole number with unit ms, s, m or h (at most 30 days)
WANT
diff -u "$tmp/want" "$tmp/err" >"$tmp/diff"
ok $? "every problem is printed with its line, column and path"
[ ! -s "$tmp/diff" ] || sed 's/^/# /' "$tmp/diff"

"$sysg" validate --json --config "$src/data/broken.yaml" >"$tmp/json" 2>"$tmp/err"
ok $(($? != 3)) "--json exits 3 on a broken file"
python3 - "$tmp/json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["valid"] is False
assert len(doc["problems"]) == 5
p = doc["problems"][0]
assert (p["line"], p["column"], p["path"], p["severity"]) == (5, 5, "services.api.restar_policy", "error")
PY
ok $? "--json lists the problems with their places"

"$sysg" validate --config "$src/data/cron-never.yaml" >"$tmp/out" 2>"$tmp/err"
ok $(($? != 3)) "a cron expression that never fires exits 3"
f="$src/data/cron-never.yaml"
cat >"$tmp/want" <<WANT
$f:8:25: services.february.cron.expression: cron expression never fires: no month of its month field (FEB) has a day of its day-of-month field (30)
$f:12:19: services.short-months.cron.expression: cron expression never fires: no month of its month field (APR, JUN, SEP, NOV) has a day of its day-of-month field (31)
WANT
diff -u "$tmp/want" "$tmp/err" >"$tmp/diff"
ok $? "a cron expression that never fires is named at its line and column"
[ ! -s "$tmp/diff" ] || sed 's/^/# /' "$tmp/diff"

"$sysg" validate --config "$tmp/none.yaml" >"$tmp/out" 2>"$tmp/err"
ok $(($? != 3)) "a missing file exits 3"
grep -q "none.yaml" "$tmp/err"
ok $? "a missing file is named"

(cd "$tmp" && "$sysg" validate >"$tmp/out" 2>"$tmp/err")
ok $(($? != 3)) "no configuration found exits 3"
grep -q "systemg.yaml" "$tmp/err"
ok $? "discovery names where it looked"

"$sysg" validate --bogus >"$tmp/out" 2>"$tmp/err"
ok $(($? != 2)) "an unknown option exits 2"
grep -q "Try 'sysg validate --help'" "$tmp/err"
ok $? "a usage error prints a hint"

"$sysg" frobnicate >"$tmp/out" 2>"$tmp/err"
ok $(($? != 2)) "an unknown command exits 2"

"$sysg" --version >"$tmp/out"
ok $? "--version exits 0"
grep -q "^sysg [0-9]" "$tmp/out"
ok $? "--version prints the version"

"$sysg" validate --help >"$tmp/out"
ok $? "validate --help exits 0"

printf 'version: "1"\nservices:\n  a:\n    exec: ["./missing-program"]\n' >"$tmp/warn.yaml"
"$sysg" validate --config "$tmp/warn.yaml" >"$tmp/out" 2>"$tmp/err"
ok $? "warnings alone exit 0"
grep -q "warning: program" "$tmp/err"
ok $? "a missing program is a warning"

echo "1..$n"
exit $failed
