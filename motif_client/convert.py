"""Latent <-> protobuf, on plain dicts (the pack.json form), so the client needs no engine code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .motif_pb import engine_pb2 as pb

_SCALARS = (
    "brightness", "contrast", "saturation", "warmth", "time_of_day", "weather", "weather_intensity", "valence",
    "arousal", "tension", "tempo_bpm", "meter", "key", "mode", "ensemble", "roughness", "metalness", "wear",
    "geometry_style", "density", "camera_motion", "seed", "environment",
)


def latent_to_proto(latent: Mapping[str, Any]) -> pb.Latent:
    """Fill a Latent message from a dict; only the keys present are set."""
    msg = pb.Latent()
    for name, value in latent.items():
        if name == "palette":
            for sw in value:
                if isinstance(sw, str):
                    msg.palette.add(color=sw, weight=1.0)
                else:
                    msg.palette.add(color=str(sw["color"]), weight=float(sw.get("weight", 1.0)))
        elif name == "instruments":
            for k, w in value.items():
                msg.instruments[str(k)] = float(w)
        elif name == "embedding":
            msg.embedding.extend(float(v) for v in value)
        elif name == "subjects":  # names (a pin) or {name, words} records (pack.json)
            for sub in value:
                if isinstance(sub, str):
                    msg.subjects.add(name=sub)
                else:
                    msg.subjects.add(name=str(sub["name"]), words=str(sub.get("words", "")))
        elif name in _SCALARS:
            try:
                setattr(msg, name, value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"latent field {name} has the wrong type: {value!r}") from exc
        else:
            raise ValueError(f"unknown latent field {name!r}")
    return msg


def latent_from_proto(msg: pb.Latent, fields: Any = None) -> dict[str, Any]:
    """The dict form of a Latent message (all fields, or only `fields`)."""
    out: dict[str, Any] = {
        "palette": [{"color": s.color, "weight": s.weight} for s in msg.palette],
        "instruments": dict(msg.instruments),
        "embedding": list(msg.embedding),
        "subjects": [{"name": s.name, "words": s.words} for s in msg.subjects],
    }
    for name in _SCALARS:
        out[name] = getattr(msg, name)
    if fields is not None:
        out = {k: v for k, v in out.items() if k in set(fields)}
    return out


def pins_to_proto(pins: Mapping[str, Any]) -> pb.LatentPins:
    msg = pb.LatentPins(fields=sorted(pins))
    msg.values.CopyFrom(latent_to_proto(pins))
    return msg


def pins_from_proto(msg: pb.LatentPins) -> dict[str, Any]:
    names = list(msg.fields)
    full = latent_from_proto(msg.values)
    unknown = [n for n in names if n not in full]
    if unknown:
        raise ValueError(f"cannot pin unknown latent field(s): {', '.join(unknown)}")
    return {n: full[n] for n in names}
