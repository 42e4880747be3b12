# test_shards.sh - a run split into shards, on one machine: clarify import
# --shards N --out BASE puts each problem in the store its key hashes to;
# clarify shards plan and status; clarifyd checks --shard against the
# store's and takes 1/N of the rate limits; clarify export --shards merges
# the shards into the same bytes as a one-machine run, and refuses a
# missing shard, a job in two shards, different schemas or templates.
# (tests/integration/test_slurm.sh runs the same on a real Slurm cluster.)
. "$(dirname "$0")/lib.sh"

A=$TESTDATA/apps
B=$T/base
ONE=$T/one
N=4

# ---- import --shards --------------------------------------------------------
expect_status "import --shards 4 --out BASE" 0 "$CLARIFY" import "$A" --shards $N --out "$B" --json
contains "import --json names the base and the count" "$(jget "$OUT" '"\(.store) \(.shards) \(.new)"')" \
	"$B $N 12"
"$CLARIFY" -s "$ONE" import "$A" >/dev/null 2>&1
total=0
for k in 0 1 2 3; do
	[ -d "$B/shard-$k" ] || fail "shard-$k made" "no $B/shard-$k"
	# every problem of shard k hashes to k: the plan of shard k's own store
	# puts all of them in k
	p=$("$CLARIFY" -s "$B/shard-$k" shards plan --shards $N --json 2>&1)
	own=$(jget "$p" ".shards[$k].problems")
	all=$(jget "$p" ".problems")
	[ "$own" = "$all" ] || fail "shard-$k holds only its own problems" "$p"
	total=$((total + all))
done
[ "$total" -eq 12 ] && ok "the shards hold the 12 problems once each" || fail "the shards hold the 12 problems once each" "total $total"
[ -d "$B/shard-4" ] && fail "no fifth shard" "$B/shard-4 exists" || ok "no fifth shard"

plan_path=$("$CLARIFY" shards plan --shards $N "$A" --json 2>&1)
plan_store=$("$CLARIFY" -s "$ONE" shards plan --shards $N --json 2>&1)
if [ "$(jget "$plan_path" '[.shards[].problems]')" = "$(jget "$plan_store" '[.shards[].problems]')" ] &&
	[ "$(jget "$plan_path" '.jobs')" = 36 ]; then
	ok "shards plan: the same split from the APPS rows and from the store (36 jobs)"
else
	fail "shards plan: the same split from the APPS rows and from the store (36 jobs)" "$plan_path" "$plan_store"
fi
for k in 0 1 2 3; do
	want=$(jget "$plan_path" ".shards[$k].jobs")
	got=$("$CLARIFY" -s "$B/shard-$k" status --json 2>/dev/null | jq -r '.jobs.total // .jobs')
	[ "$want" = "$got" ] || fail "the plan counts shard-$k's jobs" "plan $want, store $got"
done
ok "the plan's job counts are the shards' own"
expect_status "shards plan: text" 0 "$CLARIFY" shards plan --shards $N "$A"
contains "shards plan prints the array to submit" "$OUT" "sbatch --array=0-3"

expect_status "import again: idempotent" 0 "$CLARIFY" import "$A" --shards $N --out "$B" --json
contains "import again adds nothing" "$(jget "$OUT" '"\(.new) \(.unchanged) \(.jobs_added)"')" "0 12 0"
expect_status "import into BASE with another count: refused" 1 "$CLARIFY" import "$A" --shards 3 --out "$B"
contains "the refusal names the shards found" "$OUT" "holds 4 shards, not 3: import into a new folder, or with --shards 4"
expect_status "import --shards without --out: usage" 2 "$CLARIFY" import "$A" --shards 3
expect_status "import --shards 0: usage" 2 "$CLARIFY" import "$A" --shards 0 --out "$T/x"

# ---- clarifyd and the shard it is given -------------------------------------
expect_status "clarifyd --shard of another shard: refused" 2 "$CLARIFYD" -s "$B/shard-3" --shard 2/4 --once
contains "the refusal names both" "$OUT" "holds shard 3/4 (clarify import --shards), not --shard 2/4"
cat >"$T/limits.yaml" <<EOF
llm:
  requests_per_min: 600
  tokens_per_min: 80000
EOF
expect_status "clarifyd on shard 0" 0 "$CLARIFYD" -c "$T/limits.yaml" -s "$B/shard-0" --shard 0/4 --once --no-progress
contains "limits_per all: a shard takes 1/4 of the limits" "$OUT" "shard 0/4: 150 requests and 20000 tokens a minute"
printf 'llm:\n  requests_per_min: 600\n  limits_per: shard\n' >"$T/per.yaml"
expect_status "clarifyd on shard 1, without --shard" 0 "$CLARIFYD" -c "$T/per.yaml" -s "$B/shard-1" --once --no-progress
contains "without --shard, the store's shard is taken" "$OUT" "store '$B/shard-1' is shard 1/4"
contains "limits_per shard: the shard's own" "$OUT" "shard 1/4: 600 requests"

# ---- status -----------------------------------------------------------------
expect_status "shards status, two of four run" 0 "$CLARIFY" shards status "$B" --json
st=$OUT
contains "status: shards 0 and 1 finished, 2 and 3 not started" \
	"$(jget "$st" '[.shards[].state] | join(",")')" "finished,finished,not started,not started"
