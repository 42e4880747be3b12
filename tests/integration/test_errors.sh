# test_errors.sh - bad input gets a clear error, the right exit status,
# and loses nothing; --help works everywhere
. "$(dirname "$0")/lib.sh"

S=$T/store

# --help on every command, and on both programs
for cmd in import status show verify; do
	expect_status "clarify $cmd --help" 0 "$CLARIFY" "$cmd" --help
	contains "clarify $cmd --help shows its usage" "$OUT" "usage: clarify $cmd"
done
expect_status "clarify --help" 0 "$CLARIFY" --help
contains "clarify --help lists the commands" "$OUT" "verify"
expect_status "clarifyd --help" 0 "$CLARIFYD" --help
expect_status "clarify without a command is a usage error" 2 "$CLARIFY"
expect_status "an unknown command is a usage error" 2 "$CLARIFY" frobnicate
contains "and says so" "$OUT" "unknown command 'frobnicate'"
expect_status "an unknown option is a usage error" 2 "$CLARIFY" -s "$S" status --bogus
expect_status "--split must be train or test" 2 "$CLARIFY" -s "$S" import x --split dev
expect_status "--limit must be a number" 2 "$CLARIFY" -s "$S" import x --limit 10x
# a bad config does not stop --help
printf 'nonsense: [\n' >"$T/broken.yaml"
expect_status "--help works with a broken config" 0 "$CLARIFY" -c "$T/broken.yaml" import --help

# configuration: refused with FILE:LINE:COLUMN and the key, exit 2
printf 'store:\n  path: /tmp/x\n  batch_recordz: 5\n' >"$T/unknown.yaml"
expect_status "an unknown key exits 2" 2 "$CLARIFY" -c "$T/unknown.yaml" -s "$S" status
contains "naming FILE:LINE:COLUMN and the key" "$OUT" "unknown.yaml:3:3: unknown key 'store.batch_recordz'"
expect_status "clarifyd refuses it too" 2 "$CLARIFYD" -c "$T/unknown.yaml" --check-config
contains "with the same message" "$OUT" "unknown.yaml:3:3: unknown key 'store.batch_recordz'"
printf 'store:\n  zstd_level: 42\n' >"$T/range.yaml"
expect_status "a value out of range exits 2" 2 "$CLARIFYD" -c "$T/range.yaml" --check-config
contains "saying the bounds" "$OUT" "range.yaml:2:15: 'store.zstd_level' must be between 1 and 19, got 42"
printf 'log:\n  level: loud\n' >"$T/enum.yaml"
expect_status "a bad log level exits 2" 2 "$CLARIFYD" -c "$T/enum.yaml" --check-config
printf 'jobs:\n  categories: [ambiguous, vague]\n' >"$T/cat.yaml"
expect_status "an unknown category exits 2" 2 "$CLARIFYD" -c "$T/cat.yaml" --check-config
contains "naming it" "$OUT" "unknown category 'vague'"
expect_status "malformed YAML exits 2" 2 "$CLARIFYD" -c "$T/broken.yaml" --check-config
contains "with a line" "$OUT" "broken.yaml:"
expect_status "a missing config exits 2" 2 "$CLARIFYD" -c "$T/absent.yaml" --check-config
contains "naming the file" "$OUT" "absent.yaml"
expect_status "the shipped config is valid" 0 "$CLARIFYD" -c "$ROOT/etc/clarifyd.yaml" --check-config
expect_status "--print-config" 0 "$CLARIFYD" -c "$ROOT/etc/clarifyd.yaml" --print-config
contains "prints every key" "$OUT" "jobs.categories: [ambiguous, inconsistent, incomplete]"

# a config's categories decide the jobs
printf 'jobs:\n  categories: [incomplete]\n' >"$T/one.yaml"
expect_status "import with one category" 0 "$CLARIFY" -c "$T/one.yaml" -s "$T/one" import "$TESTDATA/apps" --limit 2 --json
[ "$(jget "$OUT" .jobs_added)" -eq 2 ] && ok "one job per problem" || fail "one job per problem" "$OUT"

# stores: missing, not a store, newer schema
expect_status "status of a missing store exits 1" 1 "$CLARIFY" -s "$T/nowhere" status
contains "saying there is no store" "$OUT" "no store at '$T/nowhere'"
mkdir -p "$T/plain"
: >"$T/plain/data.mdb"
expect_status "a file that is not LMDB is refused" 1 "$CLARIFY" -s "$T/plain" status

