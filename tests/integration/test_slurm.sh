# test_slurm.sh - a sharded run on a real Slurm cluster (one node, on
# localhost, inside the test's folder: slurmlib.sh): clarify import
# --shards 4, then etc/clarifyd.sbatch as a job array of 4 tasks, (a) with
# the offline provider and (b) against fakellm with a latency, one task
# killed mid-run, requeued alone with scontrol requeue, and resumed
# (the jobs it had ended are not redone); clarify shards status says
# every shard finished, and clarify export --shards gives the jobs of a
# one-machine run of the same problems, none twice, and with the offline
# provider the same bytes.  The sbatch script's refusals: no shard store,
# a key file others may read.  Skipped, saying why, only when Slurm can
# neither be found nor installed or its daemons do not start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slurmlib.sh"
: "${FAKELLM:?run through tests/run.sh}"

t0=$(date +%s)
SBATCH=$ROOT/etc/clarifyd.sbatch
N=4
# export options of both sides: every record with its job's id
XOPTS="--format chat --include-rejected --no-card"

if ! slurm_install; then
	skip "a clarifyd job array on Slurm" "$SLURM_WHY"
	exit 0
fi
started=1
if ! slurm_start; then
	# once more, on other ports in a fresh folder: a daemon that lost its
	# port to another process between the check and its bind says so here
	echo "# the cluster did not start, once more on other ports: $SLURM_WHY" | head -n 3
	slurm_stop
	rm -rf "$SD"
	SLURM_PORTS=
	slurm_start || started=0
fi
if [ "$started" = 0 ]; then
	skip "a clarifyd job array on Slurm" "the daemons did not start: $SLURM_WHY"
	slurm_logs
	exit 0
fi
ok "a one-node Slurm cluster on localhost ($(sinfo -h -N -o '%N %c CPUs %t'); munged, slurmctld, slurmd$(
	[ "$SLURM_ACCT" = sacct ] && echo ", slurmdbd, MariaDB"))"
if [ "$SLURM_ACCT" = sacct ]; then
	echo "# sacct: accounting through slurmdbd and MariaDB, on a private port"
else
	echo "# note: sacct is not available ($SLURM_ACCT_WHY): task states come from scontrol"
fi
t1=$(date +%s)

# the problems: the 12 samples, and the shared APPS problems when present
SRCS=$TESTDATA/apps
[ -d "${SHARED_DATA:-/nonexistent}/apps/train" ] && SRCS="$SRCS $SHARED_DATA/apps/train"

# import_both BASE ONE: every source into the shards of BASE and into the
# one-machine store ONE
import_both() {
	for src in $SRCS; do
		"$CLARIFY" import "$src" --shards $N --out "$1" >>"$T/import.out" 2>&1 || return 1
		"$CLARIFY" -s "$2" import "$src" >>"$T/import.out" 2>&1 || return 1
	done
}

# submit NAME ARRAY BASE CFG: etc/clarifyd.sbatch as it is, its task logs
# in $T/run (its default --output, relative to --chdir); sets JID
submit() {
	mkdir -p "$T/run"
	JID=$(sbatch --parsable --array="$2" --chdir="$T/run" \
		--export="ALL,CLARIFY_BASE=$3,CLARIFYD_CONFIG=$4" "$SBATCH" 2>"$T/sbatch.err")
	JID=${JID%%;*}
	if [ -n "$JID" ]; then ok "$1: sbatch --array=$2 etc/clarifyd.sbatch (job $JID)"; else
		fail "$1: sbatch" "$(cat "$T/sbatch.err")"
		slurm_logs
		exit 1
	fi
}

tasklog() { cat "$T/run/clarifyd-$1_$2.log" 2>/dev/null; }

