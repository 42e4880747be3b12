# test_batch.sh - llm.mode batch against tests/fakellm's Files and Batches
# endpoints: three stages through batches, the uploaded JSONL in the
# published input format, kill -9 at moments of a batch's life with no
# batch created twice and every job ended once, and the faults (an upload
# that fails, per-line errors, an expired batch, a duplicate custom_id, a
# batch that never ends, cancelled with clarify batches cancel).
. "$(dirname "$0")/batchlib.sh"

KEY="sk-batch-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export FAKELLM_KEY="$KEY" BATCH_KEY="$KEY" PROVIDER=openai API_PATH=/v1

# ---- three stages through batches ----------------------------------------
setup plain --batch-seconds 0.3
expect_status "clarifyd --once in batch mode" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
ended; [ "$E" -eq 36 ] && [ "$(jget "$st" .jobs.pending)" -eq 0 ] && ok "every job ended" \
	|| fail "every job ended" "$st"
n=$(grep -c '"batch-create"' "$LOG")
[ "$n" -eq 3 ] && ok "one batch per stage (3)" || fail "one batch per stage" "$n batches"
contains "the stages follow each other" "$OUT" "requests of stage answer gathered"
b=$("$CLARIFY" -s "$S" batches --json)
[ "$(echo "$b" | jq '[.[] | select(.state == "done" and .status == "completed")] | length')" -eq 3 ] \
	&& ok "clarify batches: three done, completed" || fail "clarify batches" "$b"
check "clarify batches lists them" "$CLARIFY" -s "$S" batches
contains "in a table" "$out" "3 batches, 0 live"
check "the store verifies" "$CLARIFY" -s "$S" verify
# the uploaded files, as fakellm keeps them: the published input format
fid=$(grep '"file-upload"' "$LOG" | head -1 | jq -r .id)
curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$FPORT/v1/files/$fid/content" >"$T/in.jsonl"
bad=$(jq -c 'select((keys != ["body", "custom_id", "method", "url"]) or .method != "POST" or
	.url != "/v1/chat/completions" or (.body.model | type) != "string" or
	(.body.messages | type) != "array" or (.custom_id | test("^[0-9a-f]{64}$") | not))' "$T/in.jsonl" | head -3)
lines=$(wc -l <"$T/in.jsonl")
[ "$lines" -eq 36 ] && [ -z "$bad" ] && ok "the input JSONL: custom_id, method, url, body (model, messages)" \
	|| fail "input JSONL format" "$lines lines; $bad"
roles=$(jq -r '.body.messages[].role' "$T/in.jsonl" | sort -u | tr '\n' ' ')
[ "$roles" = "system user " ] && ok "bodies are chat completion requests" || fail "roles" "$roles"
grep -q "$KEY" "$T/in.jsonl" "$S"/data.mdb 2>/dev/null && fail "no key in the files" || ok "no key in the files or the store"
st=$("$CLARIFY" -s "$S" stats --json)
[ "$(jget "$st" .overall.usage.batch.records)" -eq 36 ] && ok "stats: 36 records from batches" \
	|| fail "stats batch records" "$(jget "$st" .overall.usage)"
expect_status "a second run" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
[ "$(grep -c '"batch-create"' "$LOG")" -eq 3 ] && ok "makes no batch" || fail "second run made a batch"
"$CLARIFY" -s "$S" export --no-card -o "$T/batch.jsonl" >/dev/null 2>&1
# what batch mode saves: the same 36 jobs online, against the same fakellm,
# both priced at gpt-4o-mini's published rates (0.15 and 0.60 a million
# tokens; its Batch API half of them, llm.batch_discount 0.5)
ON=$T/online
"$CLARIFY" -s "$ON" import "$TESTDATA/apps" >/dev/null 2>&1
sed 's/^  mode: batch$/  mode: online\n  price_in_per_mtok: 0.15\n  price_out_per_mtok: 0.60/' \
	"$CFG" >"$T/online.yaml"
expect_status "the same jobs online" 0 "$CLARIFYD" -c "$T/online.yaml" -s "$ON" --once --no-progress
m_on=$("$CLARIFY" -c "$T/online.yaml" -s "$ON" stats --json | jq .overall.usage)
m_b=$("$CLARIFY" -c "$T/online.yaml" -s "$S" stats --json | jq .overall.usage)
saving=$(jq -n --argjson a "$m_on" --argjson b "$m_b" \
	'if ($a.tokens == $b.tokens) then (1 - $b.money.total / $a.money.total) * 100 | round else -1 end')
[ "$saving" -eq 50 ] && ok "batch mode costs half: $(echo "$m_b" | jq .money.total) vs $(echo "$m_on" | jq .money.total) for the same $(echo "$m_on" | jq .tokens) tokens (saving $saving%)" \
	|| fail "the saving" "online $(echo $m_on); batch $(echo $m_b)"
echo "# figure: batch saving: $saving% ($(echo "$m_b" | jq .money.total) vs $(echo "$m_on" | jq .money.total), $(echo "$m_on" | jq .tokens) tokens)"
stop_fakellm

