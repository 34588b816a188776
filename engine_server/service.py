"""The MotifEngine service's method handlers, built from the proto, so unreadable requests are the client's error.

grpcio answers a request its deserializer cannot parse (bytes that are not the message, a string
field that is not UTF-8) with INTERNAL "Exception deserializing request!", which tells a person
the engine is broken when it was the request. Here each handler's parser never fails: it hands
an unreadable request on as `Unreadable`, and the handler answers INVALID_ARGUMENT with a sentence
naming the message it expected. Everything else is the generated registration, method for method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from motif_client.motif_pb import engine_pb2 as pb

SERVICE = pb.DESCRIPTOR.services_by_name["MotifEngine"]


class Unreadable:
    """A request whose bytes did not parse as the message the method takes."""

    def __init__(self, message_name: str) -> None:
        self.sentence = (
            f"The request is not a readable {message_name} message (its bytes are not that protobuf message, "
            "or a text field is not UTF-8). Build it with the motif.v1 stubs (motif_client) of this engine."
        )


def _parser(message_cls: Any) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return message_cls.FromString(data)
        except Exception:  # DecodeError (bad wire format, invalid UTF-8), nesting too deep
            return Unreadable(message_cls.DESCRIPTOR.full_name)

    return parse


def _guarded(behaviour: Callable[[Any, grpc.ServicerContext], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        if isinstance(request, Unreadable):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.sentence)
        return behaviour(request, context)  # for a stream: the response iterator

    return handle


def add_engine_service(servicer: Any, server: grpc.Server) -> None:
    """Register every MotifEngine method of `servicer` (the generated add_…_to_server, with safe parsing)."""
    handlers = {}
    for method in SERVICE.methods:
        make = (grpc.unary_stream_rpc_method_handler if method.server_streaming
                else grpc.unary_unary_rpc_method_handler)
        handlers[method.name] = make(
            _guarded(getattr(servicer, method.name)),
            request_deserializer=_parser(getattr(pb, method.input_type.name)),
            response_serializer=getattr(pb, method.output_type.name).SerializeToString,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE.full_name, handlers),))
    server.add_registered_method_handlers(SERVICE.full_name, handlers)  # type: ignore[attr-defined]