# states JID: the tasks' states, "K:STATE" joined by spaces, in STATES
states() {
	STATES=
	for k in $(slurm_tasks "$1"); do STATES="$STATES $k:$(slurm_state "$1_$k")"; done
	STATES=${STATES# }
}

# waited NAME JID: slurm_wait, a failure when it timed out
waited() {
	if ! slurm_wait "$2" 150; then
		fail "$1: the tasks ended in time" "$(squeue -r -j "$2" 2>&1)"
		slurm_logs
	fi
	states "$2"
}

# same_jobs NAME SHARDED ONE: the same job ids in both exports, none twice
same_jobs() {
	jq -r .id "$2" | sort >"$T/ids.sh"
	jq -r .id "$3" | sort >"$T/ids.one"
	d=$(sort "$T/ids.sh" | uniq -d)
	if [ -s "$T/ids.one" ] && [ -z "$d" ] && cmp -s "$T/ids.sh" "$T/ids.one"; then
		ok "$1: the same $(wc -l <"$T/ids.one") jobs as the one-machine run, none twice"
	else
		fail "$1: the same jobs as the one-machine run, none twice" "twice: $d" \
			"$(diff "$T/ids.sh" "$T/ids.one" | head -5)"
	fi
}

# against_one NAME CFG ONE BASE TAG: the one-machine run of the same
# problems (store ONE), its export, the export of the merged shards of
# BASE, and the two compared: the same jobs, none twice, the same bytes
against_one() {
	"$CLARIFYD" -c "$2" -s "$3" --once --no-progress >"$T/one-$5.out" 2>&1 ||
		fail "$1: the one-machine run" "$(tail -n 5 "$T/one-$5.out")"
	# shellcheck disable=SC2086
	"$CLARIFY" -s "$3" export -o "$T/one-$5.jsonl" $XOPTS >/dev/null 2>&1
	# shellcheck disable=SC2086
	expect_status "$1: export --shards BASE" 0 "$CLARIFY" export --shards "$4" -o "$T/$5.jsonl" $XOPTS
	same_jobs "$1" "$T/$5.jsonl" "$T/one-$5.jsonl"
	cmp -s "$T/$5.jsonl" "$T/one-$5.jsonl" && ok "$1: the same rows, byte for byte" ||
		fail "$1: the same rows, byte for byte" "$(diff "$T/$5.jsonl" "$T/one-$5.jsonl" | head -c 600)"
}

# ---- the script's refusals ------------------------------------------------------
# the source tree's templates and rules: the tasks run in $T/run
DIRS=$(printf 'prompts:\n  dir: %s/prompts\nfilters:\n  dir: %s/filters\n' "$ROOT" "$ROOT")
printf '%s\nlog:\n  level: info\n' "$DIRS" >"$T/offline.yaml"
KEY="sk-slurm-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$KEY" >"$T/key"
chmod 644 "$T/key"
printf 'llm:\n  provider: openai\n  base_url: http://127.0.0.1:9/v1\n  api_key_file: %s\n' "$T/key" \
	>"$T/open.yaml"
"$CLARIFY" import "$TESTDATA/apps" --shards 2 --out "$T/two" >/dev/null 2>&1
submit "no shard store" 0 "$T/nothing" "$T/offline.yaml"
nostore=$JID
submit "a key file others may read" 1 "$T/two" "$T/open.yaml"
openkey=$JID
waited "the refusals" "$nostore"
[ "$STATES" = 0:FAILED ] && ok "without the shards the task fails" || fail "no shard store: FAILED" "$STATES"
contains "saying to run import --shards" "$(tasklog "$nostore" 0)" \
	"no folder $T/nothing (CLARIFY_BASE): make the shards first, with clarify import PATH --shards N --out $T/nothing"
waited "the refusals" "$openkey"
[ "$STATES" = 1:FAILED ] && ok "with a key file others may read the task fails" || fail "open key: FAILED" "$STATES"
contains "saying so" "$(tasklog "$openkey" 1)" "llm.api_key_file $T/key is open to its group or others (mode 644): chmod 600 it"
chmod 600 "$T/key"

# ---- (a) the offline provider ---------------------------------------------------
BA=$T/a
ONEA=$T/one-a
import_both "$BA" "$ONEA" || fail "import --shards 4" "$(tail -n 5 "$T/import.out")"
JOBS=$("$CLARIFY" shards status "$BA" --json 2>/dev/null | jq -r .jobs)
ok "import --shards $N --out BASE: $JOBS jobs ($(echo $SRCS | wc -w) folders of problems)"
ta=$(date +%s)
submit "offline" 0-3 "$BA" "$T/offline.yaml"
A=$JID
waited "offline" "$A"
[ "$STATES" = "0:COMPLETED 1:COMPLETED 2:COMPLETED 3:COMPLETED" ] &&
	ok "offline: the 4 tasks completed" || fail "offline: the 4 tasks completed" "$STATES"
ta=$(($(date +%s) - ta))
for k in 0 1 2 3; do
	case $(tasklog "$A" $k) in
	*"shard $k/$N, $BA/shard-$k"*" accepted, "*) ;;
	*) fail "offline: task $k's log" "$(tasklog "$A" $k | tail -n 5)" ;;
	esac
