"""Comparing two stored profiles: schema changes and distribution drift, from the results alone.

Nothing here reads data again: every figure comes from what the analyzer stored (histograms,
quantiles, top values, counts), so comparing two profiles of large files takes milliseconds.
"""

from sonda_query.compare.compare import compare_results
from sonda_query.compare.model import Comparison
from sonda_query.compare.options import CompareOptions

__all__ = ["CompareOptions", "Comparison", "compare_results"]