# bad data: skipped with a warning naming it, the rest imported
mkdir -p "$T/bad/train/0001" "$T/bad/train/0002" "$T/bad/train/0003"
printf 'A fine problem.' >"$T/bad/train/0001/question.txt"
printf '' >"$T/bad/train/0002/question.txt"
printf 'Broken tests.' >"$T/bad/train/0003/question.txt"
printf '{"inputs": [' >"$T/bad/train/0003/input_output.json"
expect_status "a folder with bad records imports the good ones" 0 "$CLARIFY" -s "$S" import "$T/bad" --json
contains "warns about the empty question" "$OUT" "0002': empty question"
contains "warns about the malformed JSON with its place" "$OUT" "0003': input_output.json: line 1"
printf '%s\n' '{"problem_id": 5, "question": "ok"}' 'not json' '{"problem_id": 6}' >"$T/train.jsonl"
expect_status "a JSONL with bad lines imports the good ones" 0 "$CLARIFY" -s "$S" import "$T/train.jsonl" --json
contains "naming FILE:LINE" "$OUT" "train.jsonl:2'"
contains "and the missing question" "$OUT" "train.jsonl:3': missing or empty question"
expect_status "the store still verifies" 0 "$CLARIFY" -s "$S" verify
printf 'garbage\n' >"$T/test.jsonl"
expect_status "a file of nothing but bad records exits 1" 1 "$CLARIFY" -s "$S" import "$T/test.jsonl"
expect_status "a path that does not exist exits 1" 1 "$CLARIFY" -s "$S" import "$T/nope"
contains "naming it" "$OUT" "cannot import '$T/nope'"
printf 'x' >"$T/problems.jsonl"
expect_status "a JSONL whose split cannot be told exits 1" 1 "$CLARIFY" -s "$S" import "$T/problems.jsonl"
contains "asking for --split" "$OUT" "--split"
printf '\x28\xb5\x2f\xfd\x00garbage' >"$T/train.jsonl.zst"
expect_status "corrupt zstd input exits 1" 1 "$CLARIFY" -s "$S" import "$T/train.jsonl.zst"
contains "saying so" "$OUT" "zstd"

# verify catches inconsistencies: a result without a job (written with mdb_load)
if command -v mdb_load >/dev/null && command -v zstd >/dev/null; then
	V=$T/verify
	"$CLARIFY" -s "$V" import "$TESTDATA/apps" --limit 1 >/dev/null 2>&1
	store_put_raw "$V" results 'apps/train/0000#ambiguous' '{"accepted":true}'
	expect_status "verify fails on a result whose job is pending" 1 "$CLARIFY" -s "$V" verify
	contains "and says which" "$OUT" "results 'apps/train/0000#ambiguous': result exists but its job is 'pending'"
	expect_status "verify --json reports it" 1 "$CLARIFY" -s "$V" verify --json
	[ "$(jget "$OUT" .ok)" = false ] && ok "verify --json says not ok" || fail "verify --json" "$OUT"
else
	skip "verify catches inconsistencies" "mdb_load or zstd missing"
fi

# a newer schema is refused with a clear message
if command -v mdb_load >/dev/null && command -v zstd >/dev/null; then
	N=$T/newer
	"$CLARIFY" -s "$N" import "$TESTDATA/apps" --limit 1 >/dev/null 2>&1
	store_put_raw "$N" meta schema '{"version":9}'
	expect_status "a newer schema is refused" 1 "$CLARIFY" -s "$N" status
	contains "saying to upgrade" "$OUT" "schema version 9, newer than this clarify"
else
	skip "a newer schema is refused" "mdb_load or zstd missing"
fi

# verify: a job whose problem is gone, a done job without a result
if command -v mdb_load >/dev/null && command -v zstd >/dev/null; then
	store_put_raw "$V" jobs 'apps/train/0999#vague' '{"state":"done","attempts":1}'
	expect_status "verify fails on an orphan job" 1 "$CLARIFY" -s "$V" verify
	contains "whose problem is missing" "$OUT" "jobs 'apps/train/0999#vague': its problem is not in the store"
	contains "whose category is unknown" "$OUT" "jobs 'apps/train/0999#vague': unknown category"
	contains "that is done without a result" "$OUT" "job is done but has no result"
	store_put_raw "$V" problems 'apps/train/0000' 'not json'
	expect_status "verify fails on an undecodable record" 1 "$CLARIFY" -s "$V" verify
	contains "naming it" "$OUT" "problems 'apps/train/0000': cannot decode"
fi

# the writer lock dies with its writer: kill -9, then write again
S4=$T/killed
mkfifo "$T/hold"
"$CLARIFY" -s "$S4" import - --split train <"$T/hold" >/dev/null 2>&1 &
pid=$!
exec 4>"$T/hold"
i=0
while [ "$(cat "$S4/clarify.lock" 2>/dev/null)" != "$pid" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
exec 4>&-
expect_status "after kill -9 of a writer, the next writer gets the store" 0 "$CLARIFY" -s "$S4" import "$TESTDATA/apps" --limit 1
expect_status "and it verifies" 0 "$CLARIFY" -s "$S4" verify

exit $failed
