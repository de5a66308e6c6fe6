"""bench/run_all.py's table of the reports: the targets judged on today's path (the facts)."""

from __future__ import annotations

from bench_modules import load

run_all = load("run_all")


def _figures(**overrides: object) -> dict[str, object]:
    figures: dict[str, object] = {
        "floor_s": 0.5,
        "coverage_facts_region_s": 0.9,  # 1.8x: met
        "coverage_facts_authority_s": 1.2,  # over 1 s: not met
        "coverage_region_s": 3.0,  # exact path: reported only
        "coverage_authority_s": 4.0,
        "csv_facts_rows": 1_000_000,
        "csv_facts_rows_per_s": 120_000.0,
        "csv_facts_peak_mib": [100.0, 104.0],
        "csv_facts_memory_flat": True,
        "csv_rows": 1_000_000,
        "csv_rows_per_s": 5_000.0,
        "csv_peak_mib": [100.0, 300.0],
        "csv_memory_flat": False,
    }
    figures.update(overrides)
    return figures


def _by_label(rows: list[tuple[str, str, str, str]]) -> dict[str, tuple[str, str, str]]:
    return {label: (value, target, met) for label, value, target, met in rows}


def test_targets_are_judged_on_todays_path_and_the_exact_path_is_reported() -> None:
    rows = _by_label(run_all.report_rows(_figures()))

    assert rows["coverage by region, today"] == (
        "0.900 s = 1.8x floor",
        "< 1 s and <= 2x floor",
        "met",
    )
    assert rows["coverage by authority, today"][2] == "**not met**"
    assert rows["coverage by region, past date (exact path)"][1:] == ("(reported)", "n/a")
    assert rows["learners CSV today, 1,000,000 rows"] == (
        "120,000 rows/s",
        ">= 100,000 rows/s",
        "met",
    )
    assert rows["learners CSV, past date (exact path), 1,000,000 rows"][2] == "n/a"
    # Memory is judged on every path: a growing export is a fault whatever the date.
    assert (
        rows["learners CSV, past date (exact path), peak RSS at 1/10 then all rows"][2]
        == "**not met**"
    )


def test_slow_csv_today_and_a_coverage_over_twice_the_floor_are_not_met() -> None:
    rows = _by_label(
        run_all.report_rows(
            _figures(csv_facts_rows_per_s=99_999.0, coverage_facts_region_s=0.99, floor_s=0.4)
        )
    )

    assert rows["learners CSV today, 1,000,000 rows"][2] == "**not met**"
    assert rows["coverage by region, today"][2] == "**not met**"  # 2.5x the floor, under 1 s


def test_a_failed_report_run_says_so() -> None:
    assert run_all.report_rows({"_exit": 3}) == [("reports", "failed (exit 3)", "", "**not met**")]
    assert run_all.report_rows(None) == []
