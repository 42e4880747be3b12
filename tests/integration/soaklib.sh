# tests/integration/soaklib.sh - helpers of the soak, crash and secrets
# suites, sourced after lib.sh.

# gen_apps N: N synthetic APPS problems as JSONL on stdout, each distinct
# (its number is in the text), each with a bound line for fakellm to drop
gen_apps() {
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "{\"problem_id\": %d, \"difficulty\": \"interview\", \"question\": " \
				"\"Given %d arrays of integers of length n, print the sum of the largest " \
				"element of every array, case number %d.\\n\\n-----Input-----\\n\\n" \
				"The first line contains n.\\n1 <= n <= %d\\nThe next lines hold the " \
				"arrays.\\n\\n-----Output-----\\n\\nPrint the sum for case %d.\"}\n",
				i, i % 7 + 2, i, 1000 + i, i
	}'
}

# db_keys STORE DB: the keys of one database, one a line, sorted
db_keys() {
	mdb_dump -p -s "$2" "$1" 2>/dev/null | awk '
		/^HEADER=END/ { on = 1; n = 0; next }
		/^DATA=END/ { on = 0 }
		on { if (n++ % 2 == 0) print substr($0, 2) }' | LC_ALL=C sort
}

# rss_kb PID FIELD: VmRSS, RssAnon or RssFile of PID in kB (empty when gone)
rss_kb() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# db_json STORE DB: "KEY<TAB>JSON" for each record of DB, in key order (the
# values are zstd frames: decoded in one stream, then paired with the keys)
db_json() {
	mdb_dump -s "$2" "$1" 2>/dev/null | awk '
		/^HEADER=END/ { on = 1; n = 0; next }
		/^DATA=END/ { on = 0 }
		on && n++ % 2 == 1 { print substr($0, 2) }' | xxd -r -p | zstd -dcq | jq -c . >"$T/db_json.values"
	db_keys "$1" "$2" >"$T/db_json.keys"
	paste "$T/db_json.keys" "$T/db_json.values"
}
