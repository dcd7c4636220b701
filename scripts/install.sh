#!/usr/bin/env bash
# Installs skiff (as root, or with --destdir for packaging):
#
#   scripts/install.sh [--prefix /usr/local] [--destdir DIR] [--debug-symbols] [--binary PATH]
#   scripts/install.sh --uninstall [--prefix /usr/local] [--destdir DIR]
#
#   PREFIX/bin/skiff                                   the release binary, stripped
#   PREFIX/lib/debug/PREFIX/bin/skiff.debug            its debug info (--debug-symbols; linked
#                                                      with .gnu_debuglink: gdb finds it with
#                                                      `set debug-file-directory PREFIX/lib/debug`)
#   PREFIX/share/man/man8/skiff.8, skiff-COMMAND.8     manual pages (`skiff help --man`)
#   PREFIX/share/man/man5/skiff-config.5
#   PREFIX/share/bash-completion/completions/skiff     completions (`skiff help --completion SHELL`)
#   PREFIX/share/zsh/site-functions/_skiff           (/usr: share/zsh/vendor-completions)
#   PREFIX/share/fish/vendor_completions.d/skiff.fish
#
# Builds with `swift build -c release` unless --binary names an already built skiff. Every
# generated file comes from the binary being installed, so pages and completions match it.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=/usr/local destdir="" debug=0 binary="" uninstall=0
usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
        --prefix=*) prefix="${1#*=}"; shift ;;
        --destdir) destdir="${2:?--destdir needs a directory}"; shift 2 ;;
        --destdir=*) destdir="${1#*=}"; shift ;;
        --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
        --binary=*) binary="${1#*=}"; shift ;;
        --debug-symbols) debug=1; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument $1" >&2; usage >&2; exit 1 ;;
    esac
done
case "$prefix" in /*) ;; *) echo "install.sh: --prefix must be absolute" >&2; exit 1 ;; esac
prefix="${prefix%/}"
root="$destdir$prefix"

bin_dir="$root/bin"
debug_file="$root/lib/debug$prefix/bin/skiff.debug"
man8="$root/share/man/man8"
man5="$root/share/man/man5"
bash_completion="$root/share/bash-completion/completions/skiff"
# zsh's fpath on Debian: vendor-completions under /usr, site-functions under /usr/local.
if [ "$prefix" = /usr ]; then zsh_completion="$root/share/zsh/vendor-completions/_skiff"
else zsh_completion="$root/share/zsh/site-functions/_skiff"; fi
fish_completion="$root/share/fish/vendor_completions.d/skiff.fish"

# The directories install.sh made (and only those) are listed here, deepest first, so that
# --uninstall removes them again and never a directory that existed before (e.g. share/man).
made_dirs="$root/share/skiff/installed-directories"

if [ "$uninstall" = 1 ]; then
    rm -f "$bin_dir/skiff" "$debug_file" "$bash_completion" "$zsh_completion" "$fish_completion" \
          "$man8"/skiff.8 "$man8"/skiff-*.8 "$man5"/skiff-config.5
    if [ -f "$made_dirs" ]; then
        dirs="$(cat "$made_dirs")"
        rm -f "$made_dirs"
        rmdir "$root/share/skiff" 2>/dev/null || true
        while IFS= read -r d; do
            [ -n "$d" ] && rmdir "$destdir$d" 2>/dev/null || true
        done <<<"$dirs"
    fi
    echo "skiff removed from $root"
    exit 0
fi

if [ -z "$binary" ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
    (cd "$repo" && swift build -c release >&2)
    binary="$(cd "$repo" && swift build -c release --show-bin-path)/skiff"
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }

work="$(mktemp -d /tmp/skiff-install.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# Stripped binary; with --debug-symbols the debug info goes to a separate file it links to.
strip --strip-all -o "$work/skiff" "$binary"
if [ "$debug" = 1 ]; then
    objcopy --only-keep-debug "$binary" "$work/skiff.debug"
    objcopy --add-gnu-debuglink="$work/skiff.debug" "$work/skiff"
fi
"$work/skiff" --version >/dev/null    # the stripped binary runs

"$work/skiff" help --man "$work/man"
"$work/skiff" help --completion bash >"$work/skiff.bash"
"$work/skiff" help --completion zsh >"$work/_skiff"
"$work/skiff" help --completion fish >"$work/skiff.fish"

dirs=("$bin_dir" "$man8" "$man5" "$(dirname "$bash_completion")" "$(dirname "$zsh_completion")"
      "$(dirname "$fish_completion")" "$root/share/skiff")
[ "$debug" = 1 ] && dirs+=("$(dirname "$debug_file")")
# Every directory (and missing parent) that does not exist yet, for --uninstall; not when
# staging a package (--destdir): dpkg tracks those itself.
new_dirs=()
for d in "${dirs[@]}"; do
    while [ ! -e "$d" ] && [ "$d" != / ]; do new_dirs+=("${d#"$destdir"}"); d="$(dirname "$d")"; done
done
install -d -m 755 "${dirs[@]}"
install -m 755 "$work/skiff" "$bin_dir/skiff"
if [ "$debug" = 1 ]; then
    install -m 644 "$work/skiff.debug" "$debug_file"
fi
install -m 644 "$work"/man/*.8 "$man8/"
install -m 644 "$work"/man/*.5 "$man5/"
install -m 644 "$work/skiff.bash" "$bash_completion"
install -m 644 "$work/_skiff" "$zsh_completion"
install -m 644 "$work/skiff.fish" "$fish_completion"
if [ -z "$destdir" ]; then
    [ -f "$made_dirs" ] && cat "$made_dirs" >>"$work/dirs"    # a reinstall keeps the first list
    printf '%s\n' "${new_dirs[@]}" >>"$work/dirs"
    # Deepest first, each once.
    awk 'NF && !seen[$0]++ { print length($0) "\t" $0 }' "$work/dirs" | sort -rn | cut -f2- >"$made_dirs"
    chmod 644 "$made_dirs"
else
    rmdir "$root/share/skiff"
fi

size() { stat -c %s "$1"; }
echo "skiff installed in $root: bin/skiff ($(size "$bin_dir/skiff") bytes stripped; $(size "$binary") with debug info)"
[ "$debug" = 1 ] && echo "  debug info: $debug_file ($(size "$debug_file") bytes)"
echo "  man pages: $man8/skiff.8 and skiff-COMMAND.8, $man5/skiff-config.5 (man skiff)"
echo "  completions: $bash_completion, $zsh_completion, $fish_completion"
