# test_try.sh - clarify try: one problem through both stages, nothing stored
. "$(dirname "$0")/lib.sh"

S=$T/store
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
"$CLARIFY" -s "$S" lm train --order 3 >/dev/null 2>&1

expect_status "try --help" 0 "$CLARIFY" try --help
expect_status "try needs --category" 2 "$CLARIFY" -s "$S" try apps/train/0042
expect_status "try of an unknown problem fails" 1 "$CLARIFY" -s "$S" try apps/train/7777 --category ambiguous

for cat in ambiguous inconsistent incomplete; do
	expect_status "offline: $cat through both stages" 0 "$CLARIFY" -s "$S" try apps/train/0007 --category $cat --json
	[ "$(jget "$OUT" .modify.template)" = "modify-$cat" ] && [ "$(jget "$OUT" .clarify.template)" = "clarify-$cat" ] \
		&& ok "offline: $cat: the $cat templates were used" || fail "offline: $cat templates" "$OUT"
	contains "offline: $cat: the rendered prompt holds the problem" "$(jget "$OUT" .modify.user)" "compresses her messages"
	[ "$(jget "$OUT" '.questions | length')" -ge 1 ] && ok "offline: $cat: questions were parsed" \
		|| fail "offline: $cat: questions" "$OUT"
	[ "$(jget "$OUT" '.signals.modified.perplexity > 0')" = true ] && ok "offline: $cat: scored with the store's model" \
		|| fail "offline: $cat: scored" "$OUT"
	verdict=$(jget "$OUT" .verdict)
	[ "$verdict" = accepted ] || [ "$verdict" = rejected ] && ok "offline: $cat: a verdict ($verdict)" \
		|| fail "offline: $cat: a verdict" "$OUT"
done
expect_status "nothing was stored" 0 "$CLARIFY" -s "$S" status --json
[ "$(jget "$OUT" .results)" -eq 0 ] && [ "$(jget "$OUT" .jobs.pending)" -eq 36 ] \
	&& ok "no result, every job still pending" || fail "nothing stored" "$OUT"
expect_status "the text report" 0 "$CLARIFY" -s "$S" try apps/train/0042 --category incomplete
contains "shows the verdicts" "$OUT" "===== verdicts ====="
contains "and ends with the verdict" "$OUT" "apps/train/0042:"

# through a real HTTP provider: fakellm, OpenAI API
if [ -n "${FAKELLM:-}" ] && [ -x "$FAKELLM" ]; then
	"$FAKELLM" --port-file "$T/port" --log "$T/fake.log" >/dev/null 2>&1 &
	pid=$!
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	printf 'llm:\n  provider: openai\n  base_url: http://127.0.0.1:%s/v1\n  model: m\n  api_key_env: TRY_KEY\n' \
		"$(cat "$T/port")" >"$T/http.yaml"
	expect_status "openai: both stages over HTTP" 0 env TRY_KEY=k "$CLARIFY" -c "$T/http.yaml" -s "$S" \
		try apps/train/0042 --category incomplete --json
	[ "$(jget "$OUT" '.questions | length')" -ge 1 ] && [ "$(wc -l <"$T/fake.log")" -eq 2 ] \
		&& ok "openai: two requests, questions parsed" || fail "openai: two requests" "$OUT"
	kill "$pid"
	wait "$pid" 2>/dev/null
fi

# a broken template is refused with its place
mkdir -p "$T/prompts"
cp "$ROOT"/prompts/*.yaml "$T/prompts/"
sed -i 's/{{original}}/{{orignal}}/' "$T/prompts/modify-ambiguous.yaml"
printf 'prompts:\n  dir: %s\n' "$T/prompts" >"$T/bad.yaml"
expect_status "a template with an unknown variable exits 2" 2 "$CLARIFY" -c "$T/bad.yaml" -s "$S" \
	try apps/train/0042 --category ambiguous
contains "naming FILE:LINE:COLUMN and the variable" "$OUT" "modify-ambiguous.yaml:"
contains "the variable" "$OUT" "unknown variable '{{orignal}}'"
exit $failed
