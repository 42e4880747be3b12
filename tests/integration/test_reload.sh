# test_reload.sh - clarifyd under a service manager's eyes: the sd_notify
# messages read from a notification socket (READY, STATUS, WATCHDOG,
# RELOADING, STOPPING); SIGHUP with a valid configuration and templates
# (later results carry the new template version and model), with an
# invalid template and with an invalid configuration (refused, the running
# set kept, the work goes on); and a full run with each provider.
. "$(dirname "$0")/lib.sh"

if [ -z "${FAKELLM:-}" ] || [ ! -x "$FAKELLM" ] || [ ! -x "${NOTIFY_LISTEN:-}" ]; then
	skip "clarifyd reload and notifications" "no fakellm or notify_listen"
	exit $failed
fi

start_fake() {
	start_fakellm "$T/fake.log" "$@"
	PORT=$FPORT
}

# a config of our own, with templates of our own
write_config() { # MODEL
	cat >"$T/c.yaml" <<EOF
llm:
  provider: openai
  base_url: http://127.0.0.1:$PORT/v1
  model: $1
  api_key_env: D_KEY
  max_in_flight: 2
  request_timeout_s: 10
prompts:
  dir: $T/prompts
EOF
}

wait_for() { # FILE PATTERN SECONDS
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt $(($3 * 20)) ]; do
		sleep 0.05
		i=$((i + 1))
	done
	grep -q "$2" "$1" 2>/dev/null
}

cp -r "$CLARIFY_ROOT/prompts" "$T/prompts"
S=$T/store
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
start_fake --latency fixed:150
write_config model-a

"$NOTIFY_LISTEN" "$T/notify.sock" "$T/notify.out" &
NPID=$!
wait_for "$T/notify.out" "" 1
NOTIFY_SOCKET=$T/notify.sock D_KEY=k "$CLARIFYD" -c "$T/c.yaml" -s "$S" >"$T/d.log" 2>&1 &
dpid=$!

wait_for "$T/notify.out" "^READY=1" 10 && ok "READY=1 once the store and the templates are loaded" \
	|| fail "READY=1" "$(cat "$T/notify.out" "$T/d.log")"
grep -q "^STATUS=started: " "$T/notify.out" && ok "STATUS= tells what it does" \
	|| fail "STATUS=" "$(cat "$T/notify.out")"
grep -q "^WATCHDOG=1" "$T/notify.out" && ok "WATCHDOG=1 pings" || fail "WATCHDOG=1" "$(cat "$T/notify.out")"

# 1. a valid reload: template version 2, model-b
sleep 1
sed -i 's/^version: 1$/version: 2/' "$T"/prompts/modify-*.yaml
write_config model-b
kill -HUP "$dpid"
wait_for "$T/d.log" "reloaded the configuration, the templates and the filters" 5 \
	&& ok "SIGHUP with a valid set: reloaded" || fail "SIGHUP reload" "$(cat "$T/d.log")"
grep -c "^RELOADING=1" "$T/notify.out" | grep -q "^1$" && ok "RELOADING=1 sent" \
	|| fail "RELOADING=1" "$(cat "$T/notify.out")"
[ "$(grep -c '^READY=1' "$T/notify.out")" -eq 2 ] && ok "READY=1 again after the reload" \
	|| fail "READY=1 after reload" "$(cat "$T/notify.out")"

# 2. an invalid template: refused, the running set kept
sleep 0.5
printf 'sytem: oops\n' >>"$T/prompts/clarify-ambiguous.yaml"
kill -HUP "$dpid"
wait_for "$T/d.log" "reload refused, the running set is kept" 5 \
	&& ok "SIGHUP with a bad template: refused" || fail "bad template refused" "$(cat "$T/d.log")"
contains "the refusal names the file and the key" "$(cat "$T/d.log")" "clarify-ambiguous.yaml"

# 3. an invalid configuration: refused
sleep 0.3
printf 'llm:\n  max_in_flight: many\n' >"$T/bad.yaml"
cp "$T/c.yaml" "$T/good.yaml"
cp "$T/bad.yaml" "$T/c.yaml"
kill -HUP "$dpid"
wait_for "$T/d.log" "reload refused, the running configuration is kept" 5 \
	&& ok "SIGHUP with a bad config: refused" || fail "bad config refused" "$(cat "$T/d.log")"
contains "the refusal names the file, line and key" "$(cat "$T/d.log")" "c.yaml:2"
kill -0 "$dpid" 2>/dev/null && ok "clarifyd keeps running" || fail "clarifyd keeps running"

