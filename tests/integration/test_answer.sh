# test_answer.sh - stage 3 through clarifyd against tests/fakellm: a record
# whose verdict says recovers: false is rejected with judge-not-recovered,
# the others accepted with their answers and verdict; a malformed verdict
# is asked again and then fails its job with the reason; [modify, clarify]
# keeps the old two requests a job; a filters.actions of flag keeps the
# record, flagged.
. "$(dirname "$0")/lib.sh"
if [ -z "${FAKELLM:-}" ] || [ ! -x "$FAKELLM" ]; then
	skip "stage 3" "no fakellm"
	exit 0
fi

# problem NAME WORDS: an APPS problem with a bound line (fakellm's stage 1
# takes it out) and WORDS in its statement
problem() {
	d=$T/apps/train/$1
	mkdir -p "$d"
	printf 'Print the sum of a and b. %s\n\n-----Input-----\n\nOne line holds a and b.\n1 <= a, b <= 1000\n\n-----Output-----\n\nPrint a + b.\n' "$2" >"$d/question.txt"
	printf '["a, b = map(int, input().split())\\nprint(a + b)\\n"]' >"$d/solutions.json"
	printf '{"inputs": ["1 2\\n"], "outputs": ["3\\n"]}' >"$d/input_output.json"
	printf '{"difficulty": "introductory"}' >"$d/metadata.json"
}
problem 0001 "The values are whole numbers."
problem 0002 "JUDGE:not-recovered"
problem 0003 "JUDGE:malformed"
problem 0004 "JUDGE:off-target"

start_fakellm "$T/fake.log"
cfg() {
	printf 'llm:\n  provider: openai\n  base_url: http://127.0.0.1:%s/v1\n  model: m\n' "$FPORT"
	printf '  api_key_env: D_KEY\n  max_in_flight: 8\n  request_timeout_s: 5\n'
	printf 'jobs:\n  categories: [incomplete]\n  stages: [%s]\n' "$1"
	printf 'prompts:\n  max_parse_retries: 1\n'
	[ -n "${2:-}" ] && printf 'filters:\n  actions: {%s}\n' "$2"
	true
}
cfg "modify, clarify, answer" >"$T/three.yaml"
S=$T/store
"$CLARIFY" -c "$T/three.yaml" -s "$S" import "$T/apps" >/dev/null 2>&1
expect_status "clarifyd runs three stages" 0 env D_KEY=k "$CLARIFYD" -c "$T/three.yaml" -s "$S" --once
expect_status "status" 0 "$CLARIFY" -s "$S" status --json
[ "$(jget "$OUT" .jobs.done)" -eq 1 ] && [ "$(jget "$OUT" .jobs.rejected)" -eq 2 ] && [ "$(jget "$OUT" .jobs.failed)" -eq 1 ] \
	&& ok "one accepted, two rejected, one failed" || fail "the jobs' ends" "$OUT"
[ "$(jget "$OUT" '.rejected_by_rule["judge-not-recovered"]')" = 1 ] && [ "$(jget "$OUT" '.rejected_by_rule["judge-off-target"]')" = 1 ] \
	&& ok "rejected by judge-not-recovered and judge-off-target" || fail "rejected by the judge" "$OUT"

expect_status "show the accepted record" 0 "$CLARIFY" -s "$S" show "apps/train/0001#incomplete" --json
rec=$(printf '%s' "$OUT" | jq -c '[.. | objects | select(has("judge"))][0]')
[ "$(jget "$rec" '.stages | join(",")')" = "modify,clarify,answer" ] && [ "$(jget "$rec" '.answers | length')" -eq "$(jget "$rec" '.questions | length')" ] \
	&& [ "$(jget "$rec" .judge.recovers)" = true ] && [ "$(jget "$rec" '.templates[2].name')" = answer-incomplete ] \
	&& ok "it keeps its stages, one answer per question, the verdict and the answer template" || fail "the accepted record" "$OUT"

expect_status "show the failed job" 0 "$CLARIFY" -s "$S" show "apps/train/0003#incomplete" --json
contains "it failed with the verdict's reason" "$OUT" "the <verdict> is not JSON"
reqs=$(wc -l <"$T/fake.log")
# 4 jobs x 2 stages, stage 3 once for three of them and twice for the
# malformed verdict (max_parse_retries 1): 8 + 3 + 2
[ "$reqs" -eq 13 ] && ok "13 requests: stage 3 asked once more for the malformed verdict" \
	|| fail "requests" "$reqs in fakellm's log"

