# test_import.sh - clarify import, status, show, verify on real stores
. "$(dirname "$0")/lib.sh"

S=$T/store

# the project's own sample problems, both layouts
expect_status "import of tests/data/apps exits 0" 0 "$CLARIFY" -s "$S" import "$TESTDATA/apps" --json
n=$(jget "$OUT" .new)
[ "$n" -ge 10 ] && ok "import reports $n new problems" || fail "import reports new problems" "$OUT"
[ "$(jget "$OUT" .jobs_added)" -eq $((n * 3)) ] && ok "three pending jobs per problem" \
	|| fail "three pending jobs per problem" "$OUT"
expect_status "re-import of the JSONL layout exits 0" 0 "$CLARIFY" -s "$S" import "$TESTDATA/apps-hf/train.jsonl" --json
[ "$(jget "$OUT" .unchanged)" -eq "$n" ] && [ "$(jget "$OUT" .new)" -eq 0 ] \
	&& ok "the other layout of the same problems is unchanged" || fail "other layout unchanged" "$OUT"
[ "$(jget "$OUT" .jobs_added)" -eq 0 ] && ok "re-import adds no jobs" || fail "re-import adds no jobs" "$OUT"

expect_status "status --json exits 0" 0 "$CLARIFY" -s "$S" status --json
[ "$(jget "$OUT" .problems)" -eq "$n" ] && [ "$(jget "$OUT" .jobs.pending)" -eq $((n * 3)) ] \
	&& ok "status counts problems and pending jobs" || fail "status counts" "$OUT"
[ "$(jget "$OUT" .by_category.incomplete.pending)" -eq "$n" ] && ok "status counts by category" \
	|| fail "status counts by category" "$OUT"
expect_status "status as a table" 0 "$CLARIFY" -s "$S" status
contains "the table has a row per category" "$OUT" "inconsistent"

expect_status "show a problem" 0 "$CLARIFY" -s "$S" show apps/train/0042
contains "show prints the question" "$OUT" "Example 1"
contains "show prints the jobs" "$OUT" "apps/train/0042#ambiguous"
expect_status "show --json by job key" 0 "$CLARIFY" -s "$S" show 'apps/train/0042#incomplete' --json
[ "$(jget "$OUT" .jobs.ambiguous.state)" = pending ] && ok "show --json has the jobs" || fail "show --json" "$OUT"
expect_status "show of an unknown key exits 1" 1 "$CLARIFY" -s "$S" show apps/train/7777
contains "and names the key" "$OUT" "no problem 'apps/train/7777'"

expect_status "verify a good store" 0 "$CLARIFY" -s "$S" verify
contains "verify reports what it checked" "$OUT" "0 issues"

# mdb_stat reads it as any LMDB environment
if command -v mdb_stat >/dev/null; then
	out=$(mdb_stat -a "$S" 2>&1)
	for db in meta problems jobs results cache; do
		contains "mdb_stat lists '$db'" "$out" "Status of $db"
	done
else
	skip "mdb_stat lists the databases" "mdb_stat not installed"
fi

# a second writer is refused, naming the first
# (an import reading standard input holds the lock while it waits for lines)
mkfifo "$T/fifo"
"$CLARIFY" -s "$S" import - --split train <"$T/fifo" >/dev/null 2>&1 &
holder=$!
exec 3>"$T/fifo"
i=0
while [ "$(cat "$S/clarify.lock" 2>/dev/null)" != "$holder" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
expect_status "a second writer is refused" 1 "$CLARIFY" -s "$S" import "$TESTDATA/apps"
contains "naming the holder's pid" "$OUT" "pid $holder"
expect_status "readers work meanwhile" 0 "$CLARIFY" -s "$S" status --json
printf '%s\n' '{"problem_id": 9000, "question": "Piped in."}' >&3
exec 3>&-
wait "$holder"
[ $? -eq 0 ] && ok "the import from standard input finishes" || fail "import from stdin"
expect_status "and its problem is there" 0 "$CLARIFY" -s "$S" show apps/train/9000

# the shared reference data (the issue's acceptance steps)
if [ -d "$SHARED_DATA/apps" ]; then
	S2=$T/shared
	expect_status "import shared APPS folders" 0 "$CLARIFY" -s "$S2" import "$SHARED_DATA/apps" --json
	[ "$(jget "$OUT" .new)" -eq 5 ] && ok "five shared problems" || fail "five shared problems" "$OUT"
	expect_status "import shared JSONL" 0 "$CLARIFY" -s "$S2" import "$SHARED_DATA/apps-hf/train.jsonl" --split train
	contains "the JSONL reports 5 unchanged" "$OUT" "5 unchanged"
	expect_status "status of the shared store" 0 "$CLARIFY" -s "$S2" status --json
	[ "$(jget "$OUT" .problems)" -eq 5 ] && [ "$(jget "$OUT" .jobs.pending)" -eq 15 ] \
		&& ok "5 problems and 15 pending jobs" || fail "5 problems and 15 pending jobs" "$OUT"
	expect_status "verify the shared store" 0 "$CLARIFY" -s "$S2" verify
else
	skip "shared APPS data" "$SHARED_DATA/apps is missing"
fi

# CLARIFY_STORE and -s
expect_status "CLARIFY_STORE picks the store" 0 env CLARIFY_STORE="$S" "$CLARIFY" status --json
[ "$(jget "$OUT" .store)" = "$S" ] && ok "status names that store" || fail "CLARIFY_STORE" "$OUT"

# --limit, and quiet in pipes: no progress bar characters on stderr
S3=$T/limited
expect_status "import --limit" 0 "$CLARIFY" -s "$S3" import "$TESTDATA/apps" --limit 4 --json
[ "$(jget "$OUT" .new)" -eq 4 ] && ok "--limit 4 imports 4" || fail "--limit 4" "$OUT"
case $OUT in *'['*'#'*) fail "no progress bar in a pipe" "$OUT" ;; *) ok "no progress bar in a pipe" ;; esac

# many small batches through the reader/writer queue, and a tiny map that
# must grow many times on the way
printf 'store:\n  batch_records: 2\n  map_size_mb: 1\n' >"$T/small.yaml"
expect_status "import in batches of two" 0 "$CLARIFY" -c "$T/small.yaml" -s "$T/batches" import "$TESTDATA/apps" --json
[ "$(jget "$OUT" .new)" -eq "$n" ] && ok "every batch arrives" || fail "every batch arrives" "$OUT"
expect_status "re-import in batches of two" 0 "$CLARIFY" -c "$T/small.yaml" -s "$T/batches" import "$TESTDATA/apps-hf/train.jsonl" --json
[ "$(jget "$OUT" .unchanged)" -eq "$n" ] && ok "all unchanged" || fail "all unchanged" "$OUT"
big=$(head -c 1500000 /dev/zero | tr '\0' 'a')
printf '{"problem_id": 1, "question": "%s"}\n{"problem_id": 2, "question": "small"}\n' "$big" >"$T/train.jsonl"
printf 'store:\n  max_record_mb: 1\n' >"$T/cap.yaml"
expect_status "a record over the store's cap is skipped, the rest imported" 0 \
	"$CLARIFY" -c "$T/cap.yaml" -s "$T/cap" import "$T/train.jsonl" --json
contains "with a warning naming it" "$OUT" "skipped 'apps/train/0001'"
[ "$(jget "$(printf '%s' "$OUT" | sed -n '/^{/,$p')" .new)" -eq 1 ] && ok "the small one is imported" \
	|| fail "the small one is imported" "$OUT"
expect_status "and the store verifies" 0 "$CLARIFY" -s "$T/batches" verify

exit $failed