# the work goes on to the end
i=0
while [ $i -lt 300 ]; do
	"$CLARIFY" -s "$S" status --json >"$T/st.json" 2>/dev/null
	[ "$(jq '.jobs.pending + .jobs.modify + .jobs.clarify' "$T/st.json" 2>/dev/null)" = 0 ] && break
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$dpid"
wait "$dpid"
[ $? -eq 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: exit 0" "$(cat "$T/d.log")"
wait_for "$T/notify.out" "^STOPPING=1" 5 && ok "STOPPING=1 on SIGTERM" \
	|| fail "STOPPING=1" "$(cat "$T/notify.out")"
kill "$NPID" 2>/dev/null
wait "$NPID" 2>/dev/null

[ "$(jq '.jobs.done + .jobs.rejected' "$T/st.json")" -eq 36 ] && ok "all 36 jobs ended across the reloads" \
	|| fail "all jobs ended" "$(cat "$T/st.json")"
expect_status "the store verifies" 0 "$CLARIFY" -s "$S" verify
# results made before and after the valid reload
models=""
versions=""
for p in $(ls "$TESTDATA/apps/train"); do
	for c in ambiguous inconsistent incomplete; do
		"$CLARIFY" -s "$S" show "apps/train/$p#$c" --json >"$T/r.json" 2>/dev/null || continue
		models="$models $(jq -r ".results.$c.model // empty" "$T/r.json")"
		versions="$versions $(jq -r ".results.$c.templates[0].version // empty" "$T/r.json")"
	done
done
case $models in
*model-a*model-b* | *model-b*model-a*) ok "results name the model before and after the reload" ;;
*) fail "results name both models" "$models" ;;
esac
case $versions in
*1*2* | *2*1*) ok "results name template version 1 before the reload and 2 after" ;;
*) fail "template versions before and after" "$versions" ;;
esac
stop_fakellm

# idle, with nothing left to do, it still pings the watchdog: at half of
# WatchdogSec= (WATCHDOG_USEC, as systemd sets it)
"$NOTIFY_LISTEN" "$T/idle.sock" "$T/idle.out" &
NPID=$!
wait_for "$T/idle.out" "" 1
NOTIFY_SOCKET=$T/idle.sock WATCHDOG_USEC=1000000 "$CLARIFYD" -s "$S" >"$T/idle.log" 2>&1 &
dpid=$!
sleep 2.6
kill -TERM "$dpid"
wait "$dpid"
kill "$NPID" 2>/dev/null
wait "$NPID" 2>/dev/null
n=$(grep -c "^WATCHDOG=1" "$T/idle.out")
[ "$n" -ge 4 ] && ok "idle, it pings the watchdog every half of WATCHDOG_USEC ($n pings in 2.6 s)" \
	|| fail "idle watchdog pings" "$n pings" "$(cat "$T/idle.out")"
grep -q "^STATUS=idle: " "$T/idle.out" && ok "and says it is idle" || fail "STATUS=idle" "$(cat "$T/idle.out")"

# a full run with each provider
for provider in openai gemini; do
	P=$T/full-$provider
	"$CLARIFY" -s "$P" import "$TESTDATA/apps" >/dev/null 2>&1
	start_fake
	if [ $provider = gemini ]; then base=http://127.0.0.1:$PORT/v1beta; else base=http://127.0.0.1:$PORT/v1; fi
	printf 'llm:\n  provider: %s\n  base_url: %s\n  model: m\n  api_key_env: D_KEY\n' \
		"$provider" "$base" >"$T/$provider.yaml"
	expect_status "$provider: a full run" 0 env D_KEY=k "$CLARIFYD" -c "$T/$provider.yaml" -s "$P" --once
	"$CLARIFY" -s "$P" status --json >"$T/st.json"
	[ "$(jq '.jobs.done + .jobs.rejected' "$T/st.json")" -eq 36 ] && [ "$(jq .results "$T/st.json")" -eq 36 ] \
		&& ok "$provider: 36 jobs ended, 36 results" || fail "$provider: jobs ended" "$(cat "$T/st.json")"
	n=$(grep -c "\"api\": \"$provider\"" "$T/fake.log")
	[ "$n" -ge 72 ] && ok "$provider: fakellm saw $n $provider requests" \
		|| fail "$provider requests" "$n"
	expect_status "$provider: the store verifies" 0 "$CLARIFY" -s "$P" verify
	stop_fakellm
done
exit $failed
