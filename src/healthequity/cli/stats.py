"""`healthequity stats <method> INPUT --out OUTPUT`: the statistics on a table file.

Tables are CSV, Parquet or Excel (.xlsx), in and out, chosen by suffix. Columns are named
by options (`--group area --quantile decile --population pop --count deaths`). Bad input
gives one line naming the file, the column and the first offending row, and exit code 2;
a result with caveats (a group dropped, values suppressed) prints each as a warning line.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import pandas as pd

from healthequity import stats as methods
from healthequity.cli.common import fail
from healthequity.stats import StatsError, StatsWarning, read_table, write_table
from healthequity.stats.funnels import RateType, RatioType, Statistic
from healthequity.stats.heat import MEASURES
from healthequity.stats.slope_index import ValueType

P = ParamSpec("P")
R = TypeVar("R")


@click.group()
def stats() -> None:
    """Indicator and inequality statistics on a table (CSV, Parquet or Excel).

    The methods of OHID's Fingertips (as PHEindicatormethods computes them) and the WHO
    HEAT summary measures. See docs/statistics.md for each method's formula.
    """


def table_command(
    name: str, *, default_confidence: tuple[float, ...] = (0.95,), confidence: bool = True
) -> Callable[[Callable[..., pd.DataFrame]], click.Command]:
    """A subcommand reading INPUT, computing a table with the decorated function, and writing
    --out. The function gets the input table first, then the options."""

    def decorate(compute: Callable[..., pd.DataFrame]) -> click.Command:
        @functools.wraps(compute)
        def run(input_file: Path, out: Path, sheet: str | None, **options: Any) -> None:
            data = read_table(input_file, sheet=sheet)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", StatsWarning)
                try:
                    result = compute(data, **options)
                except StatsError as error:
                    fail(f"{input_file.name}: {error}")
            for warning in caught:
                if issubclass(warning.category, StatsWarning):
                    click.echo(f"healthequity: warning: {warning.message}", err=True)
            write_table(result, out)
            rows = len(result)
            click.echo(f"wrote {rows:,} row{'' if rows == 1 else 's'} to {out}", err=True)

        # Options declared on `compute` come through `wraps`; these go in front of them.
        if confidence:
            run = click.option(
                "--confidence",
                multiple=True,
                type=float,
                default=default_confidence,
                show_default=True,
                help="Confidence level; repeat for several (0.95, 0.998).",
            )(run)
        run = click.option(
            "--sheet", default=None, help="Excel sheet to read (default: the first)."
        )(run)
        run = click.option(
            "--out",
            required=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Output table: .csv, .parquet or .xlsx.",
        )(run)
        run = click.argument(
            "input_file",
            metavar="INPUT",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
        )(run)
        command = click.command(name, help=compute.__doc__)(_catch_table_errors(run))
        stats.add_command(command)
        return command

    return decorate


def _catch_table_errors(command: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except StatsError as error:  # unreadable or unwritable tables
            fail(str(error))

    return wrapper


GROUP = click.option("--group", "group_by", multiple=True, help="Group column; repeat for several.")
MULTIPLIER = functools.partial(click.option, "--multiplier", type=float, show_default=True)


def _groups(group_by: tuple[str, ...]) -> list[str] | None:
    return list(group_by) or None


@table_command("proportion")
@GROUP
@click.option("--count", required=True, help="Column of the numerator.")
@click.option("--denominator", required=True, help="Column of the denominator.")
@MULTIPLIER(default=1.0, help="1 for a proportion, 100 for a percentage.")
def proportion(
    data: pd.DataFrame,
    count: str,
    denominator: str,
    multiplier: float,
    group_by: tuple[str, ...],
    confidence: tuple[float, ...],
) -> pd.DataFrame:
    """Proportions with Wilson score limits (summed within each group)."""
    return methods.proportion(
        data,
        count,
        denominator,
        group_by=_groups(group_by),
        confidence=confidence,
        multiplier=multiplier,
    )


@table_command("rate")
@GROUP
@click.option("--count", required=True, help="Column of the events.")
@click.option("--population", required=True, help="Column of the population.")
@MULTIPLIER(default=100_000.0, help="Rate per this many people.")
def rate(
    data: pd.DataFrame,
    count: str,
    population: str,
    multiplier: float,
    group_by: tuple[str, ...],
    confidence: tuple[float, ...],
) -> pd.DataFrame:
    """Crude rates with Byars limits (exact Poisson limits below 10 events)."""
    return methods.rate(
        data,
        count,
        population,
        group_by=_groups(group_by),
        confidence=confidence,
        multiplier=multiplier,
    )


@table_command("mean")
@GROUP
@click.option("--value", required=True, help="Column of the values.")
def mean(
    data: pd.DataFrame, value: str, group_by: tuple[str, ...], confidence: tuple[float, ...]
) -> pd.DataFrame:
    """Means with Student's t limits."""
    return methods.mean(data, value, group_by=_groups(group_by), confidence=confidence)