contains "status: not finished, two idle" "$(jget "$st" '"\(.finished) \(.idle_shards) \(.finished_shards)"')" "false 2 2"
expect_status "shards status: text" 0 "$CLARIFY" shards status "$B"
contains "status names the shards to submit" "$OUT" "sbatch --array=2,3"
"$CLARIFYD" -s "$B/shard-2" --once --no-progress >/dev/null 2>&1
"$CLARIFYD" -s "$B/shard-3" --once --no-progress >/dev/null 2>&1
"$CLARIFYD" -s "$ONE" --once --no-progress >/dev/null 2>&1
st=$("$CLARIFY" shards status "$B" --json 2>&1)
contains "status: every shard finished, every job ended" "$(jget "$st" '"\(.finished) \(.ended) \(.jobs)"')" "true 36 36"
expect_status "shards status of a folder without shards" 1 "$CLARIFY" shards status "$T"
contains "which says how to make them" "$OUT" "clarify import PATH --shards N --out"

# ---- export --shards: the one-machine bytes -----------------------------------
for opts in "--ratio 0.5" "--ratio 0.4 --sampling over --seed 7 --test-fraction 0.25 --format chat"; do
	# shellcheck disable=SC2086
	"$CLARIFY" -s "$ONE" export -o "$T/one.jsonl" --no-card $opts >/dev/null 2>&1
	# shellcheck disable=SC2086
	expect_status "export --shards ($opts)" 0 "$CLARIFY" export --shards "$B" -o "$T/sh.jsonl" --no-card $opts
	if cmp -s "$T/one.jsonl" "$T/sh.jsonl" && [ -s "$T/one.jsonl" ]; then
		ok "the merged shards give the one-machine bytes ($opts)"
	else
		fail "the merged shards give the one-machine bytes ($opts)" "$(diff "$T/one.jsonl" "$T/sh.jsonl" | head -5)"
	fi
done
if [ -f "$T/one.test.jsonl" ] && cmp -s "$T/one.test.jsonl" "$T/sh.test.jsonl"; then
	ok "and the same test split"
else
	fail "and the same test split"
fi
m=$(jq -r '.stores | length' "$T/sh.jsonl.manifest.json")
[ "$m" = 4 ] && ok "the manifest lists the 4 shards" || fail "the manifest lists the 4 shards" "$m"
expect_status "export --shards with --store: usage" 2 "$CLARIFY" export --shards "$B" --store "$ONE" -o "$T/x.jsonl"

# ---- export --shards refuses ---------------------------------------------------
cp -r "$B" "$T/dup"
"$CLARIFY" -s "$T/dup/shard-1" import "$A" >/dev/null 2>&1
expect_status "a job in two shards: refused" 1 "$CLARIFY" export --shards "$T/dup" -o "$T/x.jsonl"
contains "the refusal names the key and both shards" "$OUT" "is in two shards, '$T/dup/shard-"
[ -f "$T/x.jsonl" ] && fail "nothing written" || ok "nothing written"

cp -r "$B" "$T/gap"
rm -rf "$T/gap/shard-2"
expect_status "a missing shard: refused" 1 "$CLARIFY" export --shards "$T/gap" -o "$T/x.jsonl"
contains "the refusal names it" "$OUT" "$T/gap/shard-2"

cp -r "$B" "$T/more"
cp -r "$B/shard-3" "$T/more/shard-7"
expect_status "a shard beyond the count: refused" 1 "$CLARIFY" export --shards "$T/more" -o "$T/x.jsonl"
contains "the refusal names it" "$OUT" "holds shard-7, beyond its 4 shards"

cp -r "$B" "$T/schema"
store_put_raw "$T/schema/shard-2" meta schema '{"version":2,"created":1}'
expect_status "different schemas: refused" 1 "$CLARIFY" export --shards "$T/schema" -o "$T/x.jsonl"
contains "the refusal names both versions" "$OUT" "different schemas: '$T/schema/shard-0' version 3, '$T/schema/shard-2' version 2"

# shard 2 run again with a changed template: its records differ in hash
"$CLARIFY" import "$A" --shards $N --out "$T/tpl" >/dev/null 2>&1
mkdir -p "$T/prompts"
cp "$ROOT"/prompts/*.yaml "$T/prompts/"
sed -i 's/^version: 1$/version: 2/' "$T/prompts/modify-ambiguous.yaml"
printf 'prompts:\n  dir: %s\n' "$T/prompts" >"$T/tpl.yaml"
for k in 0 1 3; do "$CLARIFYD" -s "$T/tpl/shard-$k" --once --no-progress >/dev/null 2>&1; done
"$CLARIFYD" -c "$T/tpl.yaml" -s "$T/tpl/shard-2" --once --no-progress >/dev/null 2>&1
expect_status "different templates: refused" 1 "$CLARIFY" export --shards "$T/tpl" -o "$T/x.jsonl"
contains "the refusal names the template and its versions" "$OUT" "used version 1"
contains "and the other shard's" "$OUT" "'$T/tpl/shard-2' used version 2"

exit $failed
