# test_dedup.sh - the near-duplicate check: two categories of one problem
# that produce the same rewrite (fakellm rewrites alike for every
# category) keep the first record and reject the later ones; different
# edits of one problem (the offline provider's) are not near-duplicates;
# the index outlives the run; the action and threshold come from the config
. "$(dirname "$0")/lib.sh"

start_fakellm "$T/fake.log"
cfg() {
	printf 'llm:\n  provider: openai\n  base_url: http://127.0.0.1:%s/v1\n  model: m\n  api_key_env: D_KEY\n' "$FPORT"
	printf 'jobs:\n  categories: [ambiguous, incomplete]\n  stages: [modify, clarify]\n'
	printf 'filters:\n%s\n' "${1:-  near_duplicate: 0.9}"
}
cfg >"$T/c.yaml"
S=$T/store
"$CLARIFY" -c "$T/c.yaml" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
expect_status "clarifyd over 12 problems x 2 categories" 0 env D_KEY=k "$CLARIFYD" -c "$T/c.yaml" -s "$S" --once
st=$("$CLARIFY" -s "$S" status --json)
[ "$(jget "$st" .jobs.done)" -eq 12 ] && [ "$(jget "$st" '.rejected_by_rule["near-duplicate"]')" -eq 12 ] \
	&& ok "of each problem's two same rewrites, one kept and one rejected as near-duplicate" \
	|| fail "near-duplicates" "$(jget "$st" '.jobs, .rejected_by_rule')"
bad=0
# each problem: exactly one accepted record, the other names it
for key in $("$CLARIFY" -s "$S" export --format chat | jq -r .id); do
	prob=${key%#*}
	other=$prob#ambiguous
	[ "$other" = "$key" ] && other=$prob#incomplete
	v=$("$CLARIFY" -s "$S" show "$other" --json | jq -r ".results[].verdicts[] | select(.rule == \"near-duplicate\") | .detail")
	case $v in
	*"with $key "*) ;;
	*) bad=$((bad + 1)) ;;
	esac
done
[ "$bad" -eq 0 ] && ok "each rejected one names the record it duplicates" || fail "details" "$bad wrong"
expect_status "samples --rule near-duplicate" 0 "$CLARIFY" -s "$S" samples --rule near-duplicate -n 1
contains "the detail gives the similarity" "$OUT" "Jaccard 1.00 with apps/train/"
expect_status "stats" 0 "$CLARIFY" -s "$S" stats --json
[ "$(jget "$OUT" .near_duplicates.records)" -eq 12 ] && [ "$(jget "$OUT" '.near_duplicates.rate == 0.5')" = true ] \
	&& ok "stats reports the duplicate rate (12 of 24)" || fail "stats near-duplicates" "$(jget "$OUT" .near_duplicates)"
expect_status "stats (text)" 0 "$CLARIFY" -s "$S" stats
contains "in text too" "$OUT" "near-duplicates  12 (50.0% of the records)"
expect_status "verify: the index is no issue" 0 "$CLARIFY" -s "$S" verify

# the index is in the store: the rejected ones, redone, are duplicates again
"$CLARIFY" -s "$S" requeue --rejected >/dev/null 2>&1
D_KEY=k "$CLARIFYD" -c "$T/c.yaml" -s "$S" --once >/dev/null 2>&1
st=$("$CLARIFY" -s "$S" status --json)
[ "$(jget "$st" .jobs.done)" -eq 12 ] && [ "$(jget "$st" .jobs.rejected)" -eq 12 ] \
	&& ok "a later run checks against the store's index" || fail "index kept" "$(jget "$st" .jobs)"

# flag: kept and marked; 0: no check
cfg '  near_duplicate: 0.9
  actions: {near-duplicate: flag}' >"$T/flag.yaml"
F=$T/flag
"$CLARIFY" -c "$T/flag.yaml" -s "$F" import "$TESTDATA/apps" >/dev/null 2>&1
D_KEY=k "$CLARIFYD" -c "$T/flag.yaml" -s "$F" --once >/dev/null 2>&1
[ "$("$CLARIFY" -s "$F" status --json | jq .jobs.done)" -eq 24 ] \
	&& [ "$("$CLARIFY" -s "$F" stats --json | jq .near_duplicates.records)" -eq 12 ] \
	&& ok "flag: all accepted, the near-duplicates marked" || fail "flag" "$("$CLARIFY" -s "$F" stats --json | jq -c '.accepted, .near_duplicates')"
cfg '  near_duplicate: 0' >"$T/off.yaml"
O=$T/off
"$CLARIFY" -c "$T/off.yaml" -s "$O" import "$TESTDATA/apps" >/dev/null 2>&1
D_KEY=k "$CLARIFYD" -c "$T/off.yaml" -s "$O" --once >/dev/null 2>&1
[ "$("$CLARIFY" -s "$O" status --json | jq .jobs.done)" -eq 24 ] && ok "0: no check" \
	|| fail "off" "$("$CLARIFY" -s "$O" status --json | jq -c .jobs)"
stop_fakellm
printf 'filters:\n  near_duplicate: 1.5\n' >"$T/bad.yaml"
expect_status "a threshold over 1 is refused" 2 "$CLARIFYD" -c "$T/bad.yaml" --check-config
contains "with its place" "$OUT" "bad.yaml:2:19"

# different edits of one problem share most words, but are not the same rewrite
N=$T/offline
"$CLARIFY" -s "$N" import "$TESTDATA/apps" >/dev/null 2>&1
"$CLARIFYD" -s "$N" --once >/dev/null 2>&1
[ "$("$CLARIFY" -s "$N" stats --json | jq .near_duplicates.records)" -eq 0 ] \
	&& ok "the offline provider's three edits of each problem are no near-duplicates" \
	|| fail "offline" "$("$CLARIFY" -s "$N" samples --rule near-duplicate -n 3)"
exit $failed