expect_status "show, as text" 0 "$CLARIFY" -s "$S" show "apps/train/0001#incomplete"
contains "it prints the stages" "$OUT" "stages      modify, clarify, answer"
contains "the answers" "$OUT" "answers (from the original):"
contains "and the verdict" "$OUT" "recovers           yes"
expect_status "show the rejected record, as text" 0 "$CLARIFY" -s "$S" show "apps/train/0002#incomplete"
contains "its verdict names the rule" "$OUT" "verdict     reject judge-not-recovered"

# the auditors' view: the judge's rates per group
expect_status "stats --json" 0 "$CLARIFY" -s "$S" stats --json
j=$(jget "$OUT" .overall.judge)
[ "$(jget "$j" .judged)" -eq 3 ] && [ "$(jget "$j" .recovered)" -eq 2 ] && [ "$(jget "$j" .off_target)" -eq 1 ] \
	&& [ "$(jget "$OUT" '.groups.incomplete.judge.judged')" -eq 3 ] \
	&& [ "$(jget "$OUT" '.overall.answers.tokens.count')" -eq 1 ] \
	&& ok "three judged: two recovered, one off-target; the answers' tokens counted" || fail "the judge's counts" "$j"
expect_status "stats, as text" 0 "$CLARIFY" -s "$S" stats
contains "a table of the judge" "$OUT" "judge (stage 3)"
expect_status "stats --html" 0 "$CLARIFY" -s "$S" stats --html "$T/r.html"
# four rates for each of the three categories and overall; two of three recovered
[ "$(grep -o 'class="bar judge"' "$T/r.html" | wc -l)" -eq 16 ] && grep -q 'data-rate="0.6667"' "$T/r.html" \
	&& ok "the page charts the four rates of each group and overall" \
	|| fail "the judge chart" "$(grep -o 'class="bar judge"[^>]*' "$T/r.html")"

expect_status "status, as text" 0 "$CLARIFY" -s "$S" status
contains "requests by stage" "$OUT" "requests by stage: modify 4, clarify 4, answer 5"

# the dialogue: ask, hear the answers, then the human solution
expect_status "export --format dialogue" 0 "$CLARIFY" -s "$S" export --format dialogue -o "$T/d.jsonl"
[ "$(wc -l <"$T/d.jsonl")" -eq 1 ] \
	&& [ "$(jq -r '.messages | map(.role) | join(",")' "$T/d.jsonl")" = "system,user,assistant,user,assistant" ] \
	&& [ "$(jq -r .id "$T/d.jsonl")" = "apps/train/0001#incomplete" ] \
	&& [ "$(jq -r .category "$T/d.jsonl")" = incomplete ] \
	&& ok "one conversation of five turns, for the accepted record" || fail "the dialogue" "$(cat "$T/d.jsonl")"
[ "$(jq -r '.messages[2].content' "$T/d.jsonl")" = "$(jq -r '.questions | join("\n")' <<EOF2
$rec
EOF2
)" ] && [ "$(jq -r '.messages[3].content' "$T/d.jsonl")" = "$(jq -r '.answers | join("\n")' <<EOF2
$rec
EOF2
)" ] && [ "$(jq -r '.messages[4].content' "$T/d.jsonl")" = "$(printf 'a, b = map(int, input().split())\nprint(a + b)')" ] \
	&& ok "its turns: the questions, the answers, the human solution" || fail "the dialogue's turns" "$(cat "$T/d.jsonl")"
[ "$(jq -r '.stages["modify,clarify,answer"]' "$T/d.jsonl.manifest.json")" -eq 1 ] \
	&& ok "the manifest counts the record's three stages" || fail "the manifest's stages" "$(cat "$T/d.jsonl.manifest.json")"
expect_status "export --format chat, unchanged" 0 "$CLARIFY" -s "$S" export --format chat -o "$T/c.jsonl"
[ "$(jq -r '.messages | length' "$T/c.jsonl")" -eq 3 ] && ok "chat keeps its three messages" || fail "chat" "$(cat "$T/c.jsonl")"

# the old behaviour: two stages, two requests a job
S2=$T/store2
cfg "modify, clarify" >"$T/two.yaml"
"$CLARIFY" -c "$T/two.yaml" -s "$S2" import "$T/apps" >/dev/null 2>&1
before=$(wc -l <"$T/fake.log")
expect_status "clarifyd runs two stages" 0 env D_KEY=k "$CLARIFYD" -c "$T/two.yaml" -s "$S2" --once --no-cache
[ $(($(wc -l <"$T/fake.log") - before)) -eq 8 ] && ok "two requests a job" \
	|| fail "two requests a job" "$(($(wc -l <"$T/fake.log") - before))"
