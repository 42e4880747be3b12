# test_tty.sh - what a person at a terminal sees, in a real terminal
# (tmux, driven by send-keys and read by capture-pane): clarifyd's live
# progress line redrawn in place with the log above it, and clarify
# samples highlighting the span a rule matched
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null; then
	skip "the terminal tests" "tmux is not installed (make deps installs it)"
	exit 0
fi
SOCK=clarify-test-$$
tm() { tmux -L "$SOCK" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
# wait_for TEXT SECONDS: until the pane shows TEXT
wait_for() {
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		tm capture-pane -p -t t >"$T/pane" 2>/dev/null
		grep -q -F -- "$1" "$T/pane" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

S=$T/store
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
"$CLARIFY" -s "$S" lm train --order 3 >/dev/null 2>&1
mkdir "$T/rules"
cp "$ROOT"/filters/*.yaml "$T/rules/"
cat >"$T/rules/zz-test.yaml" <<'YAML'
rules:
  - id: test-lantern
    description: "names a lantern (a rule of this test)"
    applies_to: [modified, questions]
    pattern: '\blanterns?\b'
    action: reject
YAML
start_fakellm "$T/fake.log" --latency fixed:150
cat >"$T/c.yaml" <<YAML
llm:
  provider: openai
  base_url: http://127.0.0.1:$FPORT/v1
  model: m
  api_key_env: TTY_KEY
  max_in_flight: 4
filters:
  dir: $T/rules
YAML

tm new-session -d -s t -x 220 -y 50 "env -i PATH=$PATH HOME=$T TERM=xterm sh" || {
	skip "the terminal tests" "tmux cannot start a session here"
	exit 0
}
tm set-option -t t remain-on-exit on >/dev/null 2>&1
tm send-keys -t t "cd $ROOT && TTY_KEY=k CLARIFY_CONFIG=/dev/null $CLARIFYD -c $T/c.yaml -s $S --once; echo CLARIFYD-EXIT=\$?" Enter
if wait_for "jobs/s" 20; then ok "clarifyd draws its progress line on a terminal"; else fail "progress line" "$(cat "$T/pane")"; fi
# while it runs: one line, redrawn in place, below the log
sleep 1
tm capture-pane -p -t t >"$T/mid"
n=$(grep -c "jobs/s" "$T/mid")
[ "$n" -eq 1 ] && ok "one progress line, redrawn in place (not scrolled)" || fail "one line" "$(cat "$T/mid")"
line=$(grep "jobs/s" "$T/mid")
for part in "/36 jobs" accepted rejected failed "ETA" tokens retries "in flight"; do
	contains "the line shows '$part'" "$line" "$part"
done
grep -q "clarifyd: info: started" "$T/mid" && ok "the log line is above it" || fail "log above" "$(cat "$T/mid")"
# clarify status meanwhile: the jobs in flight in their stage's column
# (polled: clarifyd writes its progress about once a second)
i=0
while :; do
	st=$("$CLARIFY" -s "$S" status --json)
	inflight=$(jget "$st" '[.by_category[] | .modify + .clarify + .answer] | add')
	[ "$inflight" -ge 1 ] && [ "$(jget "$st" '.eta_seconds > 0')" = true ] && break
	[ $i -ge 50 ] && break
	sleep 0.1
	i=$((i + 1))
done
[ "$inflight" -ge 1 ] && [ "$inflight" -le 4 ] && ok "status counts the $inflight jobs in flight at their stage" \
	|| fail "in flight by stage" "$st"
[ "$(jget "$st" '.eta_seconds > 0')" = true ] && ok "and the time to go" || fail "eta" "$st"
txt=$("$CLARIFY" -s "$S" status)
contains "in text too" "$txt" "to go"
if wait_for "CLARIFYD-EXIT=0" 60; then ok "clarifyd ends with 0"; else fail "clarifyd ends" "$(cat "$T/pane")"; fi
tm capture-pane -p -t t >"$T/end"
final=$(grep "jobs/s" "$T/end")
contains "the last state stays on the screen: 36 of 36" "$final" "36/36 jobs 100%"
[ "$(grep -c "jobs/s" "$T/end")" -eq 1 ] && ok "still one line at the end" || fail "one line at the end" "$(cat "$T/end")"
grep -q "clarifyd: info: stopped" "$T/end" && ok "the stop is logged below it" || fail "stop logged" "$(cat "$T/end")"
# not a terminal: log lines only
TTY_KEY=k "$CLARIFYD" -c "$T/c.yaml" -s "$S" --once >"$T/pipe.out" 2>&1
case $(cat "$T/pipe.out") in
*"jobs/s"* | *"$(printf '\033')"*) fail "no progress line in a pipe" "$(cat "$T/pipe.out")" ;;
*) ok "no progress line or escape in a pipe" ;;
esac
stop_fakellm

# clarify samples: the span the rule matched, in reverse video
tm send-keys -t t "clear; $CLARIFY -s $S samples --rule test-lantern -n 2; echo SAMPLES-EXIT=\$?" Enter
if wait_for "SAMPLES-EXIT=0" 20; then ok "clarify samples on a terminal"; else fail "samples" "$(cat "$T/pane")"; fi
contains "it names the rule" "$(cat "$T/pane")" "rejected by test-lantern"
contains "and the count" "$(cat "$T/pane")" "2 of 3 rejected records"
tm capture-pane -p -e -t t >"$T/color"
if grep -q "$(printf '\033')\[[0-9;]*7m[Ll]antern" "$T/color"; then
	ok "the matched span in reverse video"
else
	fail "reverse video" "$(grep -n lantern "$T/color" | head -3 | od -c | head -20)"
fi
out=$("$CLARIFY" -s "$S" samples --rule test-lantern -n 2)
contains "in a pipe, the span between [[ ]]" "$out" "[[lantern]]"
exit $failed
