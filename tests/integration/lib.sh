# tests/integration/lib.sh - sourced by the integration tests.
#
# Each test prints "ok - NAME" or "not ok - NAME" (TAP style) through
# ok/fail/check; a skipped one prints "ok - NAME # SKIP why".  T is a
# fresh temporary folder, removed at exit.
set -u
: "${CLARIFY:?run through tests/run.sh or make check}"
T=$(mktemp -d "${TMPDIR:-/tmp}/clarify-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
ROOT=${CLARIFY_ROOT:-$(pwd)}
TESTDATA=$ROOT/tests/data
failed=0

ok() { echo "ok - $1"; }
fail() {
	echo "not ok - $1"
	shift
	for line in "$@"; do echo "# $line"; done
	failed=1
}
skip() { echo "ok - $1 # SKIP $2"; }

# start_fakellm LOG ARGS...: tests/fakellm on a free port, its arrivals
# logged to LOG; sets FPORT and FPID.  stop_fakellm ends it.
start_fakellm() {
	flog=$1
	shift
	rm -f "$T/fport"
	"$FAKELLM" --port-file "$T/fport" --log "$flog" "$@" >"$T/fakellm.out" 2>&1 &
	FPID=$!
	i=0
	while [ ! -s "$T/fport" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	FPORT=$(cat "$T/fport" 2>/dev/null)
}

stop_fakellm() {
	kill "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
}

# check NAME CMD...: ok when CMD exits 0
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "$out"; fi
}

# expect_status NAME STATUS CMD...: ok when CMD exits with STATUS; its
# output is left in $OUT
expect_status() {
	name=$1 want=$2
	shift 2
	OUT=$("$@" 2>&1)
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name"; else fail "$name" "exit $got, wanted $want" "$OUT"; fi
}

# contains NAME TEXT NEEDLE
contains() {
	case $2 in
	*"$3"*) ok "$1" ;;
	*) fail "$1" "expected to find: $3" "in: $2" ;;
	esac
}

# jget JSON FILTER: a value out of JSON text, with jq
jget() {
	printf '%s' "$1" | jq -r "$2"
}

# store_put_raw STORE DB KEY JSON: write a record behind clarify's back, as
# the LMDB tools would (zstd-compressed JSON), to stage inconsistencies
store_put_raw() {
	hex=$(printf '%s' "$4" | zstd -q -c | od -An -v -tx1 | tr -d ' \n')
	key=$(printf '%s' "$3" | od -An -v -tx1 | tr -d ' \n')
	printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n %s\nDATA=END\n' "$key" "$hex" \
		| mdb_load -s "$2" "$1"
}
