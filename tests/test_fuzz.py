"""Fuzz every RPC of motif.v1.MotifEngine: bad input gets a documented status and a sentence, never a crash.

Hypothesis builds each request message from its descriptor, with fields out of range, huge strings,
unicode junk and unknown job and pack ids, and also sends raw bytes that may not be the message at
all. Whatever comes in, the answer is success or one of the codes docs/API.md documents (never
UNKNOWN or INTERNAL), its sentence fits in gRPC's status metadata, and the engine keeps serving (a
Describe after every example). Runs are derandomized and bounded, so CI sees the same examples each
time in a few tens of seconds. A Generate can only succeed with the `probe` decoder (nothing heavy
runs), and every job a Generate starts is cancelled at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_server.latent import FIELDS
from engine_server.server import Engine
from motif_client.motif_pb import engine_pb2 as pb
from motif_client.motif_pb import engine_pb2_grpc as pb_grpc

SERVICE = pb.DESCRIPTOR.services_by_name["MotifEngine"]
METHODS = {m.name: m for m in SERVICE.methods}
DOCUMENTED = {
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.RESOURCE_EXHAUSTED,
}
WAITING_STREAMS = {"WatchJob", "WatchPacks"}  # may rightly say nothing until something happens
CALL_TIMEOUT_S = 10.0
WAIT_TIMEOUT_S = 1.0
MAX_DETAILS_BYTES = 4096  # a sentence, not an echo of the request
FUZZ = settings(max_examples=20, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
RAW = settings(FUZZ, max_examples=10)

ENGINE_EXECUTOR = "inprocess"  # probe jobs only: no worker process to spawn (conftest.engine)


# ---------------------------------------------------------------- engine and known ids


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A real engine on loopback; its worker skips warm-up (only the probe decoder ever runs here)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTIF_WORKER_WARM_UP", "0")  # read when the worker process is spawned
        eng = Engine("127.0.0.1:0", store_root=tmp_path_factory.mktemp("fuzz-store")).start()
        yield eng
        eng.stop()


@pytest.fixture(scope="module")
def channel(engine: Engine) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(engine.address) as ch:
        yield ch


@pytest.fixture(scope="module")
def known(channel: grpc.Channel) -> dict[str, list[str]]:
    """Real ids and paths (one finished probe job and its pack) beside the junk, so ranges get checked too."""
    stub = pb_grpc.MotifEngineStub(channel)
    events = list(stub.Generate(pb.GenerateRequest(prompt="a lighthouse for the fuzzer", seed=7, decoders=["probe"]),
                                timeout=60))
    done = events[-1]
    assert done.WhichOneof("event") == "done", events[-1]
    return {"job_id": [done.job_id], "pack_id": [done.done.manifest.pack_id],
            "path": [a.path for a in done.done.manifest.assets] + ["pack.json"]}


# ---------------------------------------------------------------- strategies


def junk_text() -> st.SearchStrategy[str]:
    """Text a careless or hostile client sends: empty, blank, unicode, control characters, or huge."""
    return st.one_of(
        st.text(max_size=40),  # any unicode but lone surrogates (proto strings are UTF-8)
        st.sampled_from(["", " ", "\n\t ", "\x00", "é", "../../etc/passwd", "/etc/passwd", "probe", "#ff00ff",
                         "0" * 24, "f" * 64, "ÿ" * 9, "🙂"]),
        st.sampled_from([2_000, 20_000, 200_000]).map(lambda n: "x" * n),
        st.sampled_from([1_000, 50_000]).map(lambda n: "🙂" * n),  # 4 bytes each in UTF-8
    )


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=False),
                      st.text(max_size=8))
PROBE_OPTIONS = st.fixed_dictionaries({}, optional={
    "sleep_s": st.one_of(st.floats(0, 1), st.floats(-1e9, 1e9), JSON_LEAF),
    "steps": st.one_of(st.integers(-3, 3), st.integers(-(10**9), 10**9), JSON_LEAF),
    "crash": st.one_of(st.just(False), st.integers(0, 2), st.text(max_size=4)),  # never true: no real crash
    "colour": JSON_LEAF,
})
ODD_JSON = [
    "", "{", "[]", "null", "1", "NaN", "[" * 100_000, "1" * 5_000, '{"probe": ' + "9" * 5_000 + "}",
    '{"probe": {"sleep_s": NaN}}', '{"probe": {"sleep_s": Infinity}}', '{"probe": {"steps": 1e400}}',
    '{"probe": {"steps": ' + "1" * 400 + "}}", '{"probe": []}', '{"mesh": {"assets": "many"}}',
    '{"image": {"sketch": "bm90IGFuIGltYWdl"}}', '{"music": {"melody_midi": "%%%"}}',
    '{"video": {"sketch": 5}}', json.dumps({"probe": {"x" * 200_000: 1}}),
]


def options_json() -> st.SearchStrategy[str]:
    any_json = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=3)
                            | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
    return st.one_of(
        PROBE_OPTIONS.map(lambda o: json.dumps({"probe": o})),
        any_json.map(json.dumps),
        st.sampled_from(ODD_JSON),
        junk_text(),
    )


def decoders() -> st.SearchStrategy[list[str]]:
    """Never empty (that would run the default, heavy decoders); only ["probe"] can be valid."""
    real = {"probe", "mesh", "music", "image", "video"}
    return st.one_of(
        st.just(["probe"]),
        st.lists(junk_text(), min_size=1, max_size=3).filter(lambda ds: any(d not in real for d in ds)),
        st.lists(st.sampled_from(["probe", "zz-no-such-decoder"]), min_size=2, max_size=4)
        .filter(lambda ds: "zz-no-such-decoder" in ds),
    )


def scalar(field: Any) -> st.SearchStrategy[Any]:
    t = field.type
    if t == FieldDescriptor.TYPE_STRING:
        return junk_text()
    if t == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if t == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t == FieldDescriptor.TYPE_UINT64:
        return st.one_of(st.integers(0, 8), st.integers(0, 2**64 - 1), st.sampled_from([2**32 - 1, 2**64 - 1]))
    if t == FieldDescriptor.TYPE_UINT32:
        return st.one_of(st.integers(0, 8), st.integers(0, 2**32 - 1), st.sampled_from([1023, 4 << 20, 2**32 - 1]))
    if t == FieldDescriptor.TYPE_DOUBLE:
        return st.floats(allow_nan=True, allow_infinity=True)
    if t == FieldDescriptor.TYPE_FLOAT:
        return st.floats(allow_nan=True, allow_infinity=True, width=32)
    raise AssertionError(f"no strategy for {field.full_name} (type {t}): extend the fuzzer")


def field_values(field: Any, known: dict[str, list[str]], depth: int) -> st.SearchStrategy[Any]:
    """Values for one field: named fields get ids and words the engine knows, mixed with junk."""
    name, owner = field.name, field.containing_type.name
    if owner == "GenerateRequest" and name == "decoders":
        return decoders()
    if owner == "GenerateRequest" and name == "options_json":
        return options_json()
    if owner == "GenerateRequest" and name == "cancel_on_disconnect":
        return st.just(True)
    if name in ("prompt",):
        return st.one_of(st.sampled_from(["misty harbour at dawn", "rain"]), junk_text())
    if name in known:
        return st.one_of(st.sampled_from(known[name]), junk_text())
    if name == "states":
        return st.lists(st.one_of(st.sampled_from(["queued", "running", "done", "failed", "cancelled",
                                                   "interrupted"]), junk_text()), max_size=4)
    if owner == "LatentPins" and name == "fields":
        return st.lists(st.one_of(st.sampled_from(list(FIELDS)), junk_text()), max_size=4)
    if owner == "Latent" and name == "embedding":
        return st.one_of(st.lists(st.floats(allow_nan=True, width=32), max_size=8), st.just([0.0] * 384))
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        entry = field.message_type
        if entry.GetOptions().map_entry:
            return st.dictionaries(scalar(entry.fields_by_name["key"]), scalar(entry.fields_by_name["value"]),
                                   max_size=4)
        inner = message(entry, known, depth + 1)
        return st.lists(inner, max_size=6) if _repeated(field) else inner
    return st.lists(scalar(field), max_size=5) if _repeated(field) else scalar(field)


def _repeated(field: Any) -> bool:
    return bool(field.is_repeated)


def message(desc: Any, known: dict[str, list[str]], depth: int = 0) -> st.SearchStrategy[Any]:
    """A message of type `desc`, each field left unset or drawn from `field_values`."""
    cls = getattr(pb, desc.name)
    if depth > 2:
        return st.just(cls())
    fields = {f.name: st.one_of(st.none(), field_values(f, known, depth)) for f in desc.fields}

    def build(values: dict[str, Any]) -> Any:
        msg = cls()
        for f in desc.fields:
            value = values[f.name]
            if value is None:
                continue
            target = getattr(msg, f.name)
            if f.type == FieldDescriptor.TYPE_MESSAGE and f.message_type.GetOptions().map_entry:
                target.update(value)
            elif _repeated(f):
                target.extend(value)
            elif f.type == FieldDescriptor.TYPE_MESSAGE:
                target.CopyFrom(value)
            else:
                setattr(msg, f.name, value)
        if desc.name == "GenerateRequest" and not msg.decoders:
            msg.decoders.append("probe")  # a request left without decoders would run the default heavy ones
        return msg

    return st.fixed_dictionaries(fields).map(build)


# ---------------------------------------------------------------- calling


def call(channel: grpc.Channel, method: str, payload: bytes) -> tuple[grpc.StatusCode, str]:
    """Send raw request bytes; the status, with details. A stream that starts is read once, then dropped."""
    desc = METHODS[method]
    path = f"/{SERVICE.full_name}/{method}"
    if not desc.server_streaming:
        try:
            reply = _unary(channel, method)(payload, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as err:
            return err.code(), err.details() or ""
        if method == "ResumeJob":
            _cancel(channel, pb.JobInfo.FromString(reply).job_id)
        return grpc.StatusCode.OK, ""
    stream = channel.unary_stream(path, request_serializer=None, response_deserializer=None)(
        payload, timeout=WAIT_TIMEOUT_S if method in WAITING_STREAMS else CALL_TIMEOUT_S)
    try:
        first = next(iter(stream), None)
    except grpc.RpcError as err:
        return err.code(), err.details() or ""
    finally:
        stream.cancel()
    if method == "Generate" and first is not None:
        _cancel(channel, pb.JobEvent.FromString(first).job_id)
    return grpc.StatusCode.OK, ""


def _unary(channel: grpc.Channel, method: str) -> Any:
    """A unary method that takes and returns raw bytes (no serializers: the fuzzer owns the wire)."""
    return channel.unary_unary(f"/{SERVICE.full_name}/{method}", request_serializer=None, response_deserializer=None)


def _cancel(channel: grpc.Channel, job_id: str) -> None:
    """Stop a job the fuzzer started (it may have finished already: that answer is fine too)."""
    try:
        _unary(channel, "Cancel")(pb.CancelRequest(job_id=job_id).SerializeToString(), timeout=CALL_TIMEOUT_S)
    except grpc.RpcError as err:
        assert err.code() in DOCUMENTED, (err.code(), err.details())


def check(channel: grpc.Channel, method: str, payload: bytes) -> None:
    code, details = call(channel, method, payload)
    allowed = set(DOCUMENTED)  # UNIMPLEMENTED too is a failure: every RPC in the proto is served
    if method in WAITING_STREAMS:
        allowed |= {grpc.StatusCode.DEADLINE_EXCEEDED}  # a valid watch with nothing to report yet
    if code != grpc.StatusCode.OK:
        assert code in allowed, f"{method} answered {code.name}: {details[:300]!r}"
        assert details.strip(), f"{method} answered {code.name} without a sentence"
        assert len(details.encode()) <= MAX_DETAILS_BYTES, f"{method}: a {len(details):,}-character status"
    reply = _unary(channel, "Describe")(b"", timeout=CALL_TIMEOUT_S)
    assert pb.DescribeResponse.FromString(reply).engine_version, "the engine stopped serving"


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("method", list(METHODS))
@FUZZ
@given(data=st.data())
def test_fuzzed_messages_get_documented_codes(channel: grpc.Channel, known: dict[str, list[str]], method: str,
                                              data: st.DataObject) -> None:
    request = data.draw(message(METHODS[method].input_type, known), label="request")
    check(channel, method, request.SerializeToString())


@settings(FUZZ, max_examples=40)
@given(data=st.data(), axis=st.sampled_from(["options", "probe options", "quality", "client", "seed", "pins"]))
def test_fuzzed_generate_near_a_valid_request(channel: grpc.Channel, known: dict[str, list[str]], data: st.DataObject,
                                              axis: str) -> None:
    """A valid Generate (a real prompt, the probe) with one field fuzzed, so each check of the request is reached."""
    request = pb.GenerateRequest(prompt="misty harbour at dawn", seed=5, decoders=["probe"], quality="draft",
                                 client="cli", cancel_on_disconnect=True)
    if axis == "options":
        request.options_json = data.draw(options_json(), label=axis)
    elif axis == "probe options":
        request.options_json = json.dumps({"probe": data.draw(PROBE_OPTIONS, label=axis)})
    elif axis == "quality":
        request.quality = data.draw(junk_text(), label=axis)
    elif axis == "client":
        request.client = data.draw(junk_text(), label=axis)
    elif axis == "seed":
        request.seed = data.draw(st.integers(2**32 - 2, 2**64 - 1), label=axis)
    else:
        request.pins.CopyFrom(data.draw(message(pb.LatentPins.DESCRIPTOR, known), label=axis))
    check(channel, "Generate", request.SerializeToString())


@pytest.mark.parametrize("method", list(METHODS))
@RAW
@given(raw=st.one_of(st.binary(max_size=512), st.sampled_from([b"\xff" * 16, b"\x0a\x02\xff\xfe", b"\x0a" * 64,
                                                               b"\x08" + b"\xff" * 10, b"\x12\x80\x80\x80\x80\x10"])))
def test_raw_bytes_get_documented_codes(channel: grpc.Channel, method: str, raw: bytes) -> None:
    """Bytes that are not the method's message (wrong wire types, bad UTF-8, truncation): the client's fault."""
    if method == "Generate":  # whatever parses must still name only the probe (a repeated field appends)
        raw += pb.GenerateRequest(decoders=["probe"], cancel_on_disconnect=True).SerializeToString()
    check(channel, method, raw)


def test_the_status_table_names_every_rpc() -> None:
    """docs/API.md documents the codes each RPC may return; the fuzzer holds the engine to that list."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "API.md").read_text()
    for method in METHODS:
        assert f"| `{method}` |" in doc, method
    for code in DOCUMENTED:
        assert code.name in doc


def test_the_engine_is_healthy_after_the_fuzzing(channel: grpc.Channel) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5).status
    assert status == health_pb2.HealthCheckResponse.SERVING
