"""Counts, sizes and MAC budgets are read as people type them and printed so that they read back."""

import pytest

from dnnet.errors import UserError
from dnnet.utils.amounts import MacsBudget, format_count, format_size, parse_count, parse_macs_budget, parse_milliseconds, parse_size


@pytest.mark.parametrize("text,expected", [("24M", 24e6), ("24m", 24e6), ("150K", 150e3), ("150k", 150e3), ("1.5G", 1.5e9),
                                           ("2.5e6", 2.5e6), ("812", 812.0), (" 24 M ", 24e6), (".5k", 500.0)])
def test_counts_take_suffixes_in_any_case(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["", "M", "24MB", "24 million", "-5", "1,000", "nan", "inf", "24MM"])
def test_a_count_that_is_not_one_is_refused_with_an_example(text):
    with pytest.raises(UserError, match="e.g. 24M, 150K"):
        parse_count(text)


@pytest.mark.parametrize("text,expected", [("64KiB", 65536), ("64kib", 65536), ("1.5MB", 1.5e6), ("1.5mb", 1.5e6),
                                           ("2048", 2048), ("2048B", 2048), ("1 GiB", 1024**3), ("3MiB", 3 * 2**20)])
def test_sizes_take_units_in_any_case(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["64 KiBs", "lots", "", "64K", "64Kib!"])
def test_a_size_that_is_not_one_is_refused(text):
    with pytest.raises(UserError, match="memory size"):
        parse_size(text)


@pytest.mark.parametrize("value,printed", [(18_300_000, "18.3M"), (150_000, "150K"), (812, "812"), (68_188_698, "68.2M"),
                                           (1_500_000_000, "1.5G"), (6922, "6.92K"), (999_950, "1M"), (999_999_999, "1G"),
                                           (999.7, "1K"), (0, "0")])
def test_counts_print_as_they_are_typed_and_read_back(value, printed):
    assert format_count(value) == printed
    assert parse_count(printed) == pytest.approx(value, rel=5e-3)


@pytest.mark.parametrize("value,printed", [(65536, "64KiB"), (3 * 2**20, "3MiB"), (100, "100B"), (1536, "1.5KiB"),
                                           (1023.9, "1KiB"), (1_040_000, "1020KiB")])
def test_sizes_print_in_binary_units_and_read_back(value, printed):
    assert format_size(value) == printed
    assert parse_size(printed) == pytest.approx(value, rel=5e-3)


def test_a_macs_budget_is_absolute_or_a_share_of_the_full_network():
    assert parse_macs_budget("24M") == MacsBudget(24e6) and parse_macs_budget("24M").macs(68e6) == 24e6
    assert parse_macs_budget("25%") == MacsBudget(0.25, share=True) and parse_macs_budget("25%").macs(8e6) == 2e6
    assert str(parse_macs_budget("25%")) == "25%" and str(parse_macs_budget("24e6")) == "24M"


@pytest.mark.parametrize("text,message", [("0", "must be positive"), ("0%", "must be positive and at most 100%"),
                                          ("150%", "must be positive and at most 100%"), ("nan%", "at most 100%"),
                                          ("abc%", "is a percentage, e.g. 25%"), ("%", "is a percentage"), ("-3M", "e.g. 24M")])
def test_a_macs_budget_outside_what_can_be_met_is_refused_by_name(text, message):
    with pytest.raises(UserError, match=message):
        parse_macs_budget(text)


def test_the_example_budget_is_the_default_that_the_help_names():
    from dnnet.utils.amounts import EXAMPLE_BUDGET

    assert str(EXAMPLE_BUDGET) == "25%"


@pytest.mark.parametrize("parse, text", [(parse_count, "1e999"), (parse_count, "1e400K"), (parse_size, "1e999KiB")])
def test_a_number_too_large_to_hold_is_refused_not_taken_as_infinity(parse, text):
    with pytest.raises(UserError, match=f"must be a finite number, got '{text}'"):
        parse(text)


@pytest.mark.parametrize("text", ["nan", "-1", "0", "inf", "2ms"])
def test_a_time_limit_is_a_positive_finite_number_of_milliseconds(text):
    with pytest.raises(UserError, match=f"a time in milliseconds is a positive number, e.g. 2 or 0.5, got '{text}'"):
        parse_milliseconds(text)
    assert parse_milliseconds("0.5") == 0.5


@pytest.mark.parametrize("flags", [["--latency-ms", "nan"], ["--latency-ms", "-1"], ["--memory", "1e999KiB"], ["--params", "1e999"]])
def test_select_refuses_an_impossible_limit_as_a_usage_error(flags, tmp_path, capsys):
    from dnnet.cli.main import main

    with pytest.raises(SystemExit) as stop:  # refused while parsing: the run is never read
        main(["select", str(tmp_path), *flags])
    assert stop.value.code == 2 and "no cell fits" not in capsys.readouterr().err
