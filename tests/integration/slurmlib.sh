# tests/integration/slurmlib.sh - a one-node Slurm cluster on localhost,
# entirely inside $T/slurm: munged with its own key and socket, slurmctld
# and slurmd on free ports with their own slurm.conf (SLURM_CONF), state,
# spool, pid and log files, and for sacct a MariaDB server on a private
# socket and port with slurmdbd over it.  Sourced by test_slurm.sh after
# lib.sh.
#
#   slurm_install      the Debian packages when missing (as root); 1: cannot
#   slurm_start        the daemons; 1 (with SLURM_WHY) when they cannot start
#   slurm_stop         every daemon slurm_start started, waited for (also at exit)
#   slurm_wait JOBID [SECONDS]   until no task of the array is pending or
#                      running; prints "# JOBID_K STATE" lines; 1 on timeout
#   slurm_state JOBID_K          the task's state (COMPLETED, FAILED, ...)
#   slurm_logs         the tails of the daemons' logs, as TAP comments
#
# SLURM_ACCT is "sacct" when accounting (slurmdbd + MariaDB) runs, else
# "none" with the reason in SLURM_ACCT_WHY; the states then come from
# scontrol, which knows a job for MinJobAge (here 600 s) after it ended.
# SLURM_NO_ACCOUNTING=1 skips the accounting daemons.

