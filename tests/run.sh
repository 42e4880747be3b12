#!/bin/sh
# tests/run.sh BUILD_DIR [FUZZ_DIR] - run every test suite, count the results.
#
# Unit tests are cmocka programs (TAP output); integration tests are shell
# scripts under tests/integration that print TAP-style "ok - NAME" and
# "not ok - NAME" lines (and "# figure: ..." lines, shown under the
# suite's result); each libFuzzer harness in FUZZ_DIR is smoke-run
# over its seed corpus and counts as one test.  The last line is
# "N passed, N failed" (", N skipped" when any were skipped).
set -u
B=${1:?usage: tests/run.sh BUILD_DIR [FUZZ_DIR]}
F=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$B" && pwd)
LOGS=$B/test-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
pass=0 fail=0 skip=0

# count FILE: add its TAP lines to the totals; prints "p f s"
count() {
	awk '
	/^ok /     { if ($0 ~ /# SKIP/) s++; else p++; next }
	/^not ok / { if ($0 ~ /# SKIP/) s++; else f++; next }
	END { printf "%d %d %d\n", p, f, s }' "$1"
}

# suite NAME CMD...: run one suite, report it, add to the totals
suite() {
	name=$1
	shift
	log=$LOGS/$(echo "$name" | tr '/' '_').log
	"$@" >"$log" 2>&1
	rc=$?
	set -- $(count "$log")
	p=$1 f=$2 s=$3
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc" >>"$log"
		f=$((f + 1))
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name: $p passed, $f failed"
		sed 's/^/    /' "$log" | tail -n 60
	else
		echo "ok   $name: $p passed${s:+, $s skipped}" | sed 's/, 0 skipped//'
	fi
	grep '# SKIP' "$log" | sed 's/^/    /' | head -5
	# a suite's measured figures, for the reader of make check
	grep '^# figure: ' "$log" | sed 's/^# figure: /    /'
}

export CLARIFY="$B/clarify" CLARIFYD="$B/clarifyd" CLARIFY_ROOT="$ROOT"
export FAKELLM="$B/tests/fakellm/fakellm"
export NOTIFY_LISTEN="$B/tests/tools/notify_listen"
export SHARED_DATA="$ROOT/../shared/data"
export CLARIFY_CONFIG=/dev/null   # never pick up a system config
unset CLARIFY_STORE JOURNAL_STREAM
export CMOCKA_MESSAGE_OUTPUT=TAP
cd "$ROOT" || exit 1
[ -d "$SHARED_DATA" ] || echo "note: $SHARED_DATA is missing: tests that read the shared reference data skip"

for t in "$B"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	suite "unit/$(basename "$t")" "$t"
done
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	suite "integration/$(basename "$t" .sh)" sh "$t"
done
if [ -n "$F" ]; then
	for h in "$F"/tests/fuzz/fuzz_*; do
		[ -x "$h" ] || continue
		n=$(basename "$h")
		work=$(mktemp -d)
		suite "fuzz/$n" sh -c "'$h' -runs=3000 -max_total_time=15 -dict='tests/fuzz/$n.dict' \
			'$work' 'tests/fuzz/corpus/$n' >/dev/null 2>\"$work/log\" \
			&& echo 'ok - $n smoke run' || { tail -30 \"$work/log\"; echo 'not ok - $n smoke run'; }"
		rm -rf "$work"
	done
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
