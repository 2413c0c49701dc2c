"""Questions asked of formulas: ratios and break-even points, limits and growth, exact evaluation,
derivations of one layer step by step, and sweeps over a design space."""

from .limits import big_o, elasticity, leading_term, limit

__all__ = ["big_o", "elasticity", "leading_term", "limit"]