@table_command("dsr")
@GROUP
@click.option("--count", required=True, help="Column of the events in each age band.")
@click.option("--population", required=True, help="Column of the population in each band.")
@click.option(
    "--standard-population",
    default=None,
    help="Column of the standard population (default: European Standard Population 2013, "
    "19 bands 0-4 to 90+, in that order within each group).",
)
@MULTIPLIER(default=100_000.0, help="Rate per this many people.")
@click.option(
    "--event-persons",
    multiple=True,
    help="For events that are not independent: columns of the persons with 1, 2, 3... "
    "events, in that order (repeat the option).",
)
def dsr(
    data: pd.DataFrame,
    count: str,
    population: str,
    standard_population: str | None,
    multiplier: float,
    event_persons: tuple[str, ...],
    group_by: tuple[str, ...],
    confidence: tuple[float, ...],
) -> pd.DataFrame:
    """Directly standardised rates with Dobson limits."""
    return methods.dsr(
        data,
        count,
        population,
        group_by=_groups(group_by),
        standard_population=standard_population,
        confidence=confidence,
        multiplier=multiplier,
        independent_events=not event_persons,
        event_persons=list(event_persons) or None,
    )


def _indirect(function: Callable[..., pd.DataFrame], name: str, default: float, about: str) -> None:
    @table_command(name)
    @GROUP
    @click.option("--count", required=True, help="Column of the observed events per band.")
    @click.option("--population", required=True, help="Column of the population per band.")
    @click.option("--reference-count", required=True, help="Column of the reference events.")
    @click.option(
        "--reference-population", required=True, help="Column of the reference population."
    )
    @MULTIPLIER(default=default)
    def command(
        data: pd.DataFrame,
        count: str,
        population: str,
        reference_count: str,
        reference_population: str,
        multiplier: float,
        group_by: tuple[str, ...],
        confidence: tuple[float, ...],
    ) -> pd.DataFrame:
        return function(
            data,
            count,
            population,
            reference_count,
            reference_population,
            group_by=_groups(group_by),
            confidence=confidence,
            multiplier=multiplier,
        )

    command.help = about


_indirect(
    methods.isr,
    "isr",
    100_000.0,
    "Indirectly standardised rates, with exact limits below 10 events, Byars above.",
)
_indirect(
    methods.isratio,
    "isratio",
    1.0,
    "Indirectly standardised ratios (SMR; 100 as --multiplier for the usual scale).",
)


@table_command("quantiles", confidence=False)
@GROUP
@click.option("--value", required=True, help="Column of the values to rank.")
@click.option("--quantiles", type=click.IntRange(min=1), default=10, show_default=True)
@click.option(
    "--invert/--no-invert",
    default=False,
    show_default=True,
    help="Quantile 1 for the highest values (when high is bad).",
)
def quantiles(
    data: pd.DataFrame, value: str, quantiles: int, invert: bool, group_by: tuple[str, ...]
) -> pd.DataFrame:
    """Assign small areas to quantiles within their parent areas."""
    return methods.assign_quantiles(
        data, value, group_by=_groups(group_by), quantiles=quantiles, invert=invert
    )


@table_command("sii")
@GROUP
@click.option("--quantile", required=True, help="Column of the quantile (1 = most deprived).")
@click.option("--population", required=True, help="Column of the population of each quantile.")
@click.option("--value", default=None, help="Column of the indicator value.")
@click.option(
    "--value-type",
    type=click.Choice(["normal", "rate", "proportion"]),
    default="normal",
    show_default=True,
)
@click.option("--count", default=None, help="Column of the events (rates, proportions).")
@click.option("--lower-cl", default=None, help="Column of the value's lower limit.")
@click.option("--upper-cl", default=None, help="Column of the value's upper limit.")
@click.option("--standard-error", default=None, help="Column of the value's standard error.")
@click.option("--repetitions", type=click.IntRange(min=1000), default=100_000, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="For repeatable limits.")
@click.option("--rii", is_flag=True, help="Also the relative index of inequality.")
@click.option("--intercept", is_flag=True, help="Also the intercept.")
@click.option("--reliability", is_flag=True, help="Also the reliability statistic.")
@click.option("--transform", is_flag=True, help="Log (rates) or logit (proportions) first.")
@MULTIPLIER(default=1.0, help="-1 to count up from the least deprived.")
def sii(
    data: pd.DataFrame,
    quantile: str,
    population: str,
    value: str | None,
    value_type: ValueType,
    count: str | None,
    lower_cl: str | None,
    upper_cl: str | None,
    standard_error: str | None,
    repetitions: int,
    seed: int | None,
    rii: bool,
    intercept: bool,
    reliability: bool,
    transform: bool,
    multiplier: float,
    group_by: tuple[str, ...],
    confidence: tuple[float, ...],
) -> pd.DataFrame:
    """Slope index of inequality (and RII), limits by simulation."""
    return methods.sii(
        data,
        quantile,
        population,
        value=value,
        value_type=value_type,
        count=count,
        lower_cl=lower_cl,
        upper_cl=upper_cl,
        standard_error=standard_error,
        group_by=_groups(group_by),
        confidence=confidence,
        repetitions=repetitions,
        seed=seed,
        rii=rii,
        intercept=intercept,
        reliability_stat=reliability,
        transform=transform,
        multiplier=multiplier,
    )