done
ok "offline: each task worked its own shard, logged in clarifyd-${A}_K.log"
st=$("$CLARIFY" shards status "$BA" --json 2>&1)
[ "$(jget "$st" '"\(.finished) \(.ended) \(.jobs)"')" = "true $JOBS $JOBS" ] &&
	ok "offline: shards status: every shard finished" || fail "offline: shards status" "$st"
# a resubmission of some tasks (sbatch --array=K,...) has fewer tasks than
# shards (SLURM_ARRAY_TASK_COUNT 1): the script takes N from BASE; a
# finished shard has nothing left to do
submit "offline, task 2 alone again" 2 "$BA" "$T/offline.yaml"
waited "offline, task 2 alone again" "$JID"
[ "$STATES" = 2:COMPLETED ] && contains "offline: resubmitted alone, task 2 is shard 2/$N, with nothing to redo" \
	"$(tasklog "$JID" 2)" "shard 2/$N, $BA/shard-2" || fail "offline: task 2 alone again" "$STATES"
contains "offline: and ends no job again" "$(tasklog "$JID" 2)" "0 accepted, 0 rejected, 0 failed; 0 requests"
against_one offline "$T/offline.yaml" "$ONEA" "$BA" a

# ---- (b) fakellm, one task killed and requeued -----------------------------------
export FAKELLM_KEY="$KEY"
start_fakellm "$T/fake.log" --key-env FAKELLM_KEY --latency fixed:250
[ -n "$FPORT" ] || fail "fakellm started" "$(cat "$T/fakellm.out")"
fake_cfg() { # FILE MAX_IN_FLIGHT
	cat >"$1" <<EOF
llm:
  provider: openai
  base_url: http://127.0.0.1:$FPORT/v1
  model: fake-model
  api_key_file: $T/key
  max_in_flight: $2
  requests_per_min: 60000
  backoff_base_s: 0.05
  backoff_max_s: 0.5
  request_timeout_s: 20
$DIRS
EOF
}
fake_cfg "$T/fake.yaml" 2
fake_cfg "$T/fake-one.yaml" 16
BB=$T/b
ONEB=$T/one-b
import_both "$BB" "$ONEB" || fail "import --shards 4 (b)" "$(tail -n 5 "$T/import.out")"
st=$("$CLARIFY" shards status "$BB" --json 2>&1)
# the shard killed: the one with the most jobs
K=$(jget "$st" '.shards | max_by(.jobs) | .index')
KJOBS=$(jget "$st" ".shards[$K].jobs")
tb=$(date +%s)
submit "fakellm" 0-3 "$BB" "$T/fake.yaml"
B=$JID
# kill -9 task K's clarifyd (the writer of its store) once it has ended
# some of its jobs, well before all: a crash, nothing said to it
i=0 wp=0
while [ $i -lt 600 ]; do
	row=$("$CLARIFY" shards status "$BB" --json 2>/dev/null | jq -r ".shards[$K] | \"\\(.ended) \\(.writer_pid)\"")
	e=${row%% *} wp=${row#* }
	[ "${e:-0}" -ge 2 ] && [ "${wp:-0}" -gt 0 ] && break
	sleep 0.05
	i=$((i + 1))
done
comm=$(cat "/proc/$wp/comm" 2>/dev/null)
if [ "$comm" = clarifyd ] && kill -KILL "$wp"; then
	ok "fakellm: task $K's clarifyd (pid $wp, the writer shards status names) killed -9 mid-run"
else
	fail "fakellm: task $K's clarifyd killed -9" "writer pid '$wp' ($comm)" "$(tasklog "$B" "$K")"
fi
waited "fakellm" "$B"
st=$("$CLARIFY" shards status "$BB" --json 2>&1)
E1=$(jget "$st" ".shards[$K].ended")
others=$(echo "$STATES" | tr ' ' '\n' | grep -v "^$K:" | tr '\n' ' ')
killed=$(echo "$STATES" | tr ' ' '\n' | grep "^$K:")
case $killed in
"$K:FAILED") ok "fakellm: task $K ended FAILED (exit code $(slurm_exit "${B}_$K"))" ;;
*) fail "fakellm: task $K ended FAILED" "$STATES" ;;
esac
[ "$others" = "$(for k in 0 1 2 3; do [ $k = "$K" ] || printf '%s:COMPLETED ' $k; done)" ] &&
	ok "fakellm: the 3 others completed" || fail "fakellm: the 3 others completed" "$STATES" "$(slurm_logs)"
