#!/bin/sh
# A minimal CNI plugin for the CRI tests (CRIPodTests.swift), installed in the CRI plugin's
# bin_dir both as `loopback` (containerd always adds the loopback network) and as
# `skiff-test-net`. ADD brings lo up in the pod's network namespace ($CNI_NETNS) and, for
# skiff-test-net, adds a dummy eth0 with 10.88.77.2/24 (containerd wants an address on eth0);
# DEL does nothing (the namespace goes away with the pod). It prints CNI results in the
# version the caller asked for. No bridge, no routes, no host changes.
set -e
conf=$(cat)
version=$(printf '%s' "$conf" | sed -n 's/.*"cniVersion"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -1)
[ -n "$version" ] || version=0.4.0
case "$CNI_COMMAND" in
VERSION)
    printf '{"cniVersion":"%s","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}\n' "$version"
    ;;
ADD)
    case "$(basename "$0")" in
    loopback)
        nsenter --net="$CNI_NETNS" ip link set lo up
        printf '{"cniVersion":"%s","interfaces":[{"name":"lo","sandbox":"%s"}],"ips":[{"version":"4","interface":0,"address":"127.0.0.1/8"}],"dns":{}}\n' \
            "$version" "$CNI_NETNS"
        ;;
    *)
        nsenter --net="$CNI_NETNS" sh -c "ip link add $CNI_IFNAME type dummy && ip addr add 10.88.77.2/24 dev $CNI_IFNAME && ip link set $CNI_IFNAME up"
        printf '{"cniVersion":"%s","interfaces":[{"name":"%s","sandbox":"%s"}],"ips":[{"version":"4","interface":0,"address":"10.88.77.2/24"}],"dns":{}}\n' \
            "$version" "$CNI_IFNAME" "$CNI_NETNS"
        ;;
    esac
    ;;
DEL|CHECK)
    ;;
*)
    printf '{"cniVersion":"%s","code":4,"msg":"unknown CNI_COMMAND %s"}\n' "$version" "$CNI_COMMAND"
    exit 1
    ;;
esac
