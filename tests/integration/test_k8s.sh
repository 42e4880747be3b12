# test_k8s.sh - etc/k8s/clarifyd-indexed-job.yaml would run on a cluster,
# checked with none: tests/tools/k8s_check (libyaml) accepts it, and
# refuses broken copies with MANIFEST:LINE and the reason; the clarifyd.yaml
# of its ConfigMap passes clarifyd --check-config; and every document is
# valid against the Kubernetes API's schema (kubernetes-models, from the
# npm registry into build/*/k8s-schema, once: skipped when it cannot be
# installed), unknown fields included.
. "$(dirname "$0")/lib.sh"

B=$(dirname "$CLARIFY")
K8S_CHECK=${K8S_CHECK:-$B/tests/tools/k8s_check}
M=$ROOT/etc/k8s/clarifyd-indexed-job.yaml

expect_status "k8s_check accepts the manifest" 0 "$K8S_CHECK" --config-out "$T/clarifyd.yaml" "$M"

# the ConfigMap's clarifyd.yaml, its key file moved to one that exists here
printf 'not-a-real-key\n' >"$T/api-key"
chmod 600 "$T/api-key"
sed "s|^\([[:space:]]*api_key_file:\).*|\1 $T/api-key|" "$T/clarifyd.yaml" >"$T/check.yaml"
out=$("$CLARIFYD" -c "$T/check.yaml" --check-config 2>&1)
rc=$?
case $out in
*"unknown key 'llm.limits_per'"*)
	skip "the ConfigMap's clarifyd.yaml passes clarifyd --check-config" \
		"this clarifyd predates llm.limits_per (issue 19): checked without that key below"
	grep -v '^[[:space:]]*limits_per:' "$T/check.yaml" >"$T/check2.yaml"
	expect_status "the ConfigMap's clarifyd.yaml, but llm.limits_per, passes --check-config" 0 \
		"$CLARIFYD" -c "$T/check2.yaml" --check-config
	;;
*)
	[ "$rc" -eq 0 ] && ok "the ConfigMap's clarifyd.yaml passes clarifyd --check-config" \
		|| fail "the ConfigMap's clarifyd.yaml passes clarifyd --check-config" "exit $rc" "$out"
	;;
esac

# refused NAME FILE REASON: k8s_check exits 1 on FILE, naming FILE:LINE and REASON
refused() {
	OUT=$("$K8S_CHECK" "$2" 2>&1)
	got=$?
	if [ "$got" -ne 1 ]; then
		fail "$1" "exit $got, wanted 1" "$OUT"
	elif ! printf '%s\n' "$OUT" | grep -q "^$2:[0-9][0-9]*: .*$3"; then
		fail "$1" "wanted '$2:LINE: ...$3'" "$OUT"
	else
		ok "$1"
	fi
}

sed '/^  completionMode: Indexed$/d' "$M" >"$T/no-indexed.yaml"
refused "k8s_check refuses a Job without completionMode: Indexed" "$T/no-indexed.yaml" \
	"the Job running clarifyd is not Indexed"

# the Secret's mount (12 spaces in) renamed; its volume (8 in) kept
sed 's/^            - name: api-key$/            - name: apikey/' "$M" >"$T/undeclared.yaml"
refused "k8s_check refuses a mount of an undeclared volume" "$T/undeclared.yaml" \
	"volumeMount of 'apikey', which is not a volume"

awk '{ print } /^          env:$/ { print "            - name: OPENAI_API_KEY";
	print "              valueFrom:"; print "                secretKeyRef:";
	print "                  name: clarifyd-api-key"; print "                  key: api-key" }' \
	"$M" >"$T/key-env.yaml"
refused "k8s_check refuses the key in an env var" "$T/key-env.yaml" \
	"env var 'OPENAI_API_KEY' takes a Secret"

# INDEX renamed in env only: $(INDEX) in args would stay literal
sed 's/^            - name: INDEX$/            - name: SHARD_INDEX/' "$M" >"$T/unexpanded.yaml"
refused "k8s_check refuses \$(VAR) in args that no env declares" "$T/unexpanded.yaml" \
	"\$(INDEX) is not in the container's env"

sed 's/^  completions: 4$/  completions: 3/' "$M" >"$T/count.yaml"
refused "k8s_check refuses completions that are not the shard count" "$T/count.yaml" \
	"completions 3 and parallelism 4 are not the 4 shards"

# the schema: kubernetes-models (the Kubernetes OpenAPI definitions
# compiled with ajv) and TypeScript, as pinned by tests/k8s/package-lock.json
S=$B/k8s-schema
schema_ready() {
	cmp -s "$ROOT/tests/k8s/package-lock.json" "$S/package-lock.json" && [ -d "$S/node_modules/kubernetes-models" ]
}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	why="node and npm are not installed"
elif ! schema_ready; then
	rm -rf "$S"
	mkdir -p "$S"
	cp "$ROOT/tests/k8s/package.json" "$ROOT/tests/k8s/package-lock.json" "$S/"
	(cd "$S" && timeout 300 npm ci --no-audit --no-fund --ignore-scripts --fetch-retries=1 \
		--fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000) >"$T/npm.log" 2>&1 \
		|| { why="npm registry unreachable: $(grep -m1 'npm error code' "$T/npm.log" || tail -1 "$T/npm.log")"
			rm -rf "$S"; }
fi
if [ -n "${why:-}" ] || ! schema_ready; then
	skip "every document is valid against the Kubernetes schema" "${why:-npm ci failed}"
	skip "the schema check refuses broken copies" "${why:-npm ci failed}"
else
	cp "$ROOT/tests/k8s/validate.js" "$S/"
	OUT=$(cd "$S" && node validate.js "$M" 2>&1)
	[ $? -eq 0 ] && ok "every document is valid against the Kubernetes schema" \
		|| fail "every document is valid against the Kubernetes schema" "$OUT"
	# schema_refused NAME SED REASON: the schema check refuses the manifest edited by SED
	schema_refused() {
		sed "$2" "$M" >"$T/schema.yaml"
		OUT=$(cd "$S" && node validate.js "$T/schema.yaml" 2>&1)
		got=$?
		if [ "$got" -eq 1 ] && printf '%s\n' "$OUT" | grep -q "schema.yaml:[0-9][0-9]*: $3"; then
			ok "$1"
		else
			fail "$1" "exit $got, wanted 1 and '$3'" "$OUT"
		fi
	}
	schema_refused "the schema check refuses a string for an integer" \
		's/^  parallelism: 4$/  parallelism: "4"/' "Job clarifyd: /spec/parallelism must be integer"
	schema_refused "the schema check refuses a value outside an enum" \
		's/^      restartPolicy: Never$/      restartPolicy: Sometimes/' \
		"Job clarifyd-import: /spec/template/spec/restartPolicy must be equal to one of the allowed values"
	schema_refused "the schema check refuses an unknown field" \
		's/^  backoffLimitPerIndex: 3$/  backoffLimitPerIndx: 3/' \
		"Job clarifyd: .*'\"backoffLimitPerIndx\"' does not exist in type"
fi
exit $failed
