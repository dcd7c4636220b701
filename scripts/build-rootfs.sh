#!/usr/bin/env bash
# Build a minimal busybox root filesystem for skiff's test bundles.
#
#   scripts/build-rootfs.sh [DEST]      (default DEST: spec-fixtures/rootfs)
#
# Copies Debian's statically linked /bin/busybox (package busybox-static,
# installed on demand) into DEST/bin, adds a symlink for every applet, the
# usual top-level directories and a few files in etc/. Idempotent: a stamp
# file records busybox's checksum and this script's layout version, and the
# build is skipped when both match.
#
# When DEST is the default, it also (re)creates `rootfs` in every bundle
# directory under spec-fixtures/ (any directory holding a config.json) as a
# hard-link copy of the shared tree, so each bundle's "root": {"path": "rootfs"}
# resolves. These copies are gitignored (spec-fixtures/.gitignore).
#
# Env: FORCE=1 rebuilds even when the stamp matches.
set -euo pipefail
umask 022

# Bump when the layout below changes, so existing rootfs trees get rebuilt.
LAYOUT_VERSION=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
fixtures="$repo/spec-fixtures"
default_dest="$fixtures/rootfs"
dest="${1:-$default_dest}"

log() { printf 'build-rootfs: %s\n' "$*"; }
die() { printf 'build-rootfs: error: %s\n' "$*" >&2; exit 1; }

# Is /bin/busybox a static executable? (ldd ships with libc-bin, always present.)
busybox_is_static() {
    [ -x /bin/busybox ] || return 1
    ! ldd /bin/busybox >/dev/null 2>&1
}

ensure_busybox() {
    if busybox_is_static; then
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "/bin/busybox is missing or not static; run as root or: apt-get install busybox-static"
    log "installing busybox-static"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
    busybox_is_static || die "/bin/busybox is still not a static executable after installing busybox-static"
}

# Give every bundle directory under spec-fixtures/ (any directory holding a
# config.json) its own `rootfs`: a hard-link copy of the shared tree (cheap:
# one 2 MB binary plus symlinks). Not a symlink: runc rejects a rootfs path
# that is a symlink ("invalid rootfs: not an absolute path, or a symlink").
link_bundles() {
    local cfg dir want have n=0
    want="$(cat "$default_dest/etc/.skiff-rootfs-stamp")"
    while IFS= read -r cfg; do
        dir="$(dirname "$cfg")"
        have="$(cat "$dir/rootfs/etc/.skiff-rootfs-stamp" 2>/dev/null || true)"
        if [ -d "$dir/rootfs" ] && [ ! -L "$dir/rootfs" ] && [ "$have" = "$want" ]; then
            continue
        fi
        rm -rf "$dir/rootfs"
        cp -al "$default_dest" "$dir/rootfs" 2>/dev/null || cp -a "$default_dest" "$dir/rootfs"
        n=$((n + 1))
    done < <(find "$fixtures" -path "$default_dest" -prune -o -name rootfs -prune -o -name config.json -type f -print | sort)
    [ "$n" -eq 0 ] || log "refreshed rootfs in $n bundle(s)"
}

ensure_busybox

sum="$(sha256sum /bin/busybox | cut -d' ' -f1)"
want_stamp="busybox-sha256=$sum layout=$LAYOUT_VERSION"
stamp_file="$dest/etc/.skiff-rootfs-stamp"

is_default_dest=0
if [ "$(realpath -m "$dest")" = "$(realpath -m "$default_dest")" ]; then
    is_default_dest=1
fi

if [ "${FORCE:-0}" != 1 ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want_stamp" ] \
    && [ -x "$dest/bin/busybox" ] && [ -L "$dest/bin/sh" ]; then
    log "up to date: $dest"
    [ "$is_default_dest" -eq 1 ] && link_bundles
    exit 0
fi

log "building $dest"
mkdir -p "$(dirname "$dest")"
tmp="$(mktemp -d "$(dirname "$dest")/.rootfs-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"

for d in bin sbin usr/bin usr/sbin proc sys dev tmp etc root var var/tmp run home/skiffuser; do
    mkdir -p "$tmp/$d"
done
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
chmod 0700 "$tmp/root"
ln -s ../run "$tmp/var/run"

cp /bin/busybox "$tmp/bin/busybox"
chmod 0755 "$tmp/bin/busybox"
n=0
while IFS= read -r applet; do
    case "$applet" in
        ""|busybox|*/*) continue ;;
    esac
    ln -s busybox "$tmp/bin/$applet"
    n=$((n + 1))
done < <("$tmp/bin/busybox" --list)
[ -e "$tmp/bin/sh" ] || die "busybox has no sh applet"
ln -s ../../bin/busybox "$tmp/usr/bin/env"

cat >"$tmp/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
skiffuser:x:1000:1000:skiff test user:/home/skiffuser:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$tmp/etc/group" <<'EOF'
root:x:0:
tty:x:5:
skiffuser:x:1000:
nogroup:x:65534:
EOF
echo skiff >"$tmp/etc/hostname"
cat >"$tmp/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
EOF
chmod 0644 "$tmp/etc/passwd" "$tmp/etc/group" "$tmp/etc/hostname" "$tmp/etc/hosts"
chown 1000:1000 "$tmp/home/skiffuser" 2>/dev/null || true
printf '%s\n' "$want_stamp" >"$tmp/etc/.skiff-rootfs-stamp"

# Swap the new tree in.
if [ -e "$dest" ] || [ -L "$dest" ]; then
    old="$(mktemp -d "$(dirname "$dest")/.rootfs-old.XXXXXX")"
    mv "$dest" "$old/"
    mv "$tmp" "$dest"
    rm -rf "$old"
else
    mv "$tmp" "$dest"
fi
trap - EXIT

log "done: $dest (busybox + $n applets)"
[ "$is_default_dest" -eq 1 ] && link_bundles
exit 0
