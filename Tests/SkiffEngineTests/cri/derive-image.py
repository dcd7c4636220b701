#!/usr/bin/env python3
"""Derive an image archive with another name and command from the engine tests' busybox image.

    derive-image.py IN.tar OUT.tar REF ENTRYPOINT-JSON

IN.tar is scripts/engines/build-image.sh's archive (an OCI layout that is also a
docker-archive). OUT.tar holds the same layer with the image config's Entrypoint set to
ENTRYPOINT-JSON (a JSON array of strings, Cmd cleared) under the name REF, in the same two
layouts, so `ctr images import` (and docker/podman load) take it. The CRI tests use it as the
pod sandbox ("pause") image: a process that sleeps until it is killed.
"""
import hashlib
import io
import json
import sys
import tarfile


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst, ref, entrypoint = argv[1], argv[2], argv[3], json.loads(argv[4])
    tag = ref.rsplit(":", 1)[1] if ":" in ref.rsplit("/", 1)[-1] else "latest"
    with tarfile.open(src) as t:
        files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}

    index = json.loads(files["index.json"])
    manifest_digest = index["manifests"][0]["digest"]
    manifest = json.loads(files["blobs/sha256/" + manifest_digest.split(":", 1)[1]])
    config = json.loads(files["blobs/sha256/" + manifest["config"]["digest"].split(":", 1)[1]])
    config["config"]["Entrypoint"] = entrypoint
    config["config"].pop("Cmd", None)

    out = {}

    def blob(data, media_type):
        digest = hashlib.sha256(data).hexdigest()
        out["blobs/sha256/" + digest] = data
        return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}

    for layer in manifest["layers"]:
        name = "blobs/sha256/" + layer["digest"].split(":", 1)[1]
        out[name] = files[name]
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    manifest["config"] = blob(config_bytes, manifest["config"]["mediaType"])
    manifest_desc = blob(json.dumps(manifest, separators=(",", ":")).encode(), index["manifests"][0]["mediaType"])
    manifest_desc["annotations"] = {"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": tag}
    index["manifests"] = [manifest_desc]
    out["index.json"] = json.dumps(index, separators=(",", ":")).encode()
    out["oci-layout"] = files["oci-layout"]
    out["manifest.json"] = json.dumps([{
        "Config": "blobs/sha256/" + manifest["config"]["digest"].split(":", 1)[1],
        "RepoTags": [ref],
        "Layers": ["blobs/sha256/" + l["digest"].split(":", 1)[1] for l in manifest["layers"]],
    }], separators=(",", ":")).encode()

    with tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as t:
        for name in ["oci-layout", "index.json", "manifest.json"] + sorted(n for n in out if n.startswith("blobs/")):
            info = tarfile.TarInfo(name)
            info.size = len(out[name])
            info.mode = 0o644
            t.addfile(info, io.BytesIO(out[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
