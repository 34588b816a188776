"""Checks on what people type, shared by the encoder, the pipeline and the server."""

from __future__ import annotations

from typing import Any

from engine_server.errors import InvalidArgument
from motif_client.rules import seed_problem

MAX_PROMPT_CHARS = 2000


def check_prompt(prompt: object) -> str:
    """The prompt without surrounding blanks, or InvalidArgument with a sentence saying what is wrong."""
    if not isinstance(prompt, str):
        raise InvalidArgument(f"The prompt must be text; got {type(prompt).__name__}.")
    if not prompt.strip():
        raise InvalidArgument("The prompt is empty: describe a place, a mood or a scene, e.g. 'rainy harbour at dawn'.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidArgument(
            f"The prompt is {len(prompt):,} characters long; the limit is {MAX_PROMPT_CHARS:,} characters. "
            "Shorten it to the essentials of the scene."
        )
    return prompt.strip()


def check_seed(seed: Any) -> int:
    problem = seed_problem(seed)  # the one seed rule (motif_client/rules.py), shared with every client
    if problem:
        raise InvalidArgument(problem)
    return int(seed)
