# test_operator.sh - the rough edges a new operator hits (issue 17's
# defects): --check-config checks what start-up checks, YAML mistakes named
# with their place, unreadable results seen by stats, show, export and
# verify --repair, a running writer warned of, refused commands without
# side effects, one set of common flags
. "$(dirname "$0")/lib.sh"

S=$T/store
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
"$CLARIFY" -s "$S" lm train --order 3 >/dev/null 2>&1
"$CLARIFYD" -s "$S" --once >/dev/null 2>&1

# 1, 7: --check-config checks the templates (an unclosed '{{' at its place)
mkdir "$T/p"
cp "$ROOT"/prompts/*.yaml "$T/p/"
sed -i '20s/{{original}}/{{original/' "$T/p/modify-ambiguous.yaml"
at=20
printf 'prompts:\n  dir: %s\n' "$T/p" >"$T/bad-template.yaml"
expect_status "--check-config with an unclosed '{{' in a template: exit 2" 2 \
	"$CLARIFYD" -c "$T/bad-template.yaml" -s "$S" --check-config
contains "it names the unclosed '{{'" "$OUT" "unclosed '{{'"
contains "at its file and line" "$OUT" "modify-ambiguous.yaml:$at:"
case $OUT in
*"unknown variable"*) fail "not as an unknown variable" "$OUT" ;;
*) ok "not as an unknown variable" ;;
esac
expect_status "clarifyd refuses to start on it alike" 2 "$CLARIFYD" -c "$T/bad-template.yaml" -s "$S" --once
contains "with the same reason" "$OUT" "unclosed '{{'"

# 1: and the rule files
mkdir "$T/rules"
printf 'rules:\n  - id: broken\n    field: modified\n    pattern: "(unclosed"\n' >"$T/rules/bad.yaml"
printf 'filters:\n  dir: %s\n' "$T/rules" >"$T/bad-rules.yaml"
expect_status "--check-config with a rule file that does not compile: exit 2" 2 \
	"$CLARIFYD" -c "$T/bad-rules.yaml" -s "$S" --check-config
contains "it names the rule" "$OUT" "rule 'broken'"
printf 'log:\n  level: info\n' >"$T/good.yaml"
expect_status "--check-config of a good file: exit 0" 0 "$CLARIFYD" -c "$T/good.yaml" --check-config

# 3: two sections of one name
printf 'llm:\n  model: a\nlog:\n  level: info\nllm:\n  model: b\n' >"$T/dup.yaml"
expect_status "two llm: sections: exit 2" 2 "$CLARIFYD" -c "$T/dup.yaml" --check-config
contains "duplicate key 'llm' at its line" "$OUT" "dup.yaml:5:1: duplicate key 'llm'"

# 10: a tab
printf 'llm:\n\tmodel: a\n' >"$T/tab.yaml"
expect_status "a tab in the config: exit 2" 2 "$CLARIFYD" -c "$T/tab.yaml" --check-config
contains "says tabs cannot indent YAML, with the place" "$OUT" "tab.yaml:2:1: tabs cannot indent YAML"
printf 'prompts:\n  dir: %s\n' "$T/ptab" >"$T/ptab.yaml"
mkdir "$T/ptab"
cp "$ROOT"/prompts/*.yaml "$T/ptab/"
sed -i "10s/^  /\t/" "$T/ptab/clarify-incomplete.yaml"
expect_status "a tab in a template: exit 2" 2 "$CLARIFYD" -c "$T/ptab.yaml" -s "$S" --check-config
contains "the same words for templates" "$OUT" "clarify-incomplete.yaml:10:1: tabs cannot indent YAML"

# an unreadable result, as a torn write or a bad disk leaves it
key=$("$CLARIFY" -s "$S" export --format chat | jq -r .id | head -1)
[ -n "$key" ] && ok "a done job to break: $key" || fail "a done job to break"
hexkey=$(printf '%s' "$key" | od -An -v -tx1 | tr -d ' \n')
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n 00112233445566\nDATA=END\n' "$hexkey" \
	| mdb_load -s results "$S"
"$CLARIFY" -s "$S" status --json >"$T/status.json"

# 2: stats goes on, warns and counts it
expect_status "stats with an unreadable result: exit 0" 0 "$CLARIFY" -s "$S" stats
contains "warns of it" "$OUT" "$key"
expect_status "stats --json" 0 "$CLARIFY" -s "$S" stats --json
[ "$(printf '%s' "$OUT" | sed -n '/^{/,$p' | jq .unreadable)" -eq 1 ] && ok "counted as unreadable" \
	|| fail "unreadable counted" "$OUT"

# 4: show says so
expect_status "show of a job whose result is unreadable: exit 1" 1 "$CLARIFY" -s "$S" show "$key"
contains "says the result is unreadable" "$OUT" "unreadable"
contains "and how to mend it" "$OUT" "verify --repair"

# 5: export warns, --strict fails
expect_status "export with an unreadable record: exit 0" 0 "$CLARIFY" -s "$S" export -o "$T/out.jsonl"
contains "warns of the unreadable record" "$OUT" "unreadable"
expect_status "export --strict: exit 1" 1 "$CLARIFY" -s "$S" export --strict -o "$T/strict.jsonl"
contains "saying why" "$OUT" "--strict"
if command -v python3 >/dev/null; then
	python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(30)' "$S/clarify.lock" "$T/locked" &
	holder=$!
	i=0
	while [ ! -e "$T/locked" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	"$CLARIFY" -s "$S" requeue --rejected >/dev/null 2>&1 # refused: the lock is held
	expect_status "export while a writer runs: exit 0" 0 "$CLARIFY" -s "$S" export -o "$T/live.jsonl"
	contains "warns that a writer is running, with its pid" "$OUT" "has a writer running (pid $holder)"
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
else
	skip "export while a writer runs" "python3 missing"
fi
expect_status "export with no writer" 0 "$CLARIFY" -s "$S" export -o "$T/quiet.jsonl"
case $OUT in
*"writer running"*) fail "no writer warning without a writer" "$OUT" ;;
*) ok "no writer warning without a writer" ;;
esac

# 13: verify --repair requeues it
expect_status "verify finds it: exit 1" 1 "$CLARIFY" -s "$S" verify
contains "says --repair mends it" "$OUT" "--repair requeues 1"
expect_status "verify --repair: exit 0" 0 "$CLARIFY" -s "$S" verify --repair --json
[ "$(jget "$OUT" ".requeued[\"$key\"]")" = "result unreadable" ] && ok "its job requeued, saying why" \
	|| fail "requeued" "$OUT"
expect_status "then verify passes" 0 "$CLARIFY" -s "$S" verify
expect_status "show of the requeued job" 0 "$CLARIFY" -s "$S" show "$key" --json
[ "$(jget "$OUT" ".jobs.${key#*#}.state")" = pending ] && ok "show reads it again, pending" \
	|| fail "show reads it" "$OUT"
pending=$("$CLARIFY" -s "$S" status --json | jq .jobs.pending)
[ "$pending" -eq 1 ] && ok "one job pending" || fail "one job pending" "$pending"
"$CLARIFYD" -s "$S" --once >/dev/null 2>&1
after=$("$CLARIFY" -s "$S" status --json)
[ "$(jget "$after" .jobs.pending)" -eq 0 ] && [ "$(jget "$after" .jobs.done)" -eq "$(jq .jobs.done "$T/status.json")" ] \
	&& ok "clarifyd makes its result again" || fail "made again" "$after"
printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n %s\n 00112233445566\nDATA=END\n' "$hexkey" \
	| mdb_load -s jobs "$S"
expect_status "verify --repair of an unreadable job record" 0 "$CLARIFY" -s "$S" verify --repair
contains "requeues it" "$OUT" "requeued '$key' (job unreadable)"

# 8: a refused import leaves no store
expect_status "import from standard input without --split: refused" 1 "$CLARIFY" -s "$T/new" import - </dev/null
[ ! -e "$T/new" ] && ok "and makes no store folder" || fail "no store folder" "$(ls -la "$T/new")"
expect_status "import of a missing path: refused" 1 "$CLARIFY" -s "$T/new2" import "$T/no/such/path"
[ ! -e "$T/new2" ] && ok "and makes no store folder either" || fail "no store folder" "$(ls -la "$T/new2")"

# 9: show prints the scores and provenance
key2=$("$CLARIFY" -s "$S" export --format chat | jq -r .id | tail -1)
expect_status "show of a done job" 0 "$CLARIFY" -s "$S" show "$key2"
for word in perplexity entropy model template verdicts; do
	contains "show prints its $word" "$OUT" "$word"
done

# 11: one set of common flags, one truth about the ratio
expect_status "clarifyd -q" 0 "$CLARIFYD" -q -c "$T/good.yaml" --check-config
expect_status "clarifyd --help" 0 "$CLARIFYD" --help
contains "lists -q" "$OUT" "-q, --quiet"
expect_status "clarify --help" 0 "$CLARIFY" --help
contains "clarify has -q too" "$OUT" "-q"
expect_status "export --help" 0 "$CLARIFY" export --help
contains "the ratio's precision in export --help" "$(printf '%s' "$OUT" | tr -s ' \n' '  ')" "within half a record"
contains "and in the README" "$(tr -s ' \n' '  ' <"$ROOT/README.md")" "within half a record"
case $(cat "$ROOT/README.md" "$ROOT/man/clarify.1") in
*"exact to one record"*) fail "no second truth" ;;
*) ok "no second truth" ;;
esac

# 12: make run shows the paper's mix
grep -q -e '--ratio 0.5' "$ROOT/Makefile" && ok "make run exports with --ratio 0.5" || fail "make run's ratio"

exit $failed