# ---- 300 jobs, kill -9 at random moments of a batch's life -----------------
# 100 problems (the shared APPS corpus when present, else the sample
# repeated), each made unique, so 300 jobs; batches of 60 requests
CORPUS=$SHARED_DATA/apps-corpus/questions.jsonl
[ -r "${CORPUS:-}" ] || CORPUS=$TESTDATA/apps-hf/train.jsonl
jq -c -s '[range(0; 100) as $i | .[$i % length] | {problem_id: (5000 + $i),
	question: (.question + "\n\n(Set \($i).)"), solutions: "[\"print(1)\"]",
	input_output: "{\"inputs\": [\"1\\n\"], \"outputs\": [\"1\\n\"]}",
	difficulty: "interview", url: "", starter_code: ""}] | .[]' "$CORPUS" >"$T/p100.jsonl"
setup300() {
	BMAX=60 setup "$1" --batch-seconds 0.4
	"$CLARIFY" -s "$S" import --split train "$T/p100.jsonl" >/dev/null 2>&1
}
setup300 ref
expect_status "300 jobs without a kill" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
"$CLARIFY" -s "$S" export --no-card -o "$T/ref.jsonl" >/dev/null 2>&1
REF=$S
stop_fakellm

setup300 killed
# the moments: after an upload, after a create, while polling (a random
# 0-300 ms after a create), and when a poll has seen a batch completed
# (while it downloads and reads the output); seeded, so a failure repeats
moments=$(awk 'BEGIN { srand(18); for (i = 0; i < 12; i++)
	printf "%d:%d ", i % 4, int(rand() * 300) }')
kill_at "$moments"
[ "$runs" -ge 8 ] && ok "$runs runs killed at their moment" || fail "kills" "only $runs killed"
expect_status "a last run after the kills" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
echo "$OUT" >>"$T/killed.out"
# the sample's 36 jobs and the 300
ended; [ "$E" -eq 336 ] && [ "$(jget "$st" .jobs.pending)" -eq 0 ] && ok "every one of 336 jobs ended" \
	|| fail "after kills" "$st"
res=$(echo "$st" | jq .results)
[ "$res" -eq 336 ] && ok "one result per job" || fail "one result per job" "$res"
after_kills
stop_fakellm

# ---- faults -----------------------------------------------------------------
common_faults "upload: POST /files: HTTP 500" "server_error"

setup dupid --batch-seconds 0.2 --batch-fault dupid
expect_status "a duplicate custom_id" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
contains "keeps the first line" "$OUT" "again: the first line kept"
ended; [ "$E" -eq 36 ] && ok "every job ended once" || fail "dupid ended" "$st"
stop_fakellm

setup stuck --batch-seconds 0.2 --batch-fault stuck
timeout -s TERM 3 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress >"$T/stuck.out" 2>&1
b=$("$CLARIFY" -s "$S" batches --json)
[ "$(echo "$b" | jq -r '.[0].status')" = in_progress ] && ok "a batch that never ends stays live" \
	|| fail "stuck live" "$b"
check "clarify status shows it" "$CLARIFY" -s "$S" status
contains "live, holding its requests" "$out" "1 live, holding 36 requests"
id=$(echo "$b" | jq -r '.[0].id')
check "clarify batches cancel" "$CLARIFY" -c "$CFG" -s "$S" batches cancel "$id"
contains "says cancelled" "$out" "cancelled"
expect_status "the next run" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
contains "takes the cancelled batch in" "$OUT" "(modify): in, 36 answered"
expect_status "cancel of an unknown batch" 1 "$CLARIFY" -c "$CFG" -s "$S" batches cancel nope
contains "says so" "$OUT" "no batch 'nope'"
stop_fakellm

# a shutdown ends a provider call in progress (a poll that takes 30 s,
# with request_timeout_s 10) and the next run resumes its batch
setup slowpoll --batch-seconds 0.2 --batch-fault slowpoll
"$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress >"$T/slow.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q '"batch-create"' "$LOG"; do sleep 0.01; i=$((i + 1)); done
sleep 0.5
t0=$(date +%s%N)
kill -TERM $pid
wait $pid
rc=$? ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 3000 ] && ok "SIGTERM during a slow poll ends the run in $ms ms (rc $rc)" \
	|| fail "SIGTERM waits on the poll" "$ms ms, rc $rc: $(tail -3 "$T/slow.out")"
expect_status "the next run" 0 "$CLARIFYD" -c "$CFG" -s "$S" --once --no-progress
contains "resumes the batch" "$OUT" "resumed, submitted"
ended; [ "$E" -eq 36 ] && ok "and every job ends" || fail "slowpoll ended" "$st"
[ "$(grep -c '"batch-create"' "$LOG")" -eq 3 ] && ok "with no batch made again" \
	|| fail "batches after slowpoll" "$(grep -c '"batch-create"' "$LOG")"
stop_fakellm

printf 'llm:\n  mode: batch\n' >"$T/off.yaml"
expect_status "batch mode with the offline provider" 2 "$CLARIFYD" -c "$T/off.yaml" -s "$T/plain" --once
contains "is refused with the reason" "$OUT" "llm.mode batch needs llm.provider openai or gemini"
expect_status "and by --check-config" 2 "$CLARIFYD" -c "$T/off.yaml" --check-config
contains "with the same reason" "$OUT" "llm.mode batch needs llm.provider openai or gemini"
exit $failed
