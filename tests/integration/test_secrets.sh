# test_secrets.sh - a canary API key, given as a key file (clarifyd) and
# as an environment variable (clarify ask), through a whole run against
# fakellm at debug level, is found nowhere: not in any output, not in the
# store (raw and decoded), not on the daemon's command line; a core file
# is checked too, where the kernel writes one here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/soaklib.sh"
: "${FAKELLM:?run through tests/run.sh}"

CANARY="sk-canary-$(head -c12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export FAKE_REQUIRED="$CANARY"
printf '%s\n' "$CANARY" >"$T/api-key"
chmod 600 "$T/api-key"

S=$T/store
gen_apps 20 >"$T/train.jsonl"
"$CLARIFY" -s "$S" import "$T/train.jsonl" >"$T/out.import" 2>&1
start_fakellm "$T/fake.log" --key-env FAKE_REQUIRED --fault 429:0.1,500:0.1,badjson:0.05 \
	--retry-after 0.1 --latency fixed:20
cat >"$T/secret.yaml" <<EOF
log:
  level: debug
llm:
  provider: openai
  base_url: http://127.0.0.1:$FPORT/v1
  model: secret-model
  api_key_env: ""
  api_key_file: $T/api-key
  backoff_base_s: 0.05
  backoff_max_s: 0.2
  request_timeout_s: 2
prompts:
  dir: $ROOT/prompts
filters:
  dir: $ROOT/filters
EOF

"$CLARIFYD" -c "$T/secret.yaml" -s "$S" --once -v >"$T/out.daemon" 2>"$T/err.daemon" &
dpid=$!
sleep 0.3
tr '\0' ' ' <"/proc/$dpid/cmdline" >"$T/cmdline" 2>/dev/null
wait "$dpid"
rc=$?
[ "$rc" -eq 0 ] && ok "a run with the key from a file at debug level" \
	|| fail "a run with the key from a file" "exit $rc" "$(tail -n 5 "$T/err.daemon")"
[ -s "$T/cmdline" ] && ok "the daemon's command line was read" || fail "the daemon's command line was read"
grep -q 'debug:' "$T/err.daemon" && ok "debug messages were logged" || fail "debug messages were logged"
expect_status "status" 0 "$CLARIFY" -s "$S" status --json
[ "$(jget "$OUT" .jobs.done)" -ge 1 ] && [ "$(jget "$OUT" .jobs.pending)" -eq 0 ] \
	&& ok "the key was accepted: $(jget "$OUT" .jobs.done) jobs done" || fail "the key was accepted" "$OUT"
grep -q '"auth": "ok"' "$T/fake.log" && ! grep -q '"auth": "wrong"' "$T/fake.log" \
	&& ok "fakellm checked the key on every request" || fail "fakellm checked the key"

# the CLI with the key in the environment, and a wrong key, at debug level
sed 's/^  api_key_env: ""/  api_key_env: CANARY_ENV/; /api_key_file/d' "$T/secret.yaml" >"$T/env.yaml"
CANARY_ENV="$CANARY" "$CLARIFY" -v -c "$T/env.yaml" -s "$S" ask --no-cache --json "FAULT:429*1 Print n. 1 <= n <= 9" \
	>"$T/out.ask" 2>&1 && ok "clarify ask with the key in the environment" || fail "clarify ask" "$(cat "$T/out.ask")"
CANARY_ENV="$CANARY-wrong" "$CLARIFY" -v -c "$T/env.yaml" -s "$S" ask --no-cache "x" >"$T/out.wrong" 2>&1
contains "a wrong key is refused" "$(cat "$T/out.wrong")" "credentials rejected"
stop_fakellm

# everything a user or an auditor can read out of the store
for cmd in "status --json" "verify --json" "stats --json" "filters list"; do
	"$CLARIFY" -v -c "$T/secret.yaml" -s "$S" $cmd >"$T/out.$(echo "$cmd" | tr ' ' _)" 2>&1
done
db_keys "$S" jobs | while read -r key; do
	"$CLARIFY" -s "$S" show "$key" --json
done >"$T/out.show" 2>&1
for db in meta problems jobs results cache; do
	db_json "$S" "$db" >"$T/store.$db.json"
done
grep -q '"modified_problem"' "$T/store.results.json" && ok "the store's records were decoded" \
	|| fail "the store's records were decoded"
mdb_dump -a "$S" >"$T/store.dump" 2>&1

found=""
for f in "$T"/out.* "$T"/err.* "$T/cmdline" "$T"/store.* "$T/fake.log" "$T/fakellm.out" "$S"/*; do
	grep -aqF -- "$CANARY" "$f" && found="$found $(basename "$f")"
done
[ -z "$found" ] && ok "the key is in no output, log, record or file of the store" \
	|| fail "the key is nowhere" "found in:$found"
n=$(cat "$T"/out.* "$T"/err.* | wc -c)
echo "# secrets: $n bytes of output, $(wc -l <"$T/out.show") lines of show --json, $(cat "$T"/store.*.json | wc -l) decoded records searched"

# a core file: the key is in the daemon's memory while it runs
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
case $pattern in
'|'*) skip "the key is not in a core file" "cores go to a program ($pattern)" ;;
/*) skip "the key is not in a core file" "cores go to $pattern, outside the test's folder" ;;
*)
	mkdir -p "$T/core" "$T/more"
	start_fakellm "$T/fake2.log" --key-env FAKE_REQUIRED --latency fixed:5000
	sed "s|base_url: .*|base_url: http://127.0.0.1:$FPORT/v1|" "$T/secret.yaml" >"$T/core.yaml"
	# five more problems: their requests hang in flight at the abort
	gen_apps 25 >"$T/more/train.jsonl"
	"$CLARIFY" -s "$S" import "$T/more/train.jsonl" >/dev/null 2>&1
	(cd "$T/core" && ulimit -c unlimited && exec "$CLARIFYD" -c "$T/core.yaml" -s "$S" --no-cache) \
		>"$T/core.out" 2>&1 &
	cpid=$!
	sleep 1
	kill -ABRT "$cpid"
	wait "$cpid" 2>/dev/null
	stop_fakellm
	core=$(ls "$T/core" | head -n 1)
	# a control: does a process that holds no key leave a core here?
	mkdir -p "$T/control"
	{ (cd "$T/control" && ulimit -c unlimited && exec sh -c 'kill -ABRT $$') >/dev/null 2>&1; } 2>/dev/null
	control=$(ls "$T/control" | head -n 1)
	if [ -n "$core" ] && grep -aqF -- "$CANARY" "$T/core/$core"; then
		fail "the key is not in a core file" "the key is in the core ($core)"
	elif [ -n "$core" ]; then
		ok "the key is not in a core file ($core)"
	elif [ -n "$control" ]; then
		ok "no core file: clarifyd holds a key, so it is not dumpable (a shell here left $control)"
	else
		skip "the key is not in a core file" "no core is written here at all (core_pattern '$pattern', ulimit -c $(ulimit -c))"
	fi
	;;
esac
exit $failed
