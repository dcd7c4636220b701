#!/usr/bin/env bash
# Build a one-layer busybox container image from spec-fixtures/rootfs, as a tar
# archive that every engine loads without a registry:
#
#   scripts/engines/build-image.sh OUT.tar [REF]     (REF default: localhost/busybox:skiff)
#
# The archive is both an OCI image layout (oci-layout, index.json, blobs/) and a
# docker-archive (manifest.json pointing at the same blobs), like `docker save`
# of Docker >= 25, so it loads with:
#   ctr -n NS images import OUT.tar      (containerd; uses io.containerd.image.name)
#   docker load -i OUT.tar               (dockerd; uses manifest.json RepoTags)
#   podman load -i OUT.tar               (podman/buildah; reads it as docker-archive)
# The layer is uncompressed and reproducible (sorted names, mtime 0, numeric owners).
# Config: Env PATH, Cmd ["sh"]. Builds the rootfs first (scripts/build-rootfs.sh).
# Needs: bash, tar (GNU), sha256sum, stat. No network, no engine.
set -euo pipefail
umask 022

out="${1:?usage: build-image.sh OUT.tar [REF]}"
ref="${2:-localhost/busybox:skiff}"
tag="${ref##*:}"
[ "$tag" != "$ref" ] && [[ "$tag" != */* ]] || tag=latest

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rootfs="$repo/spec-fixtures/rootfs"
"$repo/scripts/build-rootfs.sh" >/dev/null

case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    armv7l) arch=arm ;;
    ppc64le) arch=ppc64le ;;
    s390x) arch=s390x ;;
    riscv64) arch=riscv64 ;;
    *) arch="$(uname -m)" ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/blobs/sha256"

# blob FILE MEDIATYPE -> prints a descriptor JSON and moves FILE into blobs/
blob() {
    local file="$1" mt="$2" sum size
    sum="$(sha256sum "$file" | cut -d' ' -f1)"
    size="$(stat -c %s "$file")"
    mv "$file" "$work/blobs/sha256/$sum"
    printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$mt" "$sum" "$size"
}

tar -C "$rootfs" --sort=name --mtime=@0 --numeric-owner \
    --exclude=./etc/.skiff-rootfs-stamp -cf "$work/layer.tar" .
layer_sum="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
layer_desc="$(blob "$work/layer.tar" application/vnd.oci.image.layer.v1.tar)"

printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"scripts/engines/build-image.sh"}]}' \
    "$arch" "$layer_sum" >"$work/config.json"
config_desc="$(blob "$work/config.json" application/vnd.oci.image.config.v1+json)"
config_sum="$(sed 's/.*"sha256:\([0-9a-f]*\)".*/\1/' <<<"$config_desc")"

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
    "$config_desc" "$layer_desc" >"$work/manifest.oci"
manifest_desc="$(blob "$work/manifest.oci" application/vnd.oci.image.manifest.v1+json)"

# index.json: the manifest descriptor plus its names.
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' \
    "${manifest_desc%\}},\"annotations\":{\"io.containerd.image.name\":\"$ref\",\"org.opencontainers.image.ref.name\":\"$tag\"}}" \
    >"$work/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
printf '[{"Config":"blobs/sha256/%s","RepoTags":["%s"],"Layers":["blobs/sha256/%s"]}]' \
    "$config_sum" "$ref" "$layer_sum" >"$work/manifest.json"

mkdir -p "$(dirname "$out")"
tar -C "$work" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -cf "$out.tmp" oci-layout index.json manifest.json blobs
mv "$out.tmp" "$out"
echo "build-image: $out ($ref, $arch, layer sha256:$layer_sum)"
