#!/bin/sh
# SPDX-License-Identifier: MIT
# Translations, man pages and bash completion as installed files will use them (TAP).
#   test-i18n.sh SYSG PO_BUILD_DIR TESTS_SOURCE_DIR; SG_TEST_SYSGD names sysgd when set.
sysg=$1
podir=$2
src=$3
top="$src/.."
n=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n # SKIP $1"
}

# contains FILE TEXT: the file holds TEXT literally (fixed string, not a pattern).
contains() {
	grep -qF -- "$2" "$1"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The build tree's catalogs, not the installed ones; a clean state directory.
SYSTEMG_LOCALEDIR=$podir
SYSTEMG_STATE_DIR="$tmp/state"
export SYSTEMG_LOCALEDIR SYSTEMG_STATE_DIR
unset LANGUAGE LC_MESSAGES

fr() {
	LANG=fr_FR.UTF-8 LC_ALL=fr_FR.UTF-8 "$@"
}

en() {
	env -u LC_ALL LANG=C "$@"
}

printf 'version: "1"\nservices:\n  web:\n    command: "sleep 1000"\n' >"$tmp/ok.yaml"
broken="$src/data/broken.yaml"

if ! locale -a 2>/dev/null | grep -qix 'fr_FR\.utf-\{0,1\}8'; then
	echo "# the fr_FR.UTF-8 locale is not available; bootstrap.sh generates it as root"
	for what in "help" "validate" "status" "usage errors" "sysgd"; do
		skip "French $what: no fr_FR.UTF-8 locale"
	done
else
	test -f "$podir/fr/LC_MESSAGES/systemg.mo"
	ok $? "the French catalog is built"

	fr "$sysg" --help >"$tmp/out" 2>&1
	status=$?
	contains "$tmp/out" "Utilisation : sysg [OPTION...] COMMANDE [ARG...]" &&
		contains "$tmp/out" "Commandes :" &&
		contains "$tmp/out" "Vérifier un fichier de configuration et afficher chaque problème" &&
		[ $status = 0 ]
	r=$?
	ok $r "sysg --help is in French"
	[ $r = 0 ] || sed 's/^/# /' "$tmp/out"

	fr "$sysg" validate --config "$broken" >"$tmp/out" 2>"$tmp/err"
	status=$?
	contains "$tmp/err" \
		'services.api.restar_policy: clé inconnue « restar_policy » (vouliez-vous dire « restart_policy » ?)' &&
		contains "$tmp/err" "n'est pas un booléen en YAML 1.2 : écrivez true ou false" &&
		contains "$tmp/err" "cycle de dépendances : api -> web -> api" &&
		[ $status = 3 ]
	r=$?
	ok $r "sysg validate prints French problems and exits 3"
	[ $r = 0 ] || sed 's/^/# /' "$tmp/err"

	fr "$sysg" status --config "$tmp/ok.yaml" >"$tmp/out" 2>&1
	status=$?
	contains "$tmp/out" "systemg ne tourne pas : dernier état connu d'après les fichiers d'état" &&
		contains "$tmp/out" "État: stopped" && [ $status = 0 ]
	r=$?
	ok $r "sysg status with no supervisor is in French, state names untranslated"
	[ $r = 0 ] || sed 's/^/# /' "$tmp/out"

	fr "$sysg" frobnicate >"$tmp/out" 2>&1
	status=$?
	fr "$sysg" status --frobnicate >>"$tmp/out" 2>&1
	status2=$?
	contains "$tmp/out" "sysg: commande inconnue « frobnicate »" &&
		contains "$tmp/out" "Essayez « sysg --help »." &&
		contains "$tmp/out" "Essayez « sysg status --help »." &&
		[ $status = 2 ] && [ $status2 = 2 ]
	r=$?
	ok $r "usage errors are in French and exit 2"
	[ $r = 0 ] || sed 's/^/# /' "$tmp/out"

	if [ -n "$SG_TEST_SYSGD" ]; then
		fr "$SG_TEST_SYSGD" --help >"$tmp/out" 2>&1
		status=$?
		contains "$tmp/out" "Le démon superviseur de systemg." &&
			contains "$tmp/out" "Ne pas se connecter au bus de session D-Bus" && [ $status = 0 ]
		r=$?
		ok $r "sysgd --help is in French"
		[ $r = 0 ] || sed 's/^/# /' "$tmp/out"
	else
		skip "sysgd --help in French: SG_TEST_SYSGD is not set"
	fi
fi

en "$sysg" --help >"$tmp/out" 2>&1
contains "$tmp/out" "Usage: sysg [OPTION...] COMMAND [ARG...]" && ! contains "$tmp/out" "Utilisation"
ok $? "LANG=C: sysg --help is in English"

en "$sysg" validate --config "$broken" >"$tmp/out" 2>"$tmp/err"
contains "$tmp/err" 'unknown key "restar_policy" (did you mean "restart_policy"?)'
ok $? "LANG=C: sysg validate is in English"

en "$sysg" status --config "$tmp/ok.yaml" >"$tmp/out" 2>&1
contains "$tmp/out" "systemg is not running: last known state from the state files"
ok $? "LANG=C: sysg status is in English"

en "$sysg" frobnicate >"$tmp/out" 2>&1
contains "$tmp/out" 'sysg: unknown command "frobnicate"' && contains "$tmp/out" "Try 'sysg --help'."
ok $? "LANG=C: usage errors are in English"

# Every message translated, none fuzzy.
if command -v msgfmt >/dev/null 2>&1; then
	msgfmt --check --statistics -o /dev/null "$top/po/fr.po" >"$tmp/out" 2>&1
	status=$?
	[ $status = 0 ] && contains "$tmp/out" "translated messages." &&
		! grep -q 'fuzzy\|untranslated' "$tmp/out"
	ok $? "po/fr.po is complete: $(cat "$tmp/out")"
else
	skip "po/fr.po check: no msgfmt"
fi

# The man pages are well-formed roff: groff reports any warning on stderr.
for page in "$top"/data/man/sysg.1 "$top"/data/man/sysgd.8 "$top"/data/man/systemg.yaml.5; do
	if command -v groff >/dev/null 2>&1; then
		groff -man -ww -z "$page" >"$tmp/out" 2>&1
		status=$?
		[ $status = 0 ] && [ ! -s "$tmp/out" ]
		ok $? "man page $(basename "$page") renders without warnings"
		sed 's/^/# /' "$tmp/out"
	else
		skip "man page $(basename "$page"): no groff"
	fi
done

# Bash completion: parses, and completes commands, options and service names without a
# supervisor.
completion="$top/data/completion/sysg"
if command -v bash >/dev/null 2>&1; then
	bash -n "$completion"
	ok $? "the bash completion parses"
	printf 'version: "1"\nservices:\n  db:\n    command: "x"\n  "api-2":\n    exec: ["./a"]\n    depends_on: [db]\nlogs: { max_bytes: 10 }\n' \
		>"$tmp/complete.yaml"
	bash -c '
		. "$1"
		t() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _sysg; echo "${COMPREPLY[*]}"; }
		t sysg st
		t sysg --config "$2" stop --service ""
		t sysg restart --
		t sysg logs --kind s
	' sh "$completion" "$tmp/complete.yaml" >"$tmp/out" 2>&1
	printf '%s\n' "start stop status" "db api-2" "--service --daemonize --config --log-level --json --bus --help" \
		"stdout stderr supervisor" >"$tmp/want"
	diff -u "$tmp/want" "$tmp/out" >"$tmp/diff"
	ok $? "the bash completion completes commands, options and service names"
	sed 's/^/# /' "$tmp/diff"
else
	skip "bash completion: no bash"
fi

echo "1..$n"
