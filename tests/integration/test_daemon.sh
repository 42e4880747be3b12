# test_daemon.sh - clarifyd: the whole pipeline, offline and over HTTP;
# exactly once across kill -9; 401 stops it; SIGTERM drains
. "$(dirname "$0")/lib.sh"

S=$T/store
"$CLARIFY" -s "$S" import "$TESTDATA/apps" >/dev/null 2>&1
"$CLARIFY" -s "$S" lm train --order 3 >/dev/null 2>&1

# offline, once: every job ends, the store verifies
expect_status "clarifyd --once (offline)" 0 "$CLARIFYD" -s "$S" --once
expect_status "status after the run" 0 "$CLARIFY" -s "$S" status --json
ended=$(jget "$OUT" '.jobs.done + .jobs.rejected + .jobs.failed')
[ "$ended" -eq 36 ] && [ "$(jget "$OUT" .jobs.pending)" -eq 0 ] && ok "all 36 jobs ended" \
	|| fail "all 36 jobs ended" "$OUT"
[ "$(jget "$OUT" .results)" -eq "$(jget "$OUT" '.jobs.done + .jobs.rejected')" ] \
	&& ok "one result per done or rejected job" || fail "results per job" "$OUT"
expect_status "the store verifies" 0 "$CLARIFY" -s "$S" verify
expect_status "a result has its fields" 0 "$CLARIFY" -s "$S" show 'apps/train/0042#incomplete' --json
r=$(jget "$OUT" .results.incomplete)
[ "$(jget "$r" '.questions | length')" -ge 1 ] && [ "$(jget "$r" '.templates[0].name')" = modify-incomplete ] \
	&& [ "$(jget "$r" '.stats.modified.perplexity > 0')" = true ] \
	&& ok "questions, templates and stats are kept" || fail "result fields" "$r"
expect_status "a second run finds nothing to do" 0 "$CLARIFYD" -s "$S" --once
contains "and says so" "$OUT" "0 accepted, 0 rejected, 0 failed"

expect_status "--shard must be K/N" 2 "$CLARIFYD" -s "$S" --once --shard 3/2

# requeue: rejected incomplete jobs back to pending, their results gone, run again
expect_status "requeue --help" 0 "$CLARIFY" requeue --help
"$CLARIFY" -s "$S" status --json >"$T/before.json"
done_inc=$(jq '.by_category.incomplete.done' "$T/before.json")
expect_status "requeue done incomplete jobs is refused as an unknown option" 2 "$CLARIFY" -s "$S" requeue --done
expect_status "requeue --rejected --failed --category incomplete" 0 "$CLARIFY" -s "$S" requeue --rejected --failed --category incomplete --json
n=$(jget "$OUT" .requeued)
expect_status "status after requeue" 0 "$CLARIFY" -s "$S" status --json
[ "$(jget "$OUT" .by_category.incomplete.pending)" -eq "$n" ] && ok "requeue put $n jobs back" \
	|| fail "requeue put jobs back" "$OUT"
expect_status "the store verifies after requeue" 0 "$CLARIFY" -s "$S" verify
# a filter rule that rejects everything, then requeue the rejected ones
mkdir -p "$T/rules"
printf 'rules:\n  - id: everything\n    description: d\n    applies_to: [modified]\n    pattern: "."\n    action: reject\n' >"$T/rules/all.yaml"
printf 'filters:\n  dir: %s\n' "$T/rules" >"$T/rejectall.yaml"
Q=$T/requeue
"$CLARIFY" -s "$Q" import "$TESTDATA/apps" --limit 3 >/dev/null 2>&1
expect_status "a run where every record is rejected" 0 "$CLARIFYD" -c "$T/rejectall.yaml" -s "$Q" --once
expect_status "status" 0 "$CLARIFY" -s "$Q" status --json
rej=$(jget "$OUT" .jobs.rejected)
[ "$rej" -eq 9 ] && [ "$(jget "$OUT" .results)" -eq 9 ] && ok "9 jobs rejected, kept with their verdicts" \
	|| fail "jobs rejected" "$OUT"
expect_status "the rejecting rule is named in the result" 0 "$CLARIFY" -s "$Q" show 'apps/train/0000#ambiguous' --json
[ "$(jget "$OUT" '.results.ambiguous.verdicts[0].rule')" = everything ] && ok "the verdict names its rule" \
	|| fail "the verdict names its rule" "$OUT"
expect_status "status after the rejecting run" 0 "$CLARIFY" -s "$Q" status --json
[ "$(jget "$OUT" '.rejected_by_rule.everything')" -eq 9 ] && ok "status counts rejections by rule" \
	|| fail "status counts rejections by rule" "$OUT"
[ "$(jget "$OUT" '.daemon.running')" -eq 0 ] && [ "$(jget "$OUT" '.daemon.requests')" -ge 9 ] \
	&& ok "status shows the daemon's last progress" || fail "status shows the daemon's progress" "$OUT"
