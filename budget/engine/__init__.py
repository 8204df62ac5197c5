"""The classification engine: lines and rules in, decisions out. Pure: no file or network I/O."""

from .classifier import Classifier, classify

__all__ = ["Classifier", "classify"]