expect_status "status" 0 "$CLARIFY" -s "$S2" status --json
[ "$(jget "$OUT" .jobs.done)" -eq 4 ] && ok "and every job accepted, as before stage 3" || fail "two stages" "$OUT"
expect_status "a dialogue of two-stage records" 0 "$CLARIFY" -s "$S2" export --format dialogue -o "$T/d2.jsonl" --json
[ "$(wc -l <"$T/d2.jsonl")" -eq 0 ] && [ "$(jget "$OUT" .skipped.unanswered)" -eq 4 ] \
	&& [ "$(jget "$OUT" '.stages["modify,clarify"]')" -eq 0 ] \
	&& ok "leaves them out as unanswered" || fail "two-stage dialogue" "$OUT"
expect_status "their paper export" 0 "$CLARIFY" -s "$S2" export -o "$T/p2.jsonl" --json
[ "$(jget "$OUT" '.stages["modify,clarify"]')" -eq 4 ] && ok "which counts their two stages" || fail "two-stage paper" "$OUT"

# stage 3 over records made without it: requeue --stage answer
expect_status "requeue --stage answer" 0 "$CLARIFY" -s "$S2" requeue --stage answer --json
[ "$(jget "$OUT" .requeued)" -eq 4 ] && ok "puts the four accepted records in state answer" || fail "requeue --stage answer" "$OUT"
expect_status "status" 0 "$CLARIFY" -s "$S2" status --json
[ "$(jget "$OUT" .jobs.answer)" -eq 4 ] && [ "$(jget "$OUT" .results)" -eq 4 ] \
	&& ok "their results kept meanwhile" || fail "state answer" "$OUT"
before=$(wc -l <"$T/fake.log")
expect_status "clarifyd with three stages over them" 0 env D_KEY=k "$CLARIFYD" -c "$T/three.yaml" -s "$S2" --once
[ $(($(wc -l <"$T/fake.log") - before)) -eq 5 ] && ok "asks stage 3 only: 5 requests (one asked again)" \
	|| fail "stage 3 only" "$(($(wc -l <"$T/fake.log") - before)) requests"
expect_status "status" 0 "$CLARIFY" -s "$S2" status --json
[ "$(jget "$OUT" .jobs.done)" -eq 2 ] && [ "$(jget "$OUT" .jobs.rejected)" -eq 2 ] && [ "$(jget "$OUT" .jobs.answer)" -eq 0 ] \
	&& [ "$(jget "$OUT" .daemon.by_stage.answer.requests)" -eq 5 ] && [ "$(jget "$OUT" .daemon.by_stage.modify.requests)" -eq 0 ] \
	&& ok "judged as a three-stage run judges them; status counts the requests by stage" || fail "after stage 3" "$OUT"
expect_status "show the one whose verdict stayed malformed" 0 "$CLARIFY" -s "$S2" show "apps/train/0003#incomplete" --json
contains "it is kept as it was, with the reason" "$OUT" "the <verdict> is not JSON"
expect_status "the store verifies" 0 "$CLARIFY" -s "$S2" verify
expect_status "requeue --stage answer again" 0 "$CLARIFY" -s "$S2" requeue --stage answer --json
[ "$(jget "$OUT" .requeued)" -eq 1 ] && ok "finds only the record still without stage 3" || fail "requeue again" "$OUT"
expect_status "requeue --stage modify is refused" 2 "$CLARIFY" -s "$S2" requeue --stage modify

# flag instead of reject: kept, accepted, the verdict recorded
S3=$T/store3
cfg "modify, clarify, answer" "judge-not-recovered: flag, judge-off-target: off" >"$T/flag.yaml"
"$CLARIFY" -c "$T/flag.yaml" -s "$S3" import "$T/apps" >/dev/null 2>&1
expect_status "clarifyd with the judge's checks flagged" 0 env D_KEY=k "$CLARIFYD" -c "$T/flag.yaml" -s "$S3" --once
expect_status "status" 0 "$CLARIFY" -s "$S3" status --json
[ "$(jget "$OUT" .jobs.done)" -eq 3 ] && ok "flagged and off: accepted" || fail "flag and off" "$OUT"
expect_status "show the flagged record" 0 "$CLARIFY" -s "$S3" show "apps/train/0002#incomplete" --json
contains "its verdict is kept" "$OUT" "judge-not-recovered"

# a config that asks for stage 3 of a folder without its templates is refused
mkdir -p "$T/prompts2"
cp "$ROOT"/prompts/modify-*.yaml "$ROOT"/prompts/clarify-*.yaml "$T/prompts2/"
{ cat "$T/three.yaml"; printf 'prompts:\n  dir: %s\n' "$T/prompts2"; } | sed '/^prompts:$/{x;s/^/x/;/^x\{2\}/{x;d};x}' >"$T/noanswer.yaml"
expect_status "stage 3 without its templates is refused" 2 env D_KEY=k "$CLARIFYD" -c "$T/noanswer.yaml" -s "$S" --once
contains "and says why" "$OUT" "has no answer templates"
stop_fakellm
exit $failed