expect_status "requeue --rejected" 0 "$CLARIFY" -s "$Q" requeue --rejected --json
[ "$(jget "$OUT" .requeued)" -eq 9 ] && ok "every rejected job requeued" || fail "requeue --rejected" "$OUT"
expect_status "and run again with the shipped filters" 0 "$CLARIFYD" -s "$Q" --once
expect_status "status at the end" 0 "$CLARIFY" -s "$Q" status --json
[ "$(jget "$OUT" .jobs.pending)" -eq 0 ] && [ "$(jget "$OUT" .jobs.done)" -ge 1 ] \
	&& ok "nothing left pending, records accepted" || fail "nothing left pending" "$OUT"

# the store's zstd dictionaries: clarify import trains the problems' and
# clarifyd the results' once store.dict_after of them exist; what is
# written after uses them, and the records from before still read
dict_frames() { # results whose zstd frame names a dictionary (its header's low bits)
	mdb_dump -s results "$1" | sed '1,/^HEADER=END/d' |
		awk 'NR % 2 == 0 { if ((index("0123456789abcdef", substr($1, 10, 1)) - 1) % 4) n++ }
		     END { print n + 0 }'
}
Z=$T/zdict
printf 'store:\n  dict_after: 12\njobs:\n  categories: [ambiguous]\n' >"$T/z1.yaml"
printf 'store:\n  dict_after: 12\n' >"$T/z2.yaml"
"$CLARIFY" -c "$T/z1.yaml" -s "$Z" import "$TESTDATA/apps" >/dev/null 2>&1
expect_status "12 results with store.dict_after 12" 0 "$CLARIFYD" -c "$T/z1.yaml" -s "$Z" --once
contains "clarifyd trains the store's dictionary" "$OUT" "zstd dictionary"
[ "$(dict_frames "$Z")" -eq 0 ] && ok "the 12 results before it are plain frames" \
	|| fail "plain frames before the dictionary" "$(dict_frames "$Z")"
"$CLARIFY" -c "$T/z2.yaml" -s "$Z" import "$TESTDATA/apps" >/dev/null 2>&1
expect_status "24 results more" 0 "$CLARIFYD" -c "$T/z2.yaml" -s "$Z" --once
[ "$(dict_frames "$Z")" -eq 24 ] && ok "the 24 results after it use the dictionary" \
	|| fail "results after the dictionary use it" "$(dict_frames "$Z")"
expect_status "status names the dictionaries" 0 "$CLARIFY" -s "$Z" status --json
[ "$(jget "$OUT" '.zstd_dictionaries.results | .id > 0 and .bytes > 0')" = true ] \
	&& ok "status --json has the results' dictionary" || fail "status --json zstd_dictionaries" "$OUT"
[ "$(jget "$OUT" '.zstd_dictionaries.problems | .id > 0 and .bytes > 0')" = true ] \
	&& ok "clarify import trained the problems' own" || fail "the problems' dictionary" "$OUT"
expect_status "the store with both kinds of record verifies" 0 "$CLARIFY" -s "$Z" verify
accepted=$("$CLARIFY" -s "$Z" status --json | jq .jobs.done)
expect_status "and exports" 0 "$CLARIFY" -s "$Z" export -o "$T/zdict.jsonl" --json
[ "$(jget "$OUT" .records)" -eq "$accepted" ] && [ "$accepted" -gt 30 ] \
	&& ok "all $accepted accepted records exported (of 36; stage 3's judge rejects the rest)" \
	|| fail "all accepted records exported" "$accepted accepted: $OUT"
# clarify compact: the 12 from before onto the dictionary, the same export
expect_status "compact --help" 0 "$CLARIFY" compact --help
expect_status "compact refuses an operand" 2 "$CLARIFY" -s "$Z" compact extra
expect_status "clarify compact" 0 "$CLARIFY" -s "$Z" compact --json
[ "$(jget "$OUT" '.results | .rewritten == 12 and .kept == 24 and .unreadable == 0 and .bytes_after < .bytes_before')" = true ] \
	&& ok "it rewrites the 12 plain results, smaller, and keeps the 24" || fail "compact's counts" "$OUT"
[ "$(dict_frames "$Z")" -eq 36 ] && ok "now all 36 results use the dictionary" \
	|| fail "all results use the dictionary after compact" "$(dict_frames "$Z")"
expect_status "the compacted store verifies" 0 "$CLARIFY" -s "$Z" verify
expect_status "and exports" 0 "$CLARIFY" -s "$Z" export -o "$T/zdict2.jsonl"
cmp -s "$T/zdict.jsonl" "$T/zdict2.jsonl" && ok "the same bytes as before compact" \
	|| fail "the export after compact is the same" "$(cmp "$T/zdict.jsonl" "$T/zdict2.jsonl" 2>&1)"
expect_status "a second compact has nothing to do" 0 "$CLARIFY" -s "$Z" compact --json
[ "$(jget "$OUT" '[.[] | .rewritten] | add')" -eq 0 ] && ok "nothing rewritten twice" \
	|| fail "a second compact rewrites nothing" "$OUT"
