# test_install.sh - make install puts the programs, the manual pages, the
# systemd unit, the default configuration, the templates and the rules in
# place under DESTDIR and PREFIX; a second install keeps an edited
# configuration; make uninstall takes every file away again.
. "$(dirname "$0")/lib.sh"

D=$T/root
# the build the suite runs (build/release, build/asan, ...): install must
# find it up to date and not rebuild it with other flags under other tests
VARIANT=$(basename "$(dirname "$CLARIFY")")
# a make of its own, not a part of the make that runs the tests
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$ROOT" \
		VARIANT="$VARIANT" "$@"
}

if ! command -v make >/dev/null; then
	skip "make install" "make is not installed"
	exit 0
fi
if ! mk -q all >/dev/null 2>&1; then
	skip "make install" "build/$VARIANT is not up to date: run make first"
	exit 0
fi
expect_status "make install DESTDIR PREFIX=/usr" 0 mk install DESTDIR="$D" PREFIX=/usr
printf '%s\n' "$OUT" >"$T/install.log"
if mk -q all >/dev/null 2>&1; then
	ok "make install rebuilt nothing"
else
	fail "make install rebuilt nothing"
fi

for f in usr/bin/clarify usr/bin/clarifyd; do
	[ -f "$D/$f" ] && [ -x "$D/$f" ] && ok "/$f is installed, executable" ||
		fail "/$f is installed, executable"
done
expect_status "the installed clarify runs" 0 "$D/usr/bin/clarify" --version
contains "and is this version" "$OUT" "clarify "
expect_status "the installed clarifyd checks the installed config" 0 \
	"$D/usr/bin/clarifyd" -c "$D/etc/clarifyd/clarifyd.yaml" --check-config

for f in usr/share/man/man1/clarify.1 usr/share/man/man5/clarifyd.yaml.5 \
	usr/share/man/man8/clarifyd.8; do
	if [ -f "$D/$f" ] && cmp -s "$D/$f" "$ROOT/man/$(basename "$f")"; then
		ok "/$f is installed"
	else
		fail "/$f is installed"
	fi
done

unit=$D/usr/lib/systemd/system/clarifyd.service
if [ -f "$unit" ]; then
	ok "the systemd unit is installed"
	contains "the unit starts /usr/bin/clarifyd" "$(cat "$unit")" "ExecStart=/usr/bin/clarifyd "
else
	fail "the systemd unit is installed"
fi

if cmp -s "$D/etc/clarifyd/clarifyd.yaml" "$ROOT/etc/clarifyd.yaml"; then
	ok "the default configuration is /etc/clarifyd/clarifyd.yaml"
else
	fail "the default configuration is /etc/clarifyd/clarifyd.yaml"
fi

for kind in prompts filters; do
	n=0 missing=
	for f in "$ROOT/$kind"/*.yaml; do
		n=$((n + 1))
		cmp -s "$f" "$D/usr/share/clarifyd/$kind/$(basename "$f")" ||
			missing="$missing $(basename "$f")"
	done
	if [ "$n" -gt 0 ] && [ -z "$missing" ]; then
		ok "the $n $kind files are in /usr/share/clarifyd/$kind"
	else
		fail "the $n $kind files are in /usr/share/clarifyd/$kind" "missing:$missing"
	fi
done

# an edited configuration survives a second install
echo "# edited" >>"$D/etc/clarifyd/clarifyd.yaml"
expect_status "a second make install" 0 mk install DESTDIR="$D" PREFIX=/usr
contains "keeps the edited configuration" "$(tail -1 "$D/etc/clarifyd/clarifyd.yaml")" "# edited"

expect_status "make uninstall DESTDIR PREFIX=/usr" 0 mk uninstall DESTDIR="$D" PREFIX=/usr
left=$(cd "$D" && find . ! -type d | sort)
if [ -z "$left" ]; then
	ok "make uninstall leaves no file behind"
else
	fail "make uninstall leaves no file behind" "$left"
fi
exit $failed