if [ "$E1" -gt 0 ] && [ "$E1" -lt "$KJOBS" ]; then
	ok "fakellm: shard $K had ended $E1 of its $KJOBS jobs when killed"
else
	fail "fakellm: shard $K killed mid-run" "$E1 of $KJOBS ended" "$(jget "$st" ".shards[$K]")"
fi
[ "$(jget "$st" ".finished") $(jget "$st" ".shards[$K] | \"\\(.finished) \\(.state) \\(.writer_pid)\"")" = \
	"false false stopped 0" ] && ok "fakellm: shards status: shard $K stopped, unfinished, no writer" ||
	fail "fakellm: shards status: shard $K stopped, unfinished, no writer" "$st"

tk=$(date +%s)
scontrol requeue "${B}_$K" 2>"$T/requeue.err" && ok "scontrol requeue ${B}_$K" ||
	fail "scontrol requeue ${B}_$K" "$(cat "$T/requeue.err")"
waited "fakellm, requeued" "$B"
[ "$STATES" = "0:COMPLETED 1:COMPLETED 2:COMPLETED 3:COMPLETED" ] &&
	ok "fakellm: the requeued task completed, the others left as they were" ||
	fail "fakellm: the requeued task completed" "$STATES" "$(tasklog "$B" "$K" | tail -n 5)"
tr=$(($(date +%s) - tk))
tb=$((tk - tb))
log=$(tasklog "$B" "$K")
contains "fakellm: task $K's log has both runs (--open-mode=append)" "$log" "(restart 1)"
# the requeued run ended only the jobs the killed one had not
last=$(printf '%s\n' "$log" | grep ' accepted, .* rejected, .* failed; ' | tail -n 1)
E2=$(printf '%s\n' "$last" | sed -n 's/.*info: \([0-9]*\) accepted, \([0-9]*\) rejected, \([0-9]*\) failed;.*/\1 \2 \3/p' |
	awk '{ print $1 + $2 + $3 }')
if [ -n "$E2" ] && [ "$E2" -eq $((KJOBS - E1)) ]; then
	ok "fakellm: it resumed: $E1 jobs ended before the kill, the other $E2 after, none redone"
else
	fail "fakellm: it resumed, nothing redone" "ended before $E1, after: ${E2:-?} of $KJOBS" "$last"
fi
contains "fakellm: each task takes 1/4 of the account's rate limit" "$log" \
	"shard $K/$N: 15000 requests and 0 tokens a minute"
st=$("$CLARIFY" shards status "$BB" --json 2>&1)
[ "$(jget "$st" '"\(.finished) \(.ended) \(.jobs)"')" = "true $JOBS $JOBS" ] &&
	ok "fakellm: shards status: all $N shards finished" || fail "fakellm: shards status" "$st"
[ "$(grep -c '"status": *401\|"status":401' "$T/fake.log")" = 0 ] &&
	ok "fakellm: the key came from llm.api_key_file" || fail "fakellm: the key" "$(grep 401 "$T/fake.log" | head -2)"
# fakellm's replies depend on the request only: the same bytes too, the
# killed and resumed shard's included
against_one fakellm "$T/fake-one.yaml" "$ONEB" "$BB" b
stop_fakellm
FPID=

[ "$failed" = 0 ] || slurm_logs
echo "# figure: Slurm job array of $N clarifyd tasks, $JOBS jobs: offline ${ta}s;" \
	"fakellm (250 ms latency), a task killed: ${tb}s, its requeue ${tr}s;" \
	"cluster start $((t1 - t0))s, the whole test $(($(date +%s) - t0))s ($SLURM_ACCT)"
exit $failed
