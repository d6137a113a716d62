"""Indicator and inequality statistics: the methods of OHID's Fingertips, matching the R
package PHEindicatormethods on its own test data, and the WHO HEAT summary measures.

Pure and vectorised (numpy, pandas, scipy): no web or database code. Each method takes a
DataFrame and the names of its columns, or arrays, with optional `group_by` (one result row
per group) and `confidence` as one level or several (0.95 and 0.998 at once). Bad input
raises `InvalidInputError` naming the column and the first offending row.
See docs/statistics.md.
"""

from healthequity.stats.exceptions import (
    InvalidConfidenceError,
    InvalidInputError,
    MissingColumnError,
    StatsError,
    StatsWarning,
)
from healthequity.stats.funnels import funnel_limits, funnel_significance
from healthequity.stats.heat import (
    absolute_concentration_index,
    between_group_variance,
    difference,
    heat_summary,
    index_of_disparity,
    mean_difference_from_best,
    mean_difference_from_mean,
    mean_log_deviation,
    population_attributable_fraction,
    population_attributable_risk,
    ratio,
    relative_concentration_index,
    theil_index,
)
from healthequity.stats.life_expectancy import SuppressedValuesWarning, life_expectancy
from healthequity.stats.means import mean
from healthequity.stats.proportions import proportion, wilson_limits
from healthequity.stats.quantiles import TooFewAreasWarning, assign_quantiles
from healthequity.stats.rates import byars_limits, exact_poisson_limits, rate
from healthequity.stats.slope_index import IncompleteGroupsWarning, ManyQuantilesWarning, sii
from healthequity.stats.standardised import ESP2013, ESP2013_BANDS, dsr, isr, isratio
from healthequity.stats.tables import TableFileError, read_table, write_table

__all__ = [
    "ESP2013",
    "ESP2013_BANDS",
    "IncompleteGroupsWarning",
    "InvalidConfidenceError",
    "InvalidInputError",
    "ManyQuantilesWarning",
    "MissingColumnError",
    "StatsError",
    "StatsWarning",
    "SuppressedValuesWarning",
    "TableFileError",
    "TooFewAreasWarning",
    "absolute_concentration_index",
    "assign_quantiles",
    "between_group_variance",
    "byars_limits",
    "difference",
    "dsr",
    "exact_poisson_limits",
    "funnel_limits",
    "funnel_significance",
    "heat_summary",
    "index_of_disparity",
    "isr",
    "isratio",
    "life_expectancy",
    "mean",
    "mean_difference_from_best",
    "mean_difference_from_mean",
    "mean_log_deviation",
    "population_attributable_fraction",
    "population_attributable_risk",
    "proportion",
    "rate",
    "ratio",
    "read_table",
    "relative_concentration_index",
    "sii",
    "theil_index",
    "wilson_limits",
    "write_table",
]
