# test_samples.sh - clarify samples: records a rule caught, with the span
# it matched (byte offsets that point at the matched text), drawn evenly
# and reproducibly; failed jobs grouped by their error
. "$(dirname "$0")/lib.sh"

S=$T/store
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
mkdir "$T/rules"
cp "$ROOT"/filters/*.yaml "$T/rules/"
cat >"$T/rules/zz-test.yaml" <<'YAML'
rules:
  - id: test-the-number
    description: "says 'the number' (a rule of this test)"
    applies_to: [modified, questions]
    pattern: '\bthe number\b'
    flags: [caseless]
    action: reject
YAML
printf 'filters:\n  dir: %s\n' "$T/rules" >"$T/c.yaml"
"$CLARIFYD" -c "$T/c.yaml" -s "$S" --once >/dev/null 2>&1
expect_status "samples --json" 0 "$CLARIFY" -s "$S" samples --rule test-the-number -n 3 --json
J=$OUT
m=$(jget "$J" .matched)
[ "$m" -ge 4 ] && [ "$(jget "$J" '.samples | length')" -eq 3 ] && ok "3 of the $m records the rule caught" \
	|| fail "3 samples" "$J"
bad=$(jget "$J" '[.samples[] | select(.span.text | ascii_downcase != "the number")] | length')
[ "$bad" -eq 0 ] && ok "each span is the matched text" || fail "spans" "$J"
# the offsets point at it in the record's own text
key=$(jget "$J" '.samples[0].key')
"$CLARIFY" -s "$S" show "$key" --json >"$T/show.json"
cat=${key#*#}
st=$(jget "$J" '.samples[0].span.start')
en=$(jget "$J" '.samples[0].span.end')
in=$(jget "$J" '.samples[0].span.in')
if [ "$in" = modified ]; then
	txt=$(jq -r ".results.$cat.modified_problem" "$T/show.json" | head -c "$en" | tail -c "$((en - st))")
	[ "$(printf '%s' "$txt" | tr 'A-Z' 'a-z')" = "the number" ] && ok "the byte offsets point at the span" \
		|| fail "offsets" "$st-$en: '$txt'"
else
	ok "the span is in a question ($(jget "$J" '.samples[0].span.question'))"
fi
[ "$(jget "$J" '[.samples[].accepted] | any')" = false ] && ok "all rejected" || fail "rejected only" "$J"
expect_status "the same seed, the same sample" 0 "$CLARIFY" -s "$S" samples --rule test-the-number -n 3 --json
[ "$(jget "$OUT" '[.samples[].key] | join(",")')" = "$(jget "$J" '[.samples[].key] | join(",")')" ] \
	&& ok "same keys" || fail "same keys"
expect_status "another seed" 0 "$CLARIFY" -s "$S" samples --rule test-the-number -n "$m" --seed 7 --json
[ "$(jget "$OUT" '.samples | length')" -eq "$m" ] && ok "-n as many as there are: all of them" || fail "all" "$OUT"
expect_status "--category" 0 "$CLARIFY" -s "$S" samples --rule test-the-number --category incomplete --json
[ "$(jget "$OUT" '[.samples[].category] | unique | join(",")')" = incomplete ] || [ "$(jget "$OUT" .matched)" -eq 0 ] \
	&& ok "only that category" || fail "category" "$OUT"
expect_status "text output" 0 "$CLARIFY" -s "$S" samples --rule test-the-number -n 1
contains "the span between [[ ]]" "$(printf '%s' "$OUT" | tr 'A-Z' 'a-z')" "[[the number]]"
contains "the count" "$OUT" "1 of $m rejected records"
expect_status "a rule that fired nowhere: exit 1" 1 "$CLARIFY" -s "$S" samples --rule no-such-rule
contains "naming the rules that fired" "$OUT" "test-the-number ("
expect_status "neither --rule nor --failed: usage" 2 "$CLARIFY" -s "$S" samples
expect_status "-n 0: usage" 2 "$CLARIFY" -s "$S" samples --rule x -n 0
expect_status "samples --help" 0 "$CLARIFY" samples --help
contains "its usage" "$OUT" "usage: clarify samples"

# --failed: the jobs an endpoint refused, grouped by the error
F=$T/failing
start_fakellm "$T/fake.log" --fault 400:1
printf 'llm:\n  provider: openai\n  base_url: http://127.0.0.1:%s/v1\n  model: m\n  api_key_env: S_KEY\n  max_retries: 0\njobs:\n  categories: [incomplete]\n' "$FPORT" >"$T/f.yaml"
"$CLARIFY" -c "$T/f.yaml" -s "$F" import "$TESTDATA/apps" >/dev/null 2>&1
S_KEY=k "$CLARIFYD" -c "$T/f.yaml" -s "$F" --once >/dev/null 2>&1
stop_fakellm
expect_status "samples --failed --json" 0 "$CLARIFY" -s "$F" samples --failed -n 2 --json
[ "$(jget "$OUT" .failed)" -eq 12 ] && [ "$(jget "$OUT" '.reasons | length')" -ge 1 ] \
	&& [ "$(jget "$OUT" '.reasons[0].keys | length')" -eq 2 ] && [ "$(jget "$OUT" '[.reasons[].count] | add')" -eq 12 ] \
	&& ok "12 failed jobs by reason, 2 keys each" || fail "--failed" "$OUT"
expect_status "samples --failed" 0 "$CLARIFY" -s "$F" samples --failed
contains "text: the count and reasons" "$OUT" "12 failed jobs"
exit $failed
