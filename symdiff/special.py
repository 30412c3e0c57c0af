"""``scipy.special``-style names for symdiff's stable ops: ``sd.special.expit`` is ``sd.sigmoid``."""

from symdiff.losses import logsumexp, sigmoid

expit = sigmoid

__all__ = ["expit", "logsumexp"]
