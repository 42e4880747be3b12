# test_llm.sh - the LLM client against tests/fakellm, for both providers:
# success, every fault kind, Retry-After obeyed (read from fakellm's own
# log), 401 stopping everything, cache hits making no request, and the API
# key absent from every output at debug level.
. "$(dirname "$0")/lib.sh"
: "${FAKELLM:?run through tests/run.sh}"

KEY="sk-canary-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export FAKE_KEY="$KEY"

# start_fake NAME ARGS...: a fakellm that wants the key; sets PORT and LOG
export FAKELLM_KEY="$KEY"
start_fake() {
	LOG=$T/$1.log
	shift
	start_fakellm "$LOG" --key-env FAKELLM_KEY "$@"
	PORT=$FPORT
}

# config PROVIDER [extra yaml lines]: writes $T/PROVIDER.yaml for this PORT
config() {
	p=$1
	shift
	if [ "$p" = gemini ]; then base=http://127.0.0.1:$PORT/v1beta; else base=http://127.0.0.1:$PORT/v1; fi
	{
		printf 'log:\n  level: debug\nllm:\n  provider: %s\n  base_url: %s\n  model: fake-model\n' "$p" "$base"
		printf '  api_key_env: FAKE_KEY\n  backoff_base_s: 0.05\n  backoff_max_s: 0.2\n'
		printf '  request_timeout_s: 2\n  stall_timeout_s: 1\n  max_response_mb: 1\n  max_retries: 4\n'
		for line in "$@"; do printf '  %s\n' "$line"; done
	} >"$T/$p.yaml"
	CFG=$T/$p.yaml
}

# ask NAME STATUS ARGS...: clarify ask --json with the current config; the
# reply object is in REPLY, all output (with debug logs) in ALL
ask() {
	name=$1 want=$2
	shift 2
	ALL=$("$CLARIFY" -c "$CFG" -s "$T/store-$PROVIDER" ask --json "$@" 2>&1)
	got=$?
	printf '%s\n' "$ALL" >>"$T/all-output"
	REPLY=$(printf '%s\n' "$ALL" | grep '^{"index"' | head -n 1)
	if [ "$got" -eq "$want" ]; then ok "$PROVIDER: $name"; else fail "$PROVIDER: $name" "exit $got, wanted $want" "$ALL"; fi
}

field() { jget "$REPLY" "$1"; }

# arrivals SUBSTRING: fakellm's arrival times of the requests whose prompt
# hash matches the first request that drew fault SUBSTRING
arrivals() {
	h=$(jq -r "select(.fault == \"$1\") | .prompt_sha256" "$LOG" | head -n 1)
	jq -r "select(.prompt_sha256 == \"$h\") | .t" "$LOG"
}

