# test_badinput.sh - the bad-input table of README.md, for the kinds that
# test_errors.sh (config, JSONL, commands, schema) and test_daemon.sh
# (wrong key) do not already cover: each gets its message and exit status.
# A row prints as "# row: INPUT | STATUS | MESSAGE" for the table.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/soaklib.sh"

# row INPUT STATUS NEEDLE CMD...: expect_status and contains, in one line
row() {
	input=$1 want=$2 needle=$3
	shift 3
	expect_status "$input: exit $want" "$want" "$@"
	contains "$input: says '$needle'" "$OUT" "$needle"
	echo "# row: $input | $want | $(printf '%s\n' "$OUT" | grep -m1 -F -- "$needle" | cut -c1-140)"
}

S=$T/store
"$CLARIFY" -s "$S" import "$TESTDATA/apps" --limit 2 >/dev/null 2>&1

# templates: a copy of the shipped set with one fault each
for v in var field; do
	mkdir -p "$T/p-$v"
	cp "$ROOT"/prompts/*.yaml "$T/p-$v/"
done
sed -i 's/{{original}}/{{orignal}}/' "$T/p-var/modify-ambiguous.yaml"
sed -i '/^name:/d' "$T/p-field/clarify-incomplete.yaml"
printf 'prompts:\n  dir: %s\nfilters:\n  dir: %s\n' "$T/p-var" "$ROOT/filters" >"$T/p-var.yaml"
printf 'prompts:\n  dir: %s\nfilters:\n  dir: %s\n' "$T/p-field" "$ROOT/filters" >"$T/p-field.yaml"
row "template with an unknown variable" 2 "modify-ambiguous.yaml:20:3: unknown variable '{{orignal}}'" \
	"$CLARIFYD" -c "$T/p-var.yaml" -s "$S" --once
row "template without a required field" 2 "clarify-incomplete.yaml:4:1: missing 'name'" \
	"$CLARIFYD" -c "$T/p-field.yaml" -s "$S" --once

# a rule file with a regular expression that does not compile
mkdir -p "$T/rules"
printf 'rules:\n  - id: broken\n    description: d\n    applies_to: [modified]\n    pattern: "(unclosed"\n    action: reject\n' \
	>"$T/rules/bad.yaml"
printf 'prompts:\n  dir: %s\nfilters:\n  dir: %s\n' "$ROOT/prompts" "$T/rules" >"$T/rules.yaml"
row "rule file with an invalid regex" 2 "bad.yaml" "$CLARIFYD" -c "$T/rules.yaml" -s "$S" --once
contains "rule file with an invalid regex: names the rule and PCRE2's reason" "$OUT" "missing closing parenthesis"
row "clarify filters list with it" 2 "bad.yaml" "$CLARIFY" -c "$T/rules.yaml" filters list

# the API key: a key file that is not there, no key at all
printf 'llm:\n  provider: openai\n  base_url: http://127.0.0.1:9/v1\n  api_key_env: NO_SUCH_KEY_VAR\n' >"$T/nokey.yaml"
printf '  api_key_file: %s\n' "$T/absent-key" >>"$T/nokey.yaml"
row "llm.api_key_file missing" 2 "cannot read llm.api_key_file '$T/absent-key'" \
	"$CLARIFYD" -c "$T/nokey.yaml" -s "$S" --once
sed -i '/api_key_file/d' "$T/nokey.yaml"
row "no API key" 2 "NO_SUCH_KEY_VAR" env -u NO_SUCH_KEY_VAR "$CLARIFYD" -c "$T/nokey.yaml" -s "$S" --once

# an endpoint nobody listens on: every job fails with the reason, retried first
U=$T/unreach
"$CLARIFY" -s "$U" import "$TESTDATA/apps" --limit 1 >/dev/null 2>&1
cat >"$T/unreach.yaml" <<EOF
llm:
  provider: openai
  base_url: http://127.0.0.1:9/v1
  api_key_env: UNREACH_KEY
  connect_timeout_s: 1
  max_retries: 2
  backoff_base_s: 0.05
  backoff_max_s: 0.1
prompts:
  dir: $ROOT/prompts
filters:
  dir: $ROOT/filters
EOF
row "unreachable endpoint" 0 "giving up after 3 attempts: Couldn't connect to server" \
	env UNREACH_KEY=k "$CLARIFYD" -c "$T/unreach.yaml" -s "$U" --once
expect_status "unreachable endpoint: show" 0 "$CLARIFY" -s "$U" show 'apps/train/0000#ambiguous' --json
[ "$(jget "$OUT" .jobs.ambiguous.state)" = failed ] && contains "unreachable endpoint: the job failed with the reason" \
	"$(jget "$OUT" .jobs.ambiguous.last_error)" "Couldn't connect to server" || fail "unreachable endpoint: the job failed" "$OUT"

# keys and commands
row "clarify show of an unknown key" 1 "no problem 'apps/train/9999' in store" "$CLARIFY" -s "$S" show apps/train/9999
row "clarify show of an unknown job key" 1 "no problem 'apps/nope/1'" "$CLARIFY" -s "$S" show 'apps/nope/1#ambiguous'
row "clarifyd with an unknown option" 2 "unrecognized option '--bogus'" "$CLARIFYD" --bogus
row "clarifyd with an argument" 2 "usage: clarifyd" "$CLARIFYD" extra

# a store whose folder the user may not enter (as nobody, when root)
P=$T/private
"$CLARIFY" -s "$P/store" import "$TESTDATA/apps" --limit 1 >/dev/null 2>&1
chmod 700 "$P"
chmod 711 "$T"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
	row "store folder without permission (read)" 1 "cannot open store '$P/store': Permission denied" \
		$AS "$CLARIFY" -s "$P/store" status
	row "store folder without permission (write)" 1 "Permission denied" \
		$AS "$CLARIFYD" -s "$P/store" --once
elif [ "$(id -u)" -ne 0 ]; then
	chmod 000 "$P"
	row "store folder without permission (read)" 1 "cannot open store '$P/store': Permission denied" \
		"$CLARIFY" -s "$P/store" status
	row "store folder without permission (write)" 1 "Permission denied" "$CLARIFYD" -s "$P/store" --once
	chmod 700 "$P"
else
	skip "store folder without permission" "root without setpriv"
fi
chmod 700 "$T"
exit $failed
