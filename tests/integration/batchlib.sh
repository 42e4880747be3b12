# tests/integration/batchlib.sh - what test_batch.sh and
# test_batch_gemini.sh share: a fakellm and a store of the 12 sample
# problems in batch mode, the count of ended jobs, clarifyd killed at
# moments of a batch's life and what they must leave, and the faults both
# APIs answer alike.
. "$(dirname "$0")/lib.sh"
: "${FAKELLM:?run through tests/run.sh}"

# setup NAME [fakellm args]: a fakellm, a store of the 12 sample
# problems (36 jobs) and $CFG for them in batch mode, for $PROVIDER at
# $API_PATH (/v1, /v1beta) with the key in BATCH_KEY; BMAX requests a batch
setup() {
	S=$T/$1
	shift
	LOG=$T/$(basename "$S").log
	start_fakellm "$LOG" --key-env FAKELLM_KEY "$@"
	"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
	CFG=$T/$(basename "$S").yaml
	cat >"$CFG" <<YAML
llm:
  provider: $PROVIDER
  base_url: http://127.0.0.1:$FPORT$API_PATH
  model: fake-batch
  api_key_env: BATCH_KEY
  mode: batch
  batch_max_requests: ${BMAX:-40}
  batch_poll_s: 0.05
  connect_timeout_s: 2
  request_timeout_s: 10
filters:
  near_duplicate: 0
YAML
}

ended() { # E: the jobs done, rejected or failed; st: the status
	st=$("$CLARIFY" -s "$S" status --json)
	E=$(( $(jget "$st" .jobs.done) + $(jget "$st" .jobs.rejected) + $(jget "$st" .jobs.failed) ))
}

# kill_at "KIND:MS ...": a clarifyd --once per moment, killed -9 after an
# upload (0), a create (1), MS ms after a create (2: while polling), or
# when a poll has seen a batch completed (3: while it downloads and reads
# the output); their output in $T/killed.out, how many were killed in runs
kill_at() {
	runs=0
	for m in $1; do
		kind=${m%%:*} ms=${m#*:}
		"$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress >"$T/run.out" 2>&1 &
		pid=$!
		case $kind in
		0) pat='"file-upload"' file=$LOG ms=0 ;;
		1) pat='"batch-create"' file=$LOG ms=0 ;;
		2) pat='"batch-create"' file=$LOG ;;
		3) pat=': completed, ' file=$T/run.out ms=0 ;;
		esac
		before=$(grep -c "$pat" "$file")
		i=0
		while [ $i -lt 500 ] && [ "$(grep -c "$pat" "$file")" -le "$before" ] &&
			kill -0 $pid 2>/dev/null; do
			sleep 0.01
			i=$((i + 1))
		done
		[ "$ms" -gt 0 ] && sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
		kill -9 $pid 2>/dev/null && runs=$((runs + 1))
		wait $pid 2>/dev/null
		cat "$T/run.out" >>"$T/killed.out"
	done
}

# after_kills: what kill_at must leave: no batch created twice, no file
# uploaded twice (fakellm's log), a store that verifies, the rows of the
# run without kills ($T/ref.jsonl), batches resumed and none of their
# replies asked again
after_kills() {
	dups=$(grep '"batch-create"' "$LOG" | jq -r .tag | sort | uniq -d)
	[ -z "$dups" ] && ok "no batch was created twice ($(grep -c '"batch-create"' "$LOG") made)" \
		|| fail "no batch created twice" "$dups"
	fdups=$(grep '"file-upload"' "$LOG" | jq -r .filename | sort | uniq -d)
	[ -z "$fdups" ] && ok "no file was uploaded twice" || fail "no file uploaded twice" "$fdups"
	check "the store verifies after the kills" "$CLARIFY" -s "$S" verify
	"$CLARIFY" -s "$S" export --no-card -o "$T/killed.jsonl" >/dev/null 2>&1
	[ -s "$T/ref.jsonl" ] && cmp -s "$T/ref.jsonl" "$T/killed.jsonl" \
		&& ok "the same rows as the run without kills ($(wc -l <"$T/ref.jsonl") rows)" \
		|| fail "same rows" "$(diff "$T/ref.jsonl" "$T/killed.jsonl" | head -3)"
	grep -q "resumed" "$T/killed.out" && ok "a killed run's batches are resumed" \
		|| fail "resumed" "$(tail -3 "$T/killed.out")"
	grep -q "requests unanswered" "$T/killed.out" \
		&& fail "a resumed batch's replies are read, not asked again" \
			"$(grep "requests unanswered" "$T/killed.out" | head -2)" \
		|| ok "a resumed batch's replies are read, not asked again"
}

# common_faults UPLOAD LINE: the faults both APIs answer alike, each on a
# fakellm of its own: an upload answered 500 (its message UPLOAD) and
# tried again, every fifth line failed (its job's reason has LINE) and
# only its job with it, expired batches whose unanswered jobs go back
common_faults() {
	setup upload500 --batch-seconds 0.2 --batch-fault upload500
	expect_status "an upload answered 500" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
	contains "is tried again" "$OUT" "$1"
	ended; [ "$E" -eq 36 ] && ok "and every job ends" || fail "upload500 ended" "$st"
	stop_fakellm

	setup errors --batch-seconds 0.2 --batch-fault errors
	expect_status "per-line errors" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
	ended
	f=$(jget "$st" .jobs.failed)
	[ "$f" -gt 0 ] && [ "$E" -eq 36 ] && ok "fail only their jobs ($f failed, every job ended)" \
		|| fail "per-line errors" "$st"
	"$CLARIFY" -s "$S" samples --failed --json >"$T/failed.json" 2>/dev/null
	grep -q "$2" "$T/failed.json" && ok "with the line's error as the reason" \
		|| fail "the reason" "$(head -c 300 "$T/failed.json")"
	stop_fakellm

	setup expire --batch-seconds 0.2 --batch-fault expire
	expect_status "expired batches" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
	contains "put their unanswered jobs back" "$OUT" "expired: 18 requests unanswered"
	ended; [ "$E" -eq 36 ] && ok "which later batches answer" || fail "expire ended" "$st"
	stop_fakellm
}
