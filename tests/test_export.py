import pandas as pd
import openpyxl

from saleslab.report.export import neutralise, write_table


def test_cells_that_would_run_as_formulas_are_neutralised():
    df = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\",\"a\")", "+1", "-2", "@SUM(A1)", "\tx", "华信", None],
                       "amount": [-1.5, 2, 3, 4, 5, 6, 7]})
    out = neutralise(df)
    assert out["name"].tolist()[:6] == ["'=HYPERLINK(\"http://x\",\"a\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "华信"]
    assert out["amount"].tolist()[0] == -1.5  # numbers stay numbers
    assert df["name"][0].startswith("=")  # the caller's frame is untouched


def test_csv_and_excel_exports_are_safe(tmp_path):
    df = pd.DataFrame({"name": ["=1+1", "ok"], "n": [1, 2]})
    csv, xlsx = write_table(df, tmp_path, "t")
    assert csv.read_text(encoding="utf-8-sig").splitlines()[1] == "'=1+1,1"
    ws = openpyxl.load_workbook(xlsx).active
    assert ws["A2"].value == "'=1+1" and ws["A2"].data_type == "s"