SD=$T/slurm
# a socket's path has at most 107 bytes: with a long TMPDIR, the cluster
# lives in a short folder of its own, removed at exit as $T is
[ ${#SD} -gt 60 ] && SD=$(mktemp -d /tmp/slurm.XXXXXX)
SLURM_PIDS=
SLURM_ACCT=none
SLURM_ACCT_WHY=
SLURM_WHY=

# SLURM_TEST_KEEP=DIR: the test's folder (logs, stores) is copied there
trap 'slurm_stop; [ -n "${FPID:-}" ] && stop_fakellm
	[ -n "${SLURM_TEST_KEEP:-}" ] && rm -rf "$SLURM_TEST_KEEP" && cp -a "$T" "$SLURM_TEST_KEEP"
	case $SD in "$T"/*) ;; *) rm -rf "$SD" ;; esac
	rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP

# slurm_install: slurm-wlm and munge when missing, and for sacct slurmdbd
# and mariadb-server (their absence only leaves sacct out)
slurm_install() {
	need=
	for c in sbatch slurmctld slurmd munged; do
		command -v $c >/dev/null 2>&1 || [ -x /usr/sbin/$c ] || need="slurm-wlm munge"
	done
	want=
	if [ "${SLURM_NO_ACCOUNTING:-0}" != 1 ]; then
		[ -x /usr/sbin/slurmdbd ] || want="$want slurmdbd"
		[ -x /usr/sbin/mariadbd ] || want="$want mariadb-server"
	fi
	[ -z "$need$want" ] && return 0
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		SLURM_WHY="${need:+$need }${want:+$want }not installed, and not root on Debian to install them"
		[ -n "$need" ] && return 1
		SLURM_ACCT_WHY=$SLURM_WHY
		return 0
	fi
	echo "# installing" $need $want
	# shellcheck disable=SC2086
	if [ -n "$need" ] && ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		$need >"$T/apt.log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get update >>"$T/apt.log" 2>&1
		# shellcheck disable=SC2086
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			$need >>"$T/apt.log" 2>&1; then
			SLURM_WHY="apt-get install $need failed: $(tail -n 1 "$T/apt.log")"
			return 1
		fi
	fi
	# shellcheck disable=SC2086
	if [ -n "$want" ] && ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		$want >>"$T/apt.log" 2>&1; then
		SLURM_ACCT_WHY="apt-get install$want failed: $(tail -n 1 "$T/apt.log")"
	fi
	return 0
}

# free_port: a TCP port no socket uses (nor was handed out here), outside
# the kernel's range of ephemeral ports: a port inside it can be taken as
# the local end of an outgoing connection (slurmctld's to slurmdbd, say)
# between this check and the daemon's bind, and CI saw slurmd fail so
free_port() {
	read -r elo ehi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { elo=32768; ehi=60999; }
	if [ "$elo" -gt 11000 ]; then
		lo=10000 span=$((elo - 10000))
	else
		lo=$((ehi + 1)) span=$((65535 - ehi))
	fi
	while :; do
		p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % span + lo ))
		case " $SLURM_PORTS " in *" $p "*) continue ;; esac
		if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Htan "sport = :$p" 2>/dev/null)" ]; then
			continue
		fi
		SLURM_PORTS="$SLURM_PORTS $p"
		echo "$p"
		return
	done
}
SLURM_PORTS=

# bg NAME CMD...: CMD in the background, its output in $SD/log/NAME.out,
# its pid remembered for slurm_stop
bg() {
	n=$1
	shift
	"$@" >"$SD/log/$n.out" 2>&1 &
	SLURM_PIDS="$SLURM_PIDS $!"
	echo $! >"$SD/$n.bgpid"
}

# waitfor SECONDS CMD...: until CMD succeeds; 1 when it never did
waitfor() {
	n=$(( $1 * 10 ))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

alive() { kill -0 "$(cat "$SD/$1.bgpid")" 2>/dev/null; }

# the MariaDB server and slurmdbd, for sacct; 1 with SLURM_ACCT_WHY
start_accounting() {
	[ "${SLURM_NO_ACCOUNTING:-0}" = 1 ] && SLURM_ACCT_WHY="SLURM_NO_ACCOUNTING=1" && return 1
	[ -n "$SLURM_ACCT_WHY" ] && return 1
	for c in /usr/sbin/slurmdbd /usr/sbin/mariadbd; do
		[ -x $c ] || { SLURM_ACCT_WHY="no $c"; return 1; }
	done
	inst=$(command -v mariadb-install-db || command -v mysql_install_db) ||
		{ SLURM_ACCT_WHY="no mariadb-install-db"; return 1; }
	command -v mariadb >/dev/null 2>&1 || { SLURM_ACCT_WHY="no mariadb client"; return 1; }
	mkdir -p "$SD/db"
	if ! "$inst" --no-defaults --user=root --datadir="$SD/db/data" --skip-test-db \
		--auth-root-authentication-method=socket >"$SD/log/mariadb-install.out" 2>&1; then
		SLURM_ACCT_WHY="mariadb-install-db failed: $(tail -n 1 "$SD/log/mariadb-install.out")"
		return 1
	fi
	DBPORT=$(free_port)
	bg mariadbd /usr/sbin/mariadbd --no-defaults --user=root --datadir="$SD/db/data" \
		--socket="$SD/db/sock" --port="$DBPORT" --bind-address=127.0.0.1 \
		--pid-file="$SD/db/pid" --log-error="$SD/log/mariadbd.log" --skip-log-bin \
		--skip-name-resolve --innodb-buffer-pool-size=32M --innodb-lock-wait-timeout=900 \
		--innodb-use-native-aio=0
	if ! waitfor 30 mariadb --no-defaults -S "$SD/db/sock" -u root -e 'select 1'; then
		SLURM_ACCT_WHY="mariadbd did not start: $(tail -n 1 "$SD/log/mariadbd.log" 2>/dev/null)"
		return 1
	fi
	mariadb --no-defaults -S "$SD/db/sock" -u root -e \
		"CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm-test';
		 GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" >"$SD/log/grant.out" 2>&1 ||
		{ SLURM_ACCT_WHY="mariadb grant failed: $(cat "$SD/log/grant.out")"; return 1; }
	cat >"$SD/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$SD/munge/sock
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBDPORT
SlurmUser=root
PidFile=$SD/slurmdbd.pid
LogFile=$SD/log/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DBPORT
StorageUser=slurm
StoragePass=slurm-test
StorageLoc=slurm_acct_db
EOF
	chmod 600 "$SD/slurmdbd.conf"
	# slurmdbd reads slurmdbd.conf from the folder of $SLURM_CONF
	bg slurmdbd /usr/sbin/slurmdbd -D
	if ! waitfor 60 sacctmgr -n show cluster; then
		SLURM_ACCT_WHY="slurmdbd did not answer: $(tail -n 1 "$SD/log/slurmdbd.log" 2>/dev/null)"
		return 1
	fi
	if ! sacctmgr -i add cluster "$SLURM_CLUSTER" >"$SD/log/sacctmgr.out" 2>&1; then
		SLURM_ACCT_WHY="sacctmgr add cluster failed: $(tail -n 1 "$SD/log/sacctmgr.out")"
		return 1
	fi
	return 0
}

# slurm.conf; ACCT: slurmdbd or none
write_conf() {
	if [ "$1" = slurmdbd ]; then
		acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBDPORT
AccountingStoragePass=$SD/munge/sock
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30"
	else
		acct="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
	fi
	cat >"$SD/slurm.conf" <<EOF
ClusterName=$SLURM_CLUSTER
SlurmctldHost=$SLURM_HOST(127.0.0.1)
SlurmctldPort=$CTLDPORT
SlurmdPort=$SLURMDPORT
AuthType=auth/munge
AuthInfo=socket=$SD/munge/sock,cred_expire=10
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$SD/state
SlurmdSpoolDir=$SD/spool
SlurmctldPidFile=$SD/slurmctld.pid
SlurmdPidFile=$SD/slurmd.pid
SlurmctldLogFile=$SD/log/slurmctld.log
SlurmdLogFile=$SD/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$SD/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
$acct
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# a requeued task may start cred_expire (above) after its requeue: at the
# next pass of the scheduler, here every second, not every 30 to 60
SchedulerParameters=bf_interval=1,sched_interval=1
SlurmdParameters=config_overrides
JobRequeue=1
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=5
NodeName=$SLURM_NODE NodeHostname=$SLURM_HOST NodeAddr=127.0.0.1 CPUs=4 RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

node_idle() {
	case $(sinfo -h -N -o %t 2>/dev/null) in idle*) return 0 ;; esac
	return 1
}

# node_settled: the node idle, or a daemon gone (a port it could not bind)
node_settled() { node_idle || ! alive slurmd || ! alive slurmctld; }

# slurm_start: munged, (MariaDB, slurmdbd,) slurmctld, slurmd; waits for
# the node to be idle.  1 with SLURM_WHY when a daemon does not start.
slurm_start() {
	mkdir -p "$SD/munge" "$SD/state" "$SD/spool" "$SD/log"
	chmod 755 "$T" "$SD"
	chmod 700 "$SD/munge"
	PATH=$PATH:/usr/sbin:/sbin
	export PATH
	export SLURM_CONF="$SD/slurm.conf"
	unset SLURM_JOB_ID SLURM_JOBID SLURM_ARRAY_JOB_ID SLURM_ARRAY_TASK_ID SQUEUE_FORMAT \
		SACCT_FORMAT SLURM_CLUSTERS SLURM_TIME_FORMAT
	SLURM_HOST=$(hostname -s)
	SLURM_NODE=clarify1
	SLURM_CLUSTER=clarifytest
	CTLDPORT=$(free_port)
	SLURMDPORT=$(free_port)
	DBDPORT=$(free_port)

	dd if=/dev/urandom of="$SD/munge/key" bs=1024 count=1 2>/dev/null
	chmod 400 "$SD/munge/key"
	bg munged munged -F -f --key-file="$SD/munge/key" --socket="$SD/munge/sock" \
		--pid-file="$SD/munge/pid" --log-file="$SD/log/munged.log" \
		--seed-file="$SD/munge/seed" --num-threads=4
	if ! waitfor 10 sh -c "munge -S '$SD/munge/sock' -n | unmunge -S '$SD/munge/sock'"; then
		SLURM_WHY="munged did not start: $(tail -n 2 "$SD/log/munged.out")"
		return 1
	fi

	# sacctmgr finds slurmdbd through slurm.conf: written with accounting
	# first, again without it when that cannot start
	write_conf slurmdbd
	: >"$SD/plugstack.conf"
	if start_accounting; then
		SLURM_ACCT=sacct
	else
		SLURM_ACCT=none
		write_conf none
	fi

	bg slurmctld slurmctld -D -c
	bg slurmd slurmd -D -N "$SLURM_NODE"
	waitfor 60 node_settled
	if ! node_idle; then
		SLURM_WHY="the node did not come up: $(sinfo -h -N -o '%t %E' 2>&1 | tail -n 1);
slurmctld: $(tail -n 1 "$SD/log/slurmctld.log" 2>/dev/null)
slurmd: $(grep -v pmix "$SD/log/slurmd.log" 2>/dev/null | tail -n 1)"
		return 1
	fi
	return 0
}

# ours PATTERN: the pids of the processes whose environment names this
# cluster's slurm.conf (its daemons, what its slurmd started, this test's
# own commands) and has PATTERN too, this shell left out
ours() {
	for e in /proc/[0-9]*/environ; do
		p=${e#/proc/}
		p=${p%/environ}
		[ "$p" = $$ ] && continue
		env=$(tr '\0' '\n' 2>/dev/null <"$e") 2>/dev/null || continue
		case $env in *"SLURM_CONF=$SD/slurm.conf"*) ;; *) continue ;; esac
		printf '%s\n' "$env" | grep -q "$1" || continue
		echo "$p"
	done
}

