# test_batch_gemini.sh - llm.mode batch with llm.provider gemini against
# tests/fakellm's Gemini endpoints (resumable upload, batchGenerateContent,
# the batches operations, download): three stages through batches, the
# uploaded JSONL as Gemini's batch input ({key, request}), kill -9 at
# moments of a batch's life with nothing made twice (a file and a batch
# are found again by their display names), and the faults.
. "$(dirname "$0")/batchlib.sh"

KEY="AIza-batch-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export FAKELLM_KEY="$KEY" BATCH_KEY="$KEY" PROVIDER=gemini API_PATH=/v1beta

# ---- three stages through batches ----------------------------------------
BMAX=12 setup plain --batch-seconds 0.3
expect_status "clarifyd --once, Gemini in batch mode" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
ended; [ "$E" -eq 36 ] && [ "$(jget "$st" .jobs.pending)" -eq 0 ] && ok "every job ended" \
	|| fail "every job ended" "$st"
[ "$(jget "$st" .jobs.done)" -gt 0 ] && ok "with records ($(jget "$st" .jobs.done) done)" \
	|| fail "records" "$st"
n=$(grep -c '"batch-create"' "$LOG")
[ "$n" -eq 9 ] && ok "three batches of 12 per stage (9)" || fail "batches per stage" "$n batches"
b=$("$CLARIFY" -s "$S" batches --json)
[ "$(echo "$b" | jq '[.[] | select(.state == "done" and .status == "completed" and
	(.batch_id | startswith("batches/")))] | length')" -eq 9 ] \
	&& ok "clarify batches: nine done, completed, named batches/..." || fail "clarify batches" "$b"
check "the store verifies" "$CLARIFY" -s "$S" verify
fid=$(grep '"file-upload"' "$LOG" | head -1 | jq -r .id)
curl -sf -H "x-goog-api-key: $KEY" \
	"http://127.0.0.1:$FPORT/download/v1beta/$fid:download?alt=media" >"$T/in.jsonl"
bad=$(jq -c 'select((keys != ["key", "request"]) or (.key | test("^[0-9a-f]{64}$") | not) or
	(.request.contents | type) != "array" or (.request.contents[0].parts[0].text | type) != "string"
	or (.request.generationConfig | type) != "object")' "$T/in.jsonl" | head -3)
lines=$(wc -l <"$T/in.jsonl")
[ "$lines" -eq 12 ] && [ -z "$bad" ] && ok "the input JSONL: key, request (a GenerateContentRequest)" \
	|| fail "input JSONL format" "$lines lines; $bad"
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FPORT/download/v1beta/$fid:download?alt=media" \
	>"$T/code"
[ "$(cat "$T/code")" = 401 ] && ok "fakellm's Gemini endpoints want the key" || fail "key wanted" "$(cat "$T/code")"
grep -q "$KEY" "$T/in.jsonl" "$S"/data.mdb 2>/dev/null && fail "no key in the files" || ok "no key in the files or the store"
st=$("$CLARIFY" -s "$S" stats --json)
[ "$(jget "$st" .overall.usage.batch.records)" -eq "$(jget "$st" .overall.records)" ] \
	&& ok "stats: every record from a batch" || fail "stats batch records" "$(jget "$st" .overall.usage)"
"$CLARIFY" -s "$S" export --no-card -o "$T/ref.jsonl" >/dev/null 2>&1
stop_fakellm

# ---- kill -9 at moments of a batch's life ----------------------------------
BMAX=12 setup killed --batch-seconds 0.3
kill_at "0:0 1:0 2:120 3:0 0:0 1:0 2:60 3:0"
[ "$runs" -ge 5 ] && ok "$runs runs killed at their moment" || fail "kills" "only $runs killed"
expect_status "a last run after the kills" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
ended; [ "$E" -eq 36 ] && [ "$(jget "$st" .jobs.pending)" -eq 0 ] && ok "every job ended" \
	|| fail "after kills" "$st"
after_kills
stop_fakellm

# ---- faults -----------------------------------------------------------------
common_faults "upload: POST /files (upload start): HTTP 500" "500 INTERNAL"

setup stuck --batch-seconds 0.2 --batch-fault stuck
timeout -s TERM 3 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress >"$T/stuck.out" 2>&1
b=$("$CLARIFY" -s "$S" batches --json)
[ "$(echo "$b" | jq -r '.[0].status')" = in_progress ] && ok "a batch that never ends stays live" \
	|| fail "stuck live" "$b"
id=$(echo "$b" | jq -r '.[0].id')
check "clarify batches cancel (:cancel)" "$CLARIFY" -c "$CFG" -s "$S" batches cancel "$id"
contains "says cancelled" "$out" "cancelled"
expect_status "the next run" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
contains "takes the cancelled batch in" "$OUT" "(modify): in, 36 answered"
ended; [ "$E" -eq 36 ] && ok "every job ended" || fail "stuck ended" "$st"
stop_fakellm
exit $failed
