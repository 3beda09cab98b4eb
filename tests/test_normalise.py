import datetime as dt
import math

import pandas as pd
import pytest

from saleslab.ingest import normalise as N
from saleslab.ingest.regions import region_code
from saleslab.ingest.text import clean_text, to_halfwidth

D = dt.date


def S(*v):
    return pd.Series(list(v), dtype=object)


def test_dates_accept_every_export_style_and_flag_garbage():
    vals, bad = N.parse_dates(S("2024/5/1", "2024-05-01", "20240501", "45413", "2024-05-01 13:22:05",
                                "2024-13-45", "N/A", "", None, "２０２４/５/１"))
    assert vals.tolist() == [D(2024, 5, 1)] * 5 + [None, None, None, None, D(2024, 5, 1)]
    assert bad.tolist() == [False] * 5 + [True, True, False, False, False]


def test_dates_only_use_the_formats_given():
    vals, bad = N.parse_dates(S("2024/5/1", "45413"), ["%Y/%m/%d"])
    assert vals.tolist() == [D(2024, 5, 1), None]
    assert bad.tolist() == [False, True]


def test_excel_serial_range_does_not_read_codes_as_dates():
    vals, bad = N.parse_dates(S("45292", "123", "99999"), ["excel_serial"])
    assert vals.tolist() == [D(2024, 1, 1), None, None]
    assert bad.tolist() == [False, True, True]


def test_money_removes_separators_and_converts_wan_yuan():
    vals, bad = N.parse_money(S("1,234.567800", "¥12", " 3 ", "abc", None, "１，０００"), "万元")
    assert vals.tolist()[:3] == [12345678.0, 120000.0, 30000.0]
    assert math.isnan(vals[3]) and math.isnan(vals[4])
    assert vals[5] == 10_000_000.0
    assert bad.tolist() == [False, False, False, True, False, False]


def test_money_rounds_to_the_cent():
    vals, _ = N.parse_money(S("0.0123456"), "万元")
    assert vals[0] == 123.46


def test_money_rejects_unknown_unit():
    with pytest.raises(ValueError, match="unknown money unit"):
        N.parse_money(S("1"), "千元")


def test_int_rejects_fractions_and_text():
    vals, bad = N.parse_int(S("12", "12.0", "1,200", "1.5", "x", None))
    assert vals.tolist()[:3] == [12, 12, 1200]
    assert bad.tolist() == [False, False, False, True, True, False]


def test_ids_lose_whitespace_and_fullwidth():
    vals, _ = N.norm_id(S(" C0001 ", "Ｃ０００２", "", None, "SO 1"))
    assert vals.tolist() == ["C0001", "C0002", None, None, "SO1"]


def test_text_is_halfwidth_trimmed_and_collapsed():
    vals, _ = N.norm_text(S("  华信　电器  有限公司 ", "ＡＢＣ（上海）", "   "))
    assert vals.tolist() == ["华信 电器 有限公司", "ABC(上海)", None]
    assert to_halfwidth("１２３ａｂｃ") == "123abc"
    assert clean_text(None) is None


@pytest.mark.parametrize("text, code", [
    ("华东", "east"), ("East China", "east"), ("上海", "east"), ("上海市", "east"), ("江苏省", "east"),
    ("east", "east"), ("SHANGHAI", "east"), ("华南", "south"), ("South China", "south"), ("深圳市", "south"),
    ("成都", "southwest"), ("Chengdu", "southwest"), ("西北", "northwest"), ("Xi'an", "northwest"),
    ("东北", "northeast"), ("North East", "northeast"), ("北京", "north"), ("内蒙古自治区", "north"),
    ("广西壮族自治区", "south"), ("华中", "central"), ("Ｅａｓｔ　Ｃｈｉｎａ", "east"),
])
def test_region_aliases(text, code):
    assert region_code(text) == code


def test_unknown_region_is_flagged_not_guessed():
    vals, bad = N.norm_region(S("火星", "", "华东"))
    assert vals.tolist() == [None, None, "east"]
    assert bad.tolist() == [True, False, False]


def test_choice_is_case_insensitive():
    vals, bad = N.norm_choice(S("Online", "DIRECT", "phone"), ("online", "direct"))
    assert vals.tolist() == ["online", "direct", None]
    assert bad.tolist() == [False, False, True]