# stop PID: TERM, up to 10 s, then KILL; waited for
stop() {
	kill -TERM "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
	n=0
	while kill -0 "$1" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# slurm_stop: every job cancelled, every daemon started stopped in the
# reverse order and waited for, and whatever a job left killed
slurm_stop() {
	[ -n "$SLURM_PIDS" ] || return 0
	if alive slurmctld 2>/dev/null; then
		scancel --full -u root >/dev/null 2>&1
		n=0
		while [ -n "$(squeue -h -o %i 2>/dev/null)" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	fi
	# a job's processes (only they have SLURM_JOB_ID)
	for p in $(ours '^SLURM_JOB_ID='); do kill -KILL "$p" 2>/dev/null; done
	pids=
	for p in $SLURM_PIDS; do pids="$p $pids"; done
	for p in $pids; do stop "$p"; done
	# a slurmstepd left without its slurmd
	for p in $(ours '^SLURM_CONF='); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in slurmstepd*) kill -KILL "$p" 2>/dev/null ;; esac
	done
	SLURM_PIDS=
}

# slurm_state JOBID_K: the state of an array task (the first word:
# "CANCELLED by 0" is CANCELLED), from sacct when it runs, else scontrol
slurm_state() {
	if [ "$SLURM_ACCT" = sacct ]; then
		s=$(sacct -n -X -P -o State -j "$1" 2>/dev/null | tail -n 1)
		[ -n "$s" ] && { echo "${s%% *}"; return; }
	fi
	scontrol -o show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1
}

# slurm_exit JOBID_K: the task's exit code as Slurm shows it (STATUS:SIGNAL)
slurm_exit() {
	if [ "$SLURM_ACCT" = sacct ]; then
		s=$(sacct -n -X -P -o ExitCode -j "$1" 2>/dev/null | tail -n 1)
		[ -n "$s" ] && { echo "$s"; return; }
	fi
	scontrol -o show job "$1" 2>/dev/null | sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' | head -n 1
}

# slurm_tasks JOBID: the array's task ids, as Slurm lists them
slurm_tasks() {
	scontrol -o show job "$1" 2>/dev/null | sed -n 's/.* ArrayTaskId=\([0-9]*\) .*/\1/p' | sort -n
}

ended_state() {
	case $1 in
	COMPLETED | FAILED | CANCELLED | TIMEOUT | OUT_OF_MEMORY | NODE_FAIL | PREEMPTED | BOOT_FAIL | DEADLINE) return 0 ;;
	esac
	return 1
}

