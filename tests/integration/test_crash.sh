# test_crash.sh - kill -9 of clarifyd in the middle of heavy writing,
# CRASH_ROUNDS times (default 20; 'make soak' runs 50), at random moments:
# after each kill the store opens and verifies and no ended job is lost; at
# the end every job ended exactly once.  Then a full disk (a small tmpfs,
# root only): a clear error, a non-zero exit, no damage, and a resumed run
# once there is room again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/soaklib.sh"

ROUNDS=${CRASH_ROUNDS:-20}
PROBLEMS=$((ROUNDS * 300))
JOBS=$((PROBLEMS * 3))
S=$T/store
gen_apps "$PROBLEMS" >"$T/train.jsonl"
expect_status "import $PROBLEMS problems" 0 "$CLARIFY" -s "$S" import "$T/train.jsonl"
# the offline provider writes as fast as the store takes it; small batches
# make many transactions to be killed in
cat >"$T/crash.yaml" <<EOF
store:
  batch_records: 16
llm:
  provider: offline
prompts:
  dir: $ROOT/prompts
filters:
  dir: $ROOT/filters
EOF

: >"$T/ended.prev"
bad_verify=0 lost=0 finished_early=0 killed=0
for round in $(seq 1 "$ROUNDS"); do
	"$CLARIFYD" -c "$T/crash.yaml" -s "$S" --once >>"$T/daemon.log" 2>&1 &
	dpid=$!
	# 0.05 to 0.5 s
	sleep "$(awk -v r="$(od -An -N2 -tu2 /dev/urandom)" 'BEGIN { printf "%.3f", 0.05 + 0.45 * r / 65535 }')"
	if kill -9 "$dpid" 2>/dev/null; then killed=$((killed + 1)); else finished_early=$((finished_early + 1)); fi
	wait "$dpid" 2>/dev/null
	if ! out=$("$CLARIFY" -s "$S" verify 2>&1); then
		bad_verify=$((bad_verify + 1))
		echo "# round $round: verify failed: $out"
	fi
	# what had ended (a result written with its job) stays ended
	db_keys "$S" results >"$T/ended.now"
	gone=$(comm -23 "$T/ended.prev" "$T/ended.now" | wc -l)
	if [ "$gone" -ne 0 ]; then
		lost=$((lost + gone))
		echo "# round $round: $gone ended jobs lost"
	fi
	echo "# round $round: $(wc -l <"$T/ended.now") of $JOBS ended"
	mv "$T/ended.now" "$T/ended.prev"
done
[ "$bad_verify" -eq 0 ] && ok "the store opens and verifies after each of $ROUNDS kills ($killed mid-run)" \
	|| fail "the store verifies after every kill" "$bad_verify rounds failed"
[ "$lost" -eq 0 ] && ok "no ended job was lost to a kill" || fail "no ended job was lost" "$lost lost"
[ "$finished_early" -eq 0 ] && ok "every kill came before the end of the work" \
	|| skip "every kill came mid-run" "$finished_early runs ended before their kill"
mid=$(wc -l <"$T/ended.prev")

expect_status "a last run finishes the rest" 0 "$CLARIFYD" -c "$T/crash.yaml" -s "$S" --once
expect_status "status" 0 "$CLARIFY" -s "$S" status --json
d=$(jget "$OUT" .jobs.done) r=$(jget "$OUT" .jobs.rejected) f=$(jget "$OUT" .jobs.failed)
[ $((d + r + f)) -eq "$JOBS" ] && [ "$(jget "$OUT" .results)" -eq $((d + r)) ] \
	&& ok "every job ended ($d done, $r rejected, $f failed), one result each" \
	|| fail "every job ended, one result each" "$OUT"
db_keys "$S" results >"$T/ended.now"
[ "$(comm -23 "$T/ended.prev" "$T/ended.now" | wc -l)" -eq 0 ] && ok "and the $mid ended before are still there" \
	|| fail "the jobs ended before are still there"