# a store with no dictionary at all: compact trains them from what there is
Y=$T/nodict
printf 'store:\n  dict_after: 0\n' >"$T/nodict.yaml"
"$CLARIFY" -c "$T/nodict.yaml" -s "$Y" import "$TESTDATA/apps" >/dev/null 2>&1
"$CLARIFYD" -c "$T/nodict.yaml" -s "$Y" --once >/dev/null 2>&1
[ "$(dict_frames "$Y")" -eq 0 ] && ok "store.dict_after 0: no dictionary, plain frames" \
	|| fail "store.dict_after 0 trains nothing" "$(dict_frames "$Y")"
expect_status "compact trains both and rewrites everything" 0 "$CLARIFY" -s "$Y" compact
contains "it says it trained them" "$OUT" "(trained now)"
[ "$(dict_frames "$Y")" -eq 36 ] && ok "all 36 results on the new dictionary" \
	|| fail "all results on the new dictionary" "$(dict_frames "$Y")"
expect_status "and it verifies" 0 "$CLARIFY" -s "$Y" verify

if [ -z "${FAKELLM:-}" ] || [ ! -x "$FAKELLM" ]; then
	skip "clarifyd over HTTP" "no fakellm"
	exit $failed
fi

start_fake() {
	start_fakellm "$T/fake.log" "$@"
	printf 'llm:\n  provider: openai\n  base_url: http://127.0.0.1:%s/v1\n  model: m\n' "$FPORT" >"$T/http.yaml"
	printf '  api_key_env: D_KEY\n  max_in_flight: 8\n  request_timeout_s: 5\n' >>"$T/http.yaml"
}

# exactly once: kill -9 in the middle, start again, nothing lost or repeated
H=$T/http
"$CLARIFY" -s "$H" import "$TESTDATA/apps" >/dev/null 2>&1
start_fake --latency fixed:150
D_KEY=k "$CLARIFYD" -c "$T/http.yaml" -s "$H" --once >/dev/null 2>&1 &
dpid=$!
sleep 0.8
kill -9 "$dpid"
wait "$dpid" 2>/dev/null
before=$(wc -l <"$T/fake.log")
cached=$("$CLARIFY" -s "$H" status --json | jq .cached_responses)
mid=$("$CLARIFY" -s "$H" status --json | jq '.jobs.done + .jobs.rejected + .jobs.failed')
[ "$mid" -lt 36 ] && ok "kill -9 stopped it part way ($mid of 36 ended)" || ok "the first run ended $mid jobs before the kill"
expect_status "after kill -9 the store verifies" 0 "$CLARIFY" -s "$H" verify
expect_status "a restart finishes the rest" 0 env D_KEY=k "$CLARIFYD" -c "$T/http.yaml" -s "$H" --once
expect_status "status after the restart" 0 "$CLARIFY" -s "$H" status --json
[ "$(jget "$OUT" '.jobs.done + .jobs.rejected + .jobs.failed')" -eq 36 ] && [ "$(jget "$OUT" .jobs.pending)" -eq 0 ] \
	&& ok "every job ended once" || fail "every job ended once" "$OUT"
[ "$(jget "$OUT" .results)" -eq "$(jget "$OUT" '.jobs.done + .jobs.rejected')" ] \
	&& ok "no result lost or doubled" || fail "no result lost or doubled" "$OUT"
after=$(($(wc -l <"$T/fake.log") - before))
[ $((after + cached)) -le 108 ] \
	&& ok "no reply in the cache was asked for again ($cached cached at the kill, $after asked after)" \
	|| fail "cached replies are reused" "$cached cached at the kill, $after asked after"
stop_fakellm

# credentials rejected: it stops with the message, exit 1
R=$T/rejected
"$CLARIFY" -s "$R" import "$TESTDATA/apps" --limit 2 >/dev/null 2>&1
export FAKE_REQUIRED=right
start_fake --key-env FAKE_REQUIRED
expect_status "a wrong key stops clarifyd (exit 1)" 1 env D_KEY=wrong "$CLARIFYD" -c "$T/http.yaml" -s "$R" --once
contains "with 'credentials rejected by'" "$OUT" "credentials rejected by http://127.0.0.1:"
expect_status "and no job is failed for it" 0 "$CLARIFY" -s "$R" status --json
[ "$(jget "$OUT" .jobs.failed)" -eq 0 ] && ok "the jobs stay pending" || fail "jobs stay pending" "$OUT"
stop_fakellm

# SIGTERM: drains and exits 0; the rest stays pending
G=$T/term
"$CLARIFY" -s "$G" import "$TESTDATA/apps" >/dev/null 2>&1
start_fake --latency fixed:400
D_KEY=k "$CLARIFYD" -c "$T/http.yaml" -s "$G" >"$T/term.out" 2>&1 &
dpid=$!
sleep 0.6
kill -TERM "$dpid"
wait "$dpid"
[ $? -eq 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: exit 0" "$(cat "$T/term.out")"
expect_status "the store verifies after SIGTERM" 0 "$CLARIFY" -s "$G" verify
stop_fakellm
exit $failed