@table_command("life-expectancy")
@GROUP
@click.option("--deaths", required=True, help="Column of the deaths in each age band.")
@click.option("--population", required=True, help="Column of the population in each band.")
@click.option("--start-age", required=True, help="Column of each band's first age (or label).")
@click.option(
    "--from-age",
    "from_ages",
    multiple=True,
    type=int,
    help="Life expectancy at this age; repeat for several (default: every band).",
)
def life_expectancy(
    data: pd.DataFrame,
    deaths: str,
    population: str,
    start_age: str,
    from_ages: tuple[int, ...],
    group_by: tuple[str, ...],
    confidence: tuple[float, ...],
) -> pd.DataFrame:
    """Life expectancy: Chiang II abridged life table, Silcocks limits."""
    return methods.life_expectancy(
        data,
        deaths,
        population,
        start_age,
        group_by=_groups(group_by),
        confidence=confidence,
        le_age=list(from_ages) or "all",
    )


def funnel_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that both funnel commands take."""
    for option in reversed(
        [
            click.option(
                "--statistic", required=True, type=click.Choice(["proportion", "rate", "ratio"])
            ),
            click.option("--numerator", required=True, help="Column of the events."),
            click.option("--denominator", default=None, help="Column of the denominators."),
            click.option("--rate", "rate_column", default=None, help="Column of the rates."),
            click.option("--rate-type", type=click.Choice(["dsr", "crude"]), default=None),
        ]
    ):
        command = option(command)
    return command


@table_command("funnel-limits", confidence=False)
@GROUP
@funnel_options
@click.option("--ratio-type", type=click.Choice(["count", "isr"]), default=None)
@click.option("--years-of-data", type=float, default=None, help="Years the rates cover.")
@MULTIPLIER(default=None)
def funnel_limits(
    data: pd.DataFrame,
    statistic: Statistic,
    numerator: str,
    denominator: str | None,
    rate_column: str | None,
    rate_type: RateType | None,
    ratio_type: RatioType | None,
    years_of_data: float | None,
    multiplier: float | None,
    group_by: tuple[str, ...],
) -> pd.DataFrame:
    """95% and 99.8% funnel-plot limits over the range of the data's denominators."""
    return methods.funnel_limits(
        data,
        numerator,
        denominator,
        statistic=statistic,
        multiplier=multiplier,
        rate=rate_column,
        rate_type=rate_type,
        ratio_type=ratio_type,
        years_of_data=years_of_data,
        group_by=_groups(group_by),
    )


@table_command("funnel-significance", confidence=False)
@GROUP
@funnel_options
@MULTIPLIER(default=None)
def funnel_significance(
    data: pd.DataFrame,
    statistic: Statistic,
    numerator: str,
    denominator: str | None,
    rate_column: str | None,
    rate_type: RateType | None,
    multiplier: float | None,
    group_by: tuple[str, ...],
) -> pd.DataFrame:
    """Where each point lies against the 95% and 99.8% funnel limits."""
    return methods.funnel_significance(
        data,
        numerator,
        denominator,
        statistic=statistic,
        rate=rate_column,
        rate_type=rate_type,
        multiplier=multiplier,
        group_by=_groups(group_by),
    )


@table_command("heat")
@GROUP
@click.option("--estimate", required=True, help="Column of each subgroup's estimate.")
@click.option("--subgroup", required=True, help="Column naming the subgroup.")
@click.option("--population", default=None, help="Column of each subgroup's population.")
@click.option("--se", default=None, help="Column of each estimate's standard error.")
@click.option(
    "--order",
    "subgroup_order",
    default=None,
    help="Column ordering the subgroups (an ordered dimension, e.g. quintiles).",
)
@click.option("--unfavourable", is_flag=True, help="The indicator is bad (deaths), not good.")
@click.option("--scale", type=float, default=None, help="100 for a percentage, and so on.")
@click.option(
    "--measure",
    "measures",
    multiple=True,
    type=click.Choice(list(MEASURES)),
    help="Only this measure; repeat for several (default: all that apply).",
)
def heat(
    data: pd.DataFrame,
    estimate: str,
    subgroup: str,
    population: str | None,
    se: str | None,
    subgroup_order: str | None,
    unfavourable: bool,
    scale: float | None,
    measures: tuple[str, ...],
    group_by: tuple[str, ...],
    confidence: tuple[float, ...],
) -> pd.DataFrame:
    """WHO HEAT summary measures of inequality between subgroups."""
    return methods.heat_summary(
        data,
        estimate,
        group_by=_groups(group_by),
        subgroup=subgroup,
        population=population,
        se=se,
        subgroup_order=subgroup_order,
        ordered=subgroup_order is not None,
        favourable=not unfavourable,
        scale=scale,
        confidence=confidence,
        measures=list(measures) or None,
    )