for PROVIDER in openai gemini; do
	start_fake "$PROVIDER"
	[ -n "$PORT" ] && ok "$PROVIDER: fakellm started on port $PORT" || fail "$PROVIDER: fakellm started" "$(cat "$T/fakellm.out")"
	config "$PROVIDER"

	ask "a plain request succeeds" 0 --no-cache "Print n. 1 <= n <= 100"
	[ "$(field .attempts)" = 1 ] && [ "$(field .http_status)" = 200 ] && ok "$PROVIDER: in one attempt" \
		|| fail "$PROVIDER: in one attempt" "$REPLY"
	contains "$PROVIDER: the reply is the model's text" "$(field .text)" "<modified_problem>"
	[ "$(field .tokens_in)" -gt 0 ] && ok "$PROVIDER: usage is read" || fail "$PROVIDER: usage is read" "$REPLY"

	# stage 3: answers, one per question shown, and a verdict broken on demand
	q3=$(printf 'Answer, then give your <verdict>.\n<questions>\n1. What is n?\n2. Is it sorted?\n</questions>')
	ask "stage 3 is answered" 0 --no-cache "$q3"
	contains "$PROVIDER: two answers" "$(field .text)" "2. The complete problem says"
	contains "$PROVIDER: a JSON verdict" "$(field .text)" '"recovers": true, "targets_change": [true, true]'
	ask "a malformed verdict on demand" 0 --no-cache "$q3 JUDGE:malformed"
	contains "$PROVIDER: the verdict is not JSON" "$(field .text)" "recovers: probably"
	ask "a verdict that does not recover" 0 --no-cache "$q3 JUDGE:not-recovered"
	contains "$PROVIDER: recovers false" "$(field .text)" '"recovers": false'

	# retryable faults: each fails once, the retry succeeds
	for f in 500 503 408 429 429date truncated badjson empty hang oversized slow; do
		ask "fault $f is retried" 0 --no-cache "FAULT:$f*1 problem $f"
		[ "$(field .attempts)" = 2 ] && [ "$(field .status)" = ok ] && ok "$PROVIDER: $f: ok on the second attempt" \
			|| fail "$PROVIDER: $f: ok on the second attempt" "$REPLY"
	done

	# Retry-After: no request before the deadline, read from fakellm's log
	for f in 429 429date; do
		set -- $(arrivals "$f")
		if [ $# -ge 2 ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(b - a >= 0.99) }'; then
			ok "$PROVIDER: Retry-After ($f) obeyed: $(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }') s"
		else
			fail "$PROVIDER: Retry-After ($f) obeyed" "arrivals: $*"
		fi
	done
	# backoff: a fault twice gives three arrivals, spaced
	ask "a fault twice is retried twice" 0 --no-cache "FAULT:503*2 twice"
	[ "$(field .attempts)" = 3 ] && ok "$PROVIDER: three attempts" || fail "$PROVIDER: three attempts" "$REPLY"

	# faults that are not retried
	for f in 400 404 422; do
		ask "fault $f is not retried" 1 --no-cache "FAULT:$f problem"
		[ "$(field .attempts)" = 1 ] && [ "$(field .status)" = refused ] && ok "$PROVIDER: $f: refused at once" \
			|| fail "$PROVIDER: $f: refused at once" "$REPLY"
		contains "$PROVIDER: $f: with the reason" "$(field .error)" "HTTP $f"
	done
	ask "a blocked prompt is a failure" 1 --no-cache "FAULT:blocked problem"
	[ "$(field .attempts)" = 1 ] && ok "$PROVIDER: blocked: not retried" || fail "$PROVIDER: blocked: not retried" "$REPLY"
	[ "$(field .text)" = null ] && ok "$PROVIDER: blocked: no text kept" || fail "$PROVIDER: blocked: no text" "$REPLY"
	if [ "$PROVIDER" = gemini ]; then
		contains "gemini: blocked: says why" "$(field .error)" "blocked: SAFETY"
		ask "a safety stop is a failure" 1 --no-cache "FAULT:safety problem"
		contains "gemini: safety: says why" "$(field .error)" "SAFETY"
	fi
	ask "finish_reason length is reported" 0 --no-cache "FAULT:length problem"
	[ "$(field .finish_reason)" = length ] && ok "$PROVIDER: length" || fail "$PROVIDER: length" "$REPLY"
	ask "a fault on every attempt gives up" 1 --no-cache "FAULT:500 always"
	[ "$(field .attempts)" = 5 ] && [ "$(field .status)" = "gave up" ] && ok "$PROVIDER: gave up after 1 + 4 retries" \
		|| fail "$PROVIDER: gave up after 1 + 4 retries" "$REPLY"

	# the cache: a second ask makes no request
	ask "a first request is sent" 0 "cache me"
	before=$(wc -l <"$LOG")
	ask "the same request again" 0 "cache me"
	after=$(wc -l <"$LOG")
	[ "$(field .cached)" = true ] && [ "$before" -eq "$after" ] && ok "$PROVIDER: a cache hit makes no request" \
		|| fail "$PROVIDER: a cache hit makes no request" "$before -> $after requests" "$REPLY"
	ask "another temperature is another request" 0 --temperature 0.7 "cache me"
	[ "$(field .cached)" = false ] && ok "$PROVIDER: parameters are part of the key" \
		|| fail "$PROVIDER: parameters are part of the key" "$REPLY"
	ask "--no-cache sends it" 0 --no-cache "cache me"
	[ "$(wc -l <"$LOG")" -gt "$after" ] && ok "$PROVIDER: --no-cache sends" || fail "$PROVIDER: --no-cache sends"

	# many at once: all answered, in order
	seq 1 40 | sed 's/.*/{"user": "Problem &. 1 <= n <= &"}/' >"$T/many.jsonl"
	ALL=$("$CLARIFY" -c "$CFG" -s "$T/store-$PROVIDER" ask --json --no-cache --file "$T/many.jsonl" 2>/dev/null)
	n=$(printf '%s\n' "$ALL" | grep -c '"status":"ok"')
	last=$(printf '%s\n' "$ALL" | grep '^{"index"' | tail -n 1 | jq .index)
	[ "$n" -eq 40 ] && [ "$last" -eq 39 ] && ok "$PROVIDER: 40 requests at once, in order" \
		|| fail "$PROVIDER: 40 requests at once" "$ALL"

	# 401 stops everything: the wrong key
	FAKE_KEY=wrong-key ask "a rejected key fails" 1 --no-cache "one" "two" "three"
	contains "$PROVIDER: with 'credentials rejected by <base_url>'" "$ALL" "credentials rejected by http://127.0.0.1:$PORT"
	[ "$(printf '%s\n' "$ALL" | grep -c '"status":"credentials rejected"')" -eq 3 ] \
		&& ok "$PROVIDER: every request stops" || fail "$PROVIDER: every request stops" "$ALL"
	ask "FAULT:401 stops too" 1 --no-cache "FAULT:401 x"
	[ "$(field .attempts)" = 1 ] && ok "$PROVIDER: 401 is not retried" || fail "$PROVIDER: 401 not retried" "$REPLY"
	contains "$PROVIDER: wrong key is logged by fakellm as wrong" "$(cat "$LOG")" '"auth": "wrong"'

	# a token budget stops new work
	config "$PROVIDER" "max_total_tokens: 1" "max_in_flight: 1"
	ask "a spent budget fails the rest" 1 --no-cache "first" "second"
	contains "$PROVIDER: saying the budget is spent" "$ALL" "token budget"

	if [ "$PROVIDER" = openai ]; then
		# requests/min: 120 a minute is a burst of 10, then one every 0.5 s
		config "$PROVIDER" "requests_per_min: 120"
		seq 1 14 | sed 's/.*/{"user": "rate limited &"}/' >"$T/rate.jsonl"
		start=$(wc -l <"$LOG")
		"$CLARIFY" -c "$CFG" -s "$T/store-$PROVIDER" ask --json --no-cache --file "$T/rate.jsonl" >/dev/null 2>&1
		spread=$(tail -n +$((start + 1)) "$LOG" | jq -s '(map(.t) | max) - (map(.t) | min)')
		if awk -v s="$spread" 'BEGIN { exit !(s >= 1.5 && s < 6) }'; then
			ok "$PROVIDER: requests_per_min spreads 14 requests over $spread s"
		else
			fail "$PROVIDER: requests_per_min spreads the requests" "spread $spread s"
		fi

		# a storm of 429s lowers the in-flight cap
		config "$PROVIDER" "max_in_flight: 16"
		seq 1 16 | sed 's/.*/{"user": "FAULT:429*1 storm &"}/' >"$T/storm.jsonl"
		sum=$("$CLARIFY" -c "$CFG" -s "$T/store-$PROVIDER" ask --json --no-cache --file "$T/storm.jsonl" 2>/dev/null | tail -n 1)
		cap=$(jget "$sum" .in_flight_cap)
		[ "$(jget "$sum" .throttled)" -ge 16 ] && [ "$cap" -lt 16 ] && [ "$(jget "$sum" .failed)" -eq 0 ] \
			&& ok "$PROVIDER: 16 throttled requests halve the in-flight cap (now $cap), all succeed" \
			|| fail "$PROVIDER: a 429 storm lowers the cap" "$sum"

		# the circuit breaker: 3 failures in a row pause the endpoint 0.5 s,
		# a failed probe doubles the pause
		printf 'llm:\n  provider: openai\n  base_url: http://127.0.0.1:%s/v1\n  model: m\n' "$PORT" >"$T/breaker.yaml"
		printf '  api_key_env: FAKE_KEY\n  circuit_failures: 3\n  circuit_cooldown_s: 0.5\n' >>"$T/breaker.yaml"
		printf '  backoff_base_s: 0.01\n  backoff_max_s: 0.02\n  max_retries: 6\n' >>"$T/breaker.yaml"
		CFG=$T/breaker.yaml
		ask "a failing endpoint is paused, then probed" 0 --no-cache "FAULT:503*4 breaker"
		h=$(jq -r 'select(.fault == "503") | .prompt_sha256' "$LOG" | tail -n 1)
		set -- $(jq -r "select(.prompt_sha256 == \"$h\") | .t" "$LOG") 0 0 0 0 0
		gap3=$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.3f", b - a }')
		gap4=$(awk -v a="$4" -v b="$5" 'BEGIN { printf "%.3f", b - a }')
		if awk -v g="$gap3" -v h="$gap4" 'BEGIN { exit !(g >= 0.45 && h >= 0.95) }'; then
			ok "$PROVIDER: paused $gap3 s after 3 failures, $gap4 s after a failed probe"
		else
			fail "$PROVIDER: circuit breaker pauses" "arrivals: $*" "gaps $gap3 $gap4"
		fi
	fi

	stop_fakellm
done

# the key: in no output (debug level), no store, no log of fakellm's
if grep -q -- "$KEY" "$T/all-output"; then fail "the key is in no output"; else ok "the key is in no output"; fi
for p in openai gemini; do
	if mdb_dump -a "$T/store-$p" 2>/dev/null | grep -q -- "$KEY" ||
		grep -rq -- "$KEY" "$T/store-$p" 2>/dev/null; then
		fail "the key is not in the $p store"
	else
		ok "the key is not in the $p store"
	fi
	if grep -q -- "$KEY" "$T/$p.log"; then fail "fakellm's $p log has no key"; else ok "fakellm's $p log has no key"; fi
done
grep -q '"Authorization\|x-goog-api-key: ' "$T/all-output" && fail "no header is logged" || ok "no header is logged"

# offline: deterministic, no network, no key needed
printf 'llm:\n  provider: offline\n' >"$T/offline.yaml"
a=$(FAKE_KEY= "$CLARIFY" -c "$T/offline.yaml" -s "$T/store-off" ask --no-cache --category incomplete "Print n. 1 <= n <= 100." 2>&1)
b=$(FAKE_KEY= "$CLARIFY" -c "$T/offline.yaml" -s "$T/store-off" ask --no-cache --category incomplete "Print n. 1 <= n <= 100." 2>&1)
[ "$a" = "$b" ] && ok "offline: same input, same output" || fail "offline: same output" "$a" "$b"
contains "offline: answers in the tagged format" "$a" "<modified_problem>"

exit $failed
