"""Kept for `from autograd.program import ...` (viz, cli): programs live in `autograd.programs`."""

from .programs import MAX_NODES, Program, ProgramError, compile, trace

__all__ = ["compile", "trace", "Program", "ProgramError", "MAX_NODES"]
