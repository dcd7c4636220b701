#!/usr/bin/env bash
# CI check of the Debian package, as root on a Debian 12 machine without skiff installed:
# builds the .deb (scripts/package-deb.sh), installs it with apt, checks what it installed
# (binary, version with commit, man pages, completions), runs the demo with /usr/bin/skiff
# (scripts/setup-and-demo.sh), purges the package and checks that nothing is left: no package
# files, no directories it made, no state under /run/skiff. Then the same for scripts/install.sh
# under /usr/local (install, check, --uninstall, /usr/local exactly as before).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export PATH="/opt/swift/usr/bin:$PATH" DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" -eq 0 ] || { echo "ci-deb-test: must run as root" >&2; exit 1; }
say() { printf '\n==> %s\n' "$*"; }
fail() { echo "ci-deb-test: FAIL: $*" >&2; exit 1; }

if dpkg-query -W -f='${Status}' skiff 2>/dev/null | grep -q installed; then
    fail "a skiff package is already installed; this test installs and purges its own"
fi
[ ! -e /usr/bin/skiff ] || fail "/usr/bin/skiff exists and does not belong to a skiff package"
run_skiff_before=0; [ -e /run/skiff ] && run_skiff_before=1

say "building the package"
deb="$(scripts/package-deb.sh)"
echo "$deb ($(stat -c %s "$deb") bytes)"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
# What the package holds; directories that do not exist yet must be gone after the purge.
mapfile -t files < <(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|; /\/$/d')
mapfile -t new_dirs < <(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -n 's|^\./\(.*[^/]\)/$|/\1|p' | while read -r d; do [ -e "$d" ] || echo "$d"; done)

cleanup() {
    if dpkg-query -W -f='${Status}' skiff 2>/dev/null | grep -q installed; then apt-get purge -y -qq skiff >/dev/null || true; fi
}
trap cleanup EXIT

say "apt-get install $deb"
apt-get install -y -qq --no-install-recommends "$deb"
dpkg -L skiff | grep -qx /usr/bin/skiff || fail "dpkg -L does not list /usr/bin/skiff"

say "installed files"
/usr/bin/skiff --version
commit="$(/usr/bin/skiff --version | sed -n 's/^commit: //p')"
head="$(git -c safe.directory='*' rev-parse HEAD 2>/dev/null || echo unknown)"
[ "${commit%-dirty}" = "$head" ] || fail "--version says commit $commit, the tree is at $head"
! readelf -lW /usr/bin/skiff | grep -q INTERP || fail "/usr/bin/skiff is not static"
! readelf -SW /usr/bin/skiff | grep -q -e '\.symtab' -e '\.debug_info' || fail "/usr/bin/skiff is not stripped"
for page in skiff skiff-create skiff-kill skiff-config; do
    man -w "$page" >/dev/null || fail "man -w $page finds no page"
done
LANG=C MANWIDTH=80 man -P cat skiff-create | grep -q -- '--console-socket' || fail "man skiff-create lacks --console-socket"
bash -n /usr/share/bash-completion/completions/skiff || fail "bash completion does not parse"
for f in /usr/share/zsh/vendor-completions/_skiff /usr/share/fish/vendor_completions.d/skiff.fish /usr/share/doc/skiff/README.Debian; do
    [ -s "$f" ] || fail "$f missing"
done

say "demo with /usr/bin/skiff"
SKIFF_BIN=/usr/bin/skiff SKIP_DEPS=1 scripts/setup-and-demo.sh </dev/null

say "apt-get purge skiff"
apt-get purge -y -qq skiff
dpkg-query -W -f='${Status}' skiff 2>/dev/null | grep -q installed && fail "skiff still installed"
left=0
for f in "${files[@]}" "${new_dirs[@]}"; do
    if [ -e "$f" ]; then echo "left behind: $f" >&2; left=1; fi
done
if [ "$run_skiff_before" = 0 ] && [ -e /run/skiff ]; then echo "left behind: /run/skiff" >&2; left=1; fi
[ "$left" = 0 ] || fail "files left after purge"

say "scripts/install.sh --debug-symbols, then --uninstall (prefix /usr/local)"
before="$(find /usr/local | sort)"
bin="$(swift build -c release --show-bin-path)/skiff"
scripts/install.sh --binary "$bin" --debug-symbols
/usr/local/bin/skiff --version | grep -q "^commit: $commit\$" || fail "/usr/local/bin/skiff --version"
man -w skiff-create | grep -q '^/usr/local/' || fail "man -w skiff-create does not find the /usr/local page"
scripts/install.sh --uninstall
[ "$(find /usr/local | sort)" = "$before" ] || { diff <(echo "$before") <(find /usr/local | sort) >&2; fail "install.sh --uninstall left /usr/local different"; }
echo "ci-deb-test: OK (${#files[@]} package files installed and removed; install.sh round trip clean)"
