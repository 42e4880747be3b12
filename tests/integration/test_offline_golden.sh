# test_offline_golden.sh - the offline provider answers as it did: its
# stage 1 and stage 2 replies for the 220 APPS statements of
# ../shared/data/apps-corpus, every category, seeds 0 and 7, hash for hash
# the same as tests/data/offline/golden.tsv (made before its rules moved to
# llm/offline.yaml; regenerate it only for a change meant to alter them:
# offline_dump CORPUS 0 7 > tests/data/offline/golden.tsv).
. "$(dirname "$0")/lib.sh"

DUMP=${OFFLINE_DUMP:-$(dirname "$CLARIFY")/tests/tools/offline_dump}
CORPUS=${SHARED_DATA:-$ROOT/../shared/data}/apps-corpus/questions.jsonl
if [ ! -f "$CORPUS" ]; then
	skip "the offline provider's replies on the APPS corpus" "$CORPUS is missing"
	exit 0
fi
expect_status "offline_dump over the corpus" 0 "$DUMP" "$CORPUS" 0 7
printf '%s\n' "$OUT" >"$T/now.tsv"
n=$(wc -l <"$T/now.tsv")
[ "$n" -eq "$(wc -l <"$TESTDATA/offline/golden.tsv")" ] && ok "$n replies" \
	|| fail "as many replies as the golden file" "$n"
bad=$(diff "$TESTDATA/offline/golden.tsv" "$T/now.tsv" | grep -c '^>')
[ "$bad" -eq 0 ] && ok "every reply is the same as before" \
	|| fail "every reply is the same as before" "$bad of $n differ, e.g." \
		"$(diff "$TESTDATA/offline/golden.tsv" "$T/now.tsv" | grep '^>' | head -3)"
echo "# figure: offline provider: $((n - bad)) of $n replies as before (220 statements x 3 categories x 2 seeds)"
exit $failed
