# test_plan.sh - the cost before the run: clarifyd --dry-run (and clarify
# plan) prices the pending jobs per stage, sends nothing and writes
# nothing; then the real run against tests/fakellm, whose token counts the
# store keeps (clarify stats --json), is within 25% of the estimate for
# the input tokens and for the total.  First with the priors (an empty
# store: the sample problems of tests/data/apps, half of them), then with
# the history the first run left (the other half).
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/a/train" "$T/b/train"
i=0
for d in "$TESTDATA"/apps/train/*/; do
	if [ $((i % 2)) -eq 0 ]; then cp -r "$d" "$T/a/train/"; else cp -r "$d" "$T/b/train/"; fi
	i=$((i + 1))
done

start_fakellm "$T/fake.log"
cat >"$T/c.yaml" <<EOF
llm:
  provider: openai
  base_url: http://127.0.0.1:$FPORT/v1
  model: m
  api_key_env: P_KEY
  price_in_per_mtok: 0.15
  price_out_per_mtok: 0.60
# fakellm rewrites a problem alike for every category: without this the
# near-duplicate check would reject two records in three, and the export
# would hold a third of the tokens the run used
filters:
  near_duplicate: 0
EOF
S=$T/store
"$CLARIFY" -c "$T/c.yaml" -s "$S" import "$T/a" >/dev/null 2>&1

# within PCT% : est actual pct -> 0 when |est - actual| / actual <= pct/100
within() { awk -v e="$1" -v a="$2" -v p="$3" 'BEGIN { d = e - a; if (d < 0) d = -d; exit !(a > 0 && d / a <= p / 100) }'; }
ratio() { awk -v e="$1" -v a="$2" 'BEGIN { printf "%+.1f%%", 100 * (e - a) / a }'; }

# one round: the dry run, the real run, the comparison; RN names it
round() {
	rn=$1
	sum0=$(md5sum <"$S/data.mdb")
	expect_status "$rn: clarifyd --dry-run" 0 "$CLARIFYD" -c "$T/c.yaml" -s "$S" --dry-run
	text=$OUT
	contains "$rn: the table has every stage and the total" "$text" "answer"
	contains "$rn: it says how tokens are counted" "$text" "ceil(bytes / 4)"
	expect_status "$rn: clarifyd --dry-run --json" 0 "$CLARIFYD" -c "$T/c.yaml" -s "$S" --dry-run --json
	plan=$OUT
	expect_status "$rn: clarify plan --json" 0 "$CLARIFY" -c "$T/c.yaml" -s "$S" plan --json
	[ "$(jget "$OUT" .total)" = "$(jget "$plan" .total)" ] && ok "$rn: clarify plan says what clarifyd --dry-run says" \
		|| fail "$rn: clarify plan and --dry-run" "$OUT" "$plan"
	[ "$(md5sum <"$S/data.mdb")" = "$sum0" ] && [ ! -s "$T/fake.log" ] \
		&& ok "$rn: the dry runs wrote nothing and sent nothing" || fail "$rn: the dry runs wrote or sent" "$(cat "$T/fake.log")"
	jobs=$(jget "$plan" .jobs)
	[ "$(jget "$plan" '.stages | map(.requests) | join(",")')" = "$jobs,$jobs,$jobs" ] \
		&& ok "$rn: $jobs requests in each of the three stages" || fail "$rn: requests per stage" "$plan"
	m=$(jget "$plan" .total.money.total)
	want=$(jget "$plan" '(.total.tokens_in * 0.15 + .total.tokens_out * 0.60) / 1000000')
	awk -v a="$m" -v b="$want" 'BEGIN { exit !(a - b < 1e-9 && b - a < 1e-9 && a > 0) }' \
		&& ok "$rn: the money is the tokens at the configured prices" || fail "$rn: the money" "$m, not $want"

	expect_status "$rn: the real run" 0 env P_KEY=k "$CLARIFYD" -c "$T/c.yaml" -s "$S" --once
	expect_status "$rn: clarify stats --json" 0 "$CLARIFY" -c "$T/c.yaml" -s "$S" stats --json
	stats=$OUT
	: >"$T/fake.log"
	ain=$(jget "$stats" .overall.usage.tokens_in) aout=$(jget "$stats" .overall.usage.tokens_out)
	ain=$((ain - ${prev_in:-0})) aout=$((aout - ${prev_out:-0}))
	prev_in=$((${prev_in:-0} + ain)) prev_out=$((${prev_out:-0} + aout))
	ein=$(jget "$plan" .total.tokens_in) eout=$(jget "$plan" .total.tokens_out)
	within "$ein" "$ain" 25 && ok "$rn: input tokens within 25% ($ein estimated, $ain used)" \
		|| fail "$rn: input tokens within 25%" "$ein estimated, $ain used"
	within $((ein + eout)) $((ain + aout)) 25 \
		&& ok "$rn: all tokens within 25% ($((ein + eout)) estimated, $((ain + aout)) used)" \
		|| fail "$rn: all tokens within 25%" "$((ein + eout)) estimated, $((ain + aout)) used"
	echo "# figure: $rn: $jobs jobs x 3 stages: input $ein estimated / $ain used ($(ratio "$ein" "$ain")), output $eout / $aout ($(ratio "$eout" "$aout")), total $((ein + eout)) / $((ain + aout)) ($(ratio $((ein + eout)) $((ain + aout))))"
}

round "priors"
[ "$(jget "$stats" .overall.usage.money.total)" != null ] && ok "clarify stats prices the tokens used" \
	|| fail "clarify stats prices the tokens used" "$(jget "$stats" .overall.usage)"
"$CLARIFY" -c "$T/c.yaml" -s "$S" import "$T/b" >/dev/null 2>&1
round "history"
contains "history: the replies come from the store's results" "$text" "as the store's"

expect_status "nothing pending: a plan of zero" 0 "$CLARIFYD" -c "$T/c.yaml" -s "$S" --dry-run --json
[ "$(jget "$OUT" .total.tokens)" -eq 0 ] && ok "no pending job costs nothing" || fail "nothing pending" "$OUT"
expect_status "export" 0 "$CLARIFY" -c "$T/c.yaml" -s "$S" export -o "$T/out.jsonl" --json
man=$OUT
[ "$(jget "$man" .usage.tokens)" -eq "$(jget "$stats" .overall.usage.tokens)" ] \
	&& [ "$(jget "$man" '.usage.money.total > 0')" = true ] \
	&& ok "the export manifest has the tokens of the records it wrote, and their money" \
	|| fail "the manifest's usage" "$(jget "$man" .usage)" "$(jget "$stats" .overall.usage)"
stop_fakellm

printf 'llm:\n  model: m\n  price_out_per_mtok: -1\n' >"$T/neg.yaml"
expect_status "a negative price is refused" 2 "$CLARIFYD" -c "$T/neg.yaml" -s "$S" --dry-run
contains "at its file and line" "$OUT" "neg.yaml:3:23: 'llm.price_out_per_mtok' must be between 0"
expect_status "--json alone is a usage error" 2 "$CLARIFYD" -s "$S" --json
expect_status "no store: --dry-run says so" 1 "$CLARIFYD" -s "$T/none" --dry-run
exit $failed
