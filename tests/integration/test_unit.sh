# test_unit.sh - the systemd unit: it verifies, and its exposure is low
. "$(dirname "$0")/lib.sh"

if ! command -v systemd-analyze >/dev/null; then
	skip "the systemd unit" "systemd-analyze is not installed"
	exit 0
fi
sed "s|/usr/local/bin/clarifyd|$CLARIFYD|" "$ROOT/etc/clarifyd.service" >"$T/clarifyd.service"
expect_status "systemd-analyze verify clarifyd.service" 0 systemd-analyze verify "$T/clarifyd.service"
if out=$(systemd-analyze security --offline=true "$T/clarifyd.service" 2>&1); then
	level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for clarifyd.service: \([0-9.]*\).*/\1/p')
	awk -v l="$level" 'BEGIN { exit !(l != "" && l <= 2.5) }' \
		&& ok "exposure $level (at most 2.5)" || fail "exposure at most 2.5" "$out"
else
	skip "exposure" "systemd-analyze security --offline is not available here"
fi
for key in Type=notify DynamicUser=yes StateDirectory=clarifyd ConfigurationDirectory=clarifyd LoadCredential=api-key; do
	contains "the unit has $key" "$(cat "$ROOT/etc/clarifyd.service")" "$key"
done
exit $failed
