#!/usr/bin/env python3
"""A minimal CRI client for skiff's engine tests (CRIPodTests.swift).

    cri.py compile GENDIR
    cri.py GENDIR SOCKET METHOD [REQUEST-JSON]
    cri.py GENDIR SOCKET -        (calls read from stdin)

`compile` turns cri.proto (next to this script) into cri_pb2.py and cri_pb2_grpc.py in GENDIR
with grpc_tools' protoc. It calls the compiler module directly: Debian 12's
`python3 -m grpc_tools.protoc` imports pkg_resources, which python3-grpc-tools does not depend
on (python3-pkg-resources), and cri.proto needs none of the well-known types that import
locates.

Makes CRI v1 calls (RuntimeService or ImageService, from cri.proto compiled into GENDIR with
`python3 -m grpc_tools.protoc`) on the unix socket SOCKET. REQUEST-JSON is the request message in
protobuf's JSON mapping (proto field names accepted); default {}.

One call: prints the reply as one JSON object with the proto field names and default values
included (ExecSync's stdout and stderr decoded as UTF-8 text); exit status 0, or 3 on a gRPC
error with `CODE: details` on stderr; 2 for a usage error.

With METHOD `-`: reads one call per line, `METHOD REQUEST-JSON`, and makes them in order on one
connection, printing one line per call: {"reply": {...}} or {"error": "CODE: details"}. One
process for several calls: starting python with grpc costs seconds in an emulated guest.
"""
import json
import sys


def compile_proto(gendir):
    import os
    from grpc_tools import _protoc_compiler
    here = os.path.dirname(os.path.abspath(__file__))
    args = ["protoc", "-I" + here, "--python_out=" + gendir, "--grpc_python_out=" + gendir,
            os.path.join(here, "cri.proto")]
    return _protoc_compiler.run_main([a.encode() for a in args])


def main(argv):
    if len(argv) == 3 and argv[1] == "compile":
        return compile_proto(argv[2])
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    gendir, socket, method = argv[1], argv[2], argv[3]
    sys.path.insert(0, gendir)
    import grpc
    import cri_pb2
    import cri_pb2_grpc

    channel = grpc.insecure_channel("unix://" + socket)
    try:
        if method != "-":
            try:
                reply = call(grpc, cri_pb2, cri_pb2_grpc, channel, method, argv[4] if len(argv) > 4 else "{}")
            except grpc.RpcError as e:
                print(f"{e.code().name}: {e.details()}", file=sys.stderr)
                return 3
            except LookupError as e:
                print(f"cri.py: {e}", file=sys.stderr)
                return 2
            print(json.dumps(reply, sort_keys=True))
            return 0
        for line in sys.stdin:
            if not line.strip():
                continue
            name, _, body = line.strip().partition(" ")
            try:
                out = {"reply": call(grpc, cri_pb2, cri_pb2_grpc, channel, name, body or "{}")}
            except grpc.RpcError as e:
                out = {"error": f"{e.code().name}: {e.details()}"}
            except LookupError as e:
                out = {"error": f"cri.py: {e}"}
            print(json.dumps(out, sort_keys=True), flush=True)
        return 0
    finally:
        channel.close()


def call(grpc, cri_pb2, cri_pb2_grpc, channel, method, body):
    """One call; the reply as a dict (raises grpc.RpcError, LookupError)."""
    from google.protobuf import json_format
    services = cri_pb2.DESCRIPTOR.services_by_name
    service = next((s for s in services.values() if method in s.methods_by_name), None)
    if service is None:
        raise LookupError(f"unknown method {method}")
    request_type = getattr(cri_pb2, service.methods_by_name[method].input_type.name)
    request = json_format.Parse(body, request_type())
    stub = getattr(cri_pb2_grpc, service.name + "Stub")(channel)
    reply = getattr(stub, method)(request, timeout=900)
    if method == "ExecSync":
        return {"stdout": reply.stdout.decode("utf-8", "replace"),
                "stderr": reply.stderr.decode("utf-8", "replace"),
                "exit_code": reply.exit_code}
    try:
        return json_format.MessageToDict(reply, preserving_proto_field_name=True,
                                         including_default_value_fields=True)
    except TypeError:  # protobuf >= 26 renamed the option
        return json_format.MessageToDict(reply, preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