# exactly once: a job redone after a kill would count two attempts
twice=$(db_json "$S" jobs | cut -f2 | jq -s 'map(select(.attempts != 1)) | length')
[ "$twice" -eq 0 ] && ok "each job ended in one attempt" || fail "each job ended once" "$twice jobs with attempts != 1"
expect_status "the store verifies at the end" 0 "$CLARIFY" -s "$S" verify
# the kills fell in all three stages: every accepted record has stage 3's answers and verdict
expect_status "stats" 0 "$CLARIFY" -s "$S" stats --json
[ "$(jget "$OUT" .overall.answers.per_record.count)" -eq "$d" ] && [ "$(jget "$OUT" .overall.judge.judged)" -ge "$d" ] \
	&& ok "every accepted record went through the three stages" \
	|| fail "three stages" "$(jget "$OUT" .overall.judge) $(jget "$OUT" .overall.answers.per_record.count) of $d"
# the dictionaries were trained on the way, kills or not (the results' one
# in some run, after 1,000 results), and are in use
expect_status "status" 0 "$CLARIFY" -s "$S" status --json
if [ "$PROBLEMS" -lt 1000 ]; then
	skip "both zstd dictionaries were trained" "$PROBLEMS problems, under store.dict_after"
elif [ "$(jget "$OUT" '.zstd_dictionaries | (.problems.id > 0) and (.results.id > 0)')" = true ]; then
	ok "both zstd dictionaries were trained along the way"
else
	fail "both zstd dictionaries were trained" "$OUT"
fi
echo "# crash: $ROUNDS kills ($killed mid-run), $mid of $JOBS jobs ended before the last run"

# ---- a full disk ------------------------------------------------------------
F=$T/full
mkdir -p "$F"
if ! mount -t tmpfs -o size=2m tmpfs "$F" 2>"$T/mount.err"; then
	skip "a full disk" "cannot mount a tmpfs: $(cat "$T/mount.err")"
	exit $failed
fi
trap 'umount "$F" 2>/dev/null; rm -rf "$T"' EXIT
FS=$F/store
mkdir -p "$T/fullsrc"
gen_apps 2000 >"$T/fullsrc/train.jsonl"
"$CLARIFY" -s "$FS" import "$T/fullsrc/train.jsonl" >"$T/full-import.out" 2>&1
irc=$?
if [ "$irc" -ne 0 ]; then
	# the import itself ran out of room
	contains "a full disk during import: says so" "$(cat "$T/full-import.out")" "No space left"
	ok "a full disk during import: exit $irc"
	FULL_OUT=$(cat "$T/full-import.out") FULL_RC=$irc
else
	"$CLARIFYD" -c "$T/crash.yaml" -s "$FS" --once >"$T/full-run.out" 2>&1
	FULL_RC=$?
	FULL_OUT=$(cat "$T/full-run.out")
	if [ "$FULL_RC" -ne 0 ]; then
		ok "a full disk stops clarifyd with a non-zero exit ($FULL_RC)"
	else
		fail "a full disk stops clarifyd with a non-zero exit" "$FULL_OUT"
	fi
	contains "and says 'No space left'" "$FULL_OUT" "No space left"
	contains "naming the store" "$FULL_OUT" "$FS"
fi
echo "# full disk: exit $FULL_RC: $(printf '%s\n' "$FULL_OUT" | grep -m1 'No space' | cut -c1-160)"
expect_status "a full store still verifies" 0 "$CLARIFY" -s "$FS" verify
if mount -o remount,size=64m "$F" 2>"$T/mount.err"; then
	expect_status "with room again, the import resumes" 0 "$CLARIFY" -s "$FS" import "$T/fullsrc/train.jsonl"
	expect_status "and so does clarifyd" 0 "$CLARIFYD" -c "$T/crash.yaml" -s "$FS" --once
	expect_status "status" 0 "$CLARIFY" -s "$FS" status --json
	[ "$(jget "$OUT" '.jobs.done + .jobs.rejected + .jobs.failed')" -eq 6000 ] \
		&& [ "$(jget "$OUT" .results)" -eq "$(jget "$OUT" '.jobs.done + .jobs.rejected')" ] \
		&& ok "every job of the full store ended" || fail "every job of the full store ended" "$OUT"
	expect_status "and it verifies" 0 "$CLARIFY" -s "$FS" verify
else
	skip "a full disk: the rerun" "cannot remount: $(cat "$T/mount.err")"
fi
exit $failed
