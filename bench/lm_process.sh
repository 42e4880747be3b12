#!/bin/sh
# bench/lm_process.sh - clarify lm score as a whole process, beside KenLM's
# query: KenLM's own order-4 ARPA of ../shared/data/lm-reference and
# test.txt repeated to 3 million tokens, already tokenized, totals only
# (clarify lm score --summary; query -v summary).  The figure is clarify's
# wall time over query's (goal: at most 1), best of 5 runs each; without
# KenLM's query on the PATH, clarify's time alone (KenLM is not packaged
# by Debian: build it from source to compare).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLARIFY=${CLARIFY:-$ROOT/build/release/clarify}
DATA=${SHARED_DATA:-$ROOT/../shared/data}/lm-reference
if [ ! -f "$DATA/kenlm-o4.arpa" ]; then
	echo "lm_process: $DATA is missing: not measured"
	exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
per=$(($(wc -l <"$DATA/test.txt") + $(wc -w <"$DATA/test.txt")))
copies=$((3000000 / per + 1))
i=0
while [ $i -lt $copies ]; do cat "$DATA/test.txt"; i=$((i + 1)); done >"$T/text"

# best TIME of 5 runs of CMD... < $T/text
best() {
	b=""
	for r in 1 2 3 4 5; do
		s=$(date +%s.%N)
		"$@" <"$T/text" >"$T/out" 2>&1 || { echo "lm_process: $1 failed: $(tail -2 "$T/out")" >&2; exit 1; }
		e=$(date +%s.%N)
		b=$(echo "$s $e $b" | awk '{ d = $2 - $1; if ($3 == "" || d < $3) print d; else print $3 }')
	done
	echo "$b"
}

ours=$(CLARIFY_CONFIG=/dev/null best "$CLARIFY" lm score --summary --arpa "$DATA/kenlm-o4.arpa" --tokenized)
tokens=$(CLARIFY_CONFIG=/dev/null "$CLARIFY" lm score --summary --json --arpa "$DATA/kenlm-o4.arpa" --tokenized <"$T/text" | sed -n 's/.*"tokens":\([0-9]*\).*/\1/p')
echo "lm_process: clarify lm score --summary, $tokens tokens, order 4: $ours s whole process (best of 5)"
if command -v query >/dev/null 2>&1; then
	theirs=$(best query -v summary "$DATA/kenlm-o4.arpa")
	echo "lm_process: KenLM query -v summary: $theirs s; ratio $(echo "$ours $theirs" | awk '{ printf "%.2f", $1 / $2 }') (goal <= 1)"
else
	echo "lm_process: KenLM's query is not on the PATH: ratio not measured"
fi
