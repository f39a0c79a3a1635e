from jobs.progress import eta_rows, render


def _snap(files, n_files, rows):
    return {"rows": rows, "first": {k: 0.0 for k in rows}, "last": {k: 10.0 for k in rows},
            "files": files, "n_files": n_files}


def test_total_is_extrapolated_from_files_until_reading_is_done():
    assert eta_rows(_snap(0, 4, {})) is None
    assert eta_rows(_snap(1, 4, {"read": 100})) == 400
    assert eta_rows(_snap(4, 4, {"read": 390})) == 390


def test_table_shows_rows_rate_and_eta():
    from rich.console import Console

    table = render(_snap(2, 4, {"read": 200, "filter": 100}), ["read", "filter", "tokens"], now=10.0)
    console = Console(width=100, record=True)
    console.print(table)
    text = console.export_text()
    assert "filter" in text and "100" in text and "10" in text  # 100 rows in 10 s
    assert "30 s" in text  # 400 expected rows, 300 to go at 10 rows/s
    assert "tokens" in text
