#!/usr/bin/env bash
# The Debian package as an operator meets it, on a machine without systemd (CI): build it
# (scripts/package.sh), install it with dpkg, start the unit's ExecStart line exactly as the
# installed unit writes it, as the unit's User= (runuser) in its WorkingDirectory=, check /health
# on both listeners, stop it, purge the package and check that the purge removed the binary, the
# unit, the configuration and the data directory. Needs root and a Debian system; it refuses to
# touch a machine where a package named portico is already installed. Extra arguments go to
# scripts/package.sh (e.g. --profile).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { echo "package-check: $*" >&2; exit 1; }
say() { echo "package-check: $*" >&2; }

[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg -i, runuser)"
if dpkg-query -W -f='${Status}' portico 2>/dev/null | grep -q 'installed'; then
    fail "a package named portico is already installed here; not touching it"
fi
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v file >/dev/null || missing+=(file)
if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

deb="$(bash scripts/package.sh "$@" | tail -n1)"
[ -f "$deb" ] || fail "scripts/package.sh printed no package path"
say "$deb: $(du -h "$deb" | cut -f1)"

work="$(mktemp -d /tmp/portico-package.XXXXXX)"
server=""
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill -KILL "$server" 2>/dev/null || true; fi
    dpkg --purge portico >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

dpkg -i "$deb" >&2

# What the package installs.
unit=""
for candidate in /usr/lib/systemd/system/portico.service /lib/systemd/system/portico.service; do
    [ -f "$candidate" ] && unit="$candidate" && break
done
[ -n "$unit" ] || fail "no portico.service installed"
[ -x /usr/bin/portico ] || fail "/usr/bin/portico is missing"
dpkg-query -W -f='${Conffiles}\n' portico | grep -q '^ /etc/portico/portico.toml ' ||
    fail "/etc/portico/portico.toml is not a conffile"
[ "$(stat -c '%U:%G %a' /etc/portico/portico.toml)" = "root:portico 640" ] ||
    fail "/etc/portico/portico.toml is $(stat -c '%U:%G %a' /etc/portico/portico.toml), not root:portico 640"
[ "$(stat -c '%U:%G %a' /var/lib/portico)" = "portico:portico 700" ] ||
    fail "/var/lib/portico is $(stat -c '%U:%G %a' /var/lib/portico), not portico:portico 700"
file /usr/bin/portico | grep -q ', stripped' || fail "/usr/bin/portico is not stripped: $(file /usr/bin/portico)"
say "installed: $(stat -c %s /usr/bin/portico) bytes in /usr/bin/portico, unit $unit"

# The unit, as systemd would read it. The line must be a plain command: no prefixes (-@:+!),
# no quoting, no variables, which systemd would interpret and a shell split would not.
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -n1; }
exec_start="$(unit_value ExecStart)"
user="$(unit_value User)"
working_directory="$(unit_value WorkingDirectory)"
[ -n "$exec_start" ] && [ -n "$user" ] && [ -n "$working_directory" ] ||
    fail "the unit lacks ExecStart=, User= or WorkingDirectory="
case "$exec_start" in
    [-@:+!]* | *\"* | *\'* | *\$* | *%*) fail "ExecStart is not a plain command line: $exec_start" ;;
esac
read -ra argv <<<"$exec_start"
getent passwd "$user" >/dev/null || fail "the unit's user $user does not exist"

say "starting as $user in $working_directory: $exec_start"
: >"$work/stdout"
(cd "$working_directory" && exec runuser -u "$user" -- "${argv[@]}") >>"$work/stdout" 2>"$work/stderr" &
server=$!

# serve prints "listening management=ADDR gateway=ADDR" once both listeners are bound.
listening=""
for _ in $(seq 1 600); do
    listening="$(grep -m1 '^listening ' "$work/stdout" || true)"
    [ -n "$listening" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/stderr" >&2; fail "the server exited before listening"; }
    sleep 0.1
done
[ -n "$listening" ] || { cat "$work/stderr" >&2; fail "the server did not listen within 60 s"; }
management="$(sed -n 's/.*management=\([^ ]*\).*/\1/p' <<<"$listening")"
gateway="$(sed -n 's/.*gateway=\([^ ]*\).*/\1/p' <<<"$listening")"
for address in "$management" "$gateway"; do
    answer="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$address/health" || true)"
    [ "$answer" = 200 ] || fail "GET http://$address/health answered $answer"
    say "GET http://$address/health: 200"
done
for file in portico.db secrets.key credentials.toml; do
    [ "$(stat -c %U "/var/lib/portico/$file" 2>/dev/null)" = "$user" ] ||
        fail "/var/lib/portico/$file was not written by $user"
done

# SIGTERM goes to portico itself, as systemd sends it: runuser, its parent here, would answer a
# signal of its own by killing the session and exiting 143 whatever portico did.
portico_pid="$(cat "/proc/$server/task/$server/children")"
portico_pid="${portico_pid// /}"
[ "$(stat -c %U "/proc/$portico_pid")" = "$user" ] || fail "portico (pid $portico_pid) does not run as $user"
kill -TERM "$portico_pid"
status=0
wait "$server" || status=$?
server=""
[ "$status" -eq 0 ] || { cat "$work/stderr" >&2; fail "the server exited with $status on SIGTERM"; }
say "stopped cleanly"

dpkg --purge portico >&2
for path in /usr/bin/portico "$unit" /etc/portico /var/lib/portico /usr/share/doc/portico; do
    [ ! -e "$path" ] || fail "$path is still there after the purge"
done
if dpkg-statoverride --list /etc/portico/portico.toml >/dev/null; then fail "the statoverride survived the purge"; fi
if dpkg-query -W -f='${Status}' portico 2>/dev/null | grep -q 'installed'; then fail "portico is still installed"; fi
say "purged: binary, unit, configuration and data directory are gone"