# slurm_wait JOBID [SECONDS]: until no task of the array is pending,
# running, completing or requeued, and (with sacct) accounting has them
# ended too; prints "# JOBID_K STATE EXIT" per task; 1 on timeout
slurm_wait() {
	n=$(( ${2:-120} * 5 ))
	while [ "$n" -gt 0 ]; do
		if [ -z "$(squeue -h -r -j "$1" -o %i 2>/dev/null)" ] &&
			[ -z "$(scontrol -o show job "$1" 2>/dev/null | grep -v 'JobState=\(COMPLETED\|FAILED\|CANCELLED\|TIMEOUT\|OUT_OF_MEMORY\|NODE_FAIL\|PREEMPTED\|BOOT_FAIL\|DEADLINE\) ')" ]; then
			all=1
			for k in $(slurm_tasks "$1"); do
				ended_state "$(slurm_state "$1_$k")" || all=0
			done
			[ $all = 1 ] && break
		fi
		sleep 0.2
		n=$((n - 1))
	done
	for k in $(slurm_tasks "$1"); do
		echo "# $1_$k $(slurm_state "$1_$k") $(slurm_exit "$1_$k")"
	done
	[ "$n" -gt 0 ]
}

# slurm_logs: the tails of the daemons' logs, for a failure
slurm_logs() {
	for f in "$SD"/log/*.log; do
		[ -f "$f" ] || continue
		echo "# --- $(basename "$f")"
		grep -v 'pmix\|MPI: Cannot create context' "$f" | tail -n 15 | sed 's/^/#   /'
	done
}
