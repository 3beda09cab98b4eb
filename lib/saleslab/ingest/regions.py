"""Canonical region codes and their zh/en aliases (provinces and capitals included).

Free-text regions in exports (华东 / East China / 上海 / 江苏省 / Chengdu) map onto one of
:data:`saleslab.schema.REGIONS`. Matching is on the normalised text: half-width,
lower case, spaces removed, and the suffixes 省 / 市 / 地区 / 区 / "province" / "city" /
"region" stripped.
"""

from __future__ import annotations

import re

from .text import to_halfwidth

# code: (Chinese name, English names, provinces / cities in Chinese, pinyin)
_REGIONS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "north": (
        "华北",
        ("North China", "North"),
        ("北京", "天津", "河北", "山西", "内蒙古", "石家庄", "太原", "呼和浩特",
         "Beijing", "Tianjin", "Hebei", "Shanxi", "Inner Mongolia", "Shijiazhuang", "Taiyuan", "Hohhot"),
    ),
    "east": (
        "华东",
        ("East China", "East"),
        ("上海", "江苏", "浙江", "安徽", "福建", "江西", "山东", "南京", "杭州", "合肥", "福州", "南昌", "济南",
         "苏州", "宁波", "青岛", "厦门",
         "Shanghai", "Jiangsu", "Zhejiang", "Anhui", "Fujian", "Jiangxi", "Shandong", "Nanjing", "Hangzhou",
         "Hefei", "Fuzhou", "Nanchang", "Jinan", "Suzhou", "Ningbo", "Qingdao", "Xiamen"),
    ),
    "south": (
        "华南",
        ("South China", "South"),
        ("广东", "广西", "海南", "广州", "深圳", "南宁", "海口", "东莞", "佛山",
         "Guangdong", "Guangxi", "Hainan", "Guangzhou", "Shenzhen", "Nanning", "Haikou", "Dongguan", "Foshan"),
    ),
    "central": (
        "华中",
        ("Central China", "Central"),
        ("河南", "湖北", "湖南", "郑州", "武汉", "长沙",
         "Henan", "Hubei", "Hunan", "Zhengzhou", "Wuhan", "Changsha"),
    ),
    "southwest": (
        "西南",
        ("Southwest China", "Southwest", "South West"),
        ("重庆", "四川", "贵州", "云南", "西藏", "成都", "贵阳", "昆明", "拉萨",
         "Chongqing", "Sichuan", "Guizhou", "Yunnan", "Tibet", "Xizang", "Chengdu", "Guiyang", "Kunming", "Lhasa"),
    ),
    "northwest": (
        "西北",
        ("Northwest China", "Northwest", "North West"),
        ("陕西", "甘肃", "青海", "宁夏", "新疆", "西安", "兰州", "西宁", "银川", "乌鲁木齐",
         "Shaanxi", "Gansu", "Qinghai", "Ningxia", "Xinjiang", "Xi'an", "Xian", "Lanzhou", "Xining",
         "Yinchuan", "Urumqi"),
    ),
    "northeast": (
        "东北",
        ("Northeast China", "Northeast", "North East"),
        ("辽宁", "吉林", "黑龙江", "沈阳", "长春", "哈尔滨", "大连",
         "Liaoning", "Jilin", "Heilongjiang", "Shenyang", "Changchun", "Harbin", "Dalian"),
    ),
}

_SUFFIX = re.compile(r"(省|市|地区|区|自治区|壮族|回族|维吾尔|province|city|region|area)+$")


def _key(text: str) -> str:
    s = to_halfwidth(text).lower()
    s = re.sub(r"[\s\-_'.]", "", s)
    # strip repeatedly: "广西壮族自治区" -> "广西"
    prev = None
    while prev != s:
        prev = s
        s = _SUFFIX.sub("", s)
    return s


def _build() -> dict[str, str]:
    table: dict[str, str] = {}
    for code, (zh, en, places) in _REGIONS.items():
        for alias in (code, zh, *en, *places):
            k = _key(alias)
            if k in table and table[k] != code:
                raise ValueError(f"region alias {alias!r} maps to {table[k]} and {code}")
            table[k] = code
    return table


ALIASES: dict[str, str] = _build()


def region_code(text: str | None) -> str | None:
    """Region code for a free-text region, or None when empty or unknown.

    >>> region_code("East China"), region_code("上海市"), region_code("华东"), region_code("成都")
    ('east', 'east', 'east', 'southwest')
    """
    if text is None:
        return None
    k = _key(str(text))
    if not k:
        return None
    return ALIASES.get(k)


def region_names(code: str) -> tuple[str, str]:
    """(Chinese, English) display names of a region code."""
    zh, en, _ = _REGIONS[code]
    return zh, en[0]


def city_names() -> tuple[str, ...]:
    """Chinese names of the provinces and cities known to the alias table (e.g. 上海, 苏州)."""
    return tuple(p for _, _, places in _REGIONS.values() for p in places
                 if all("\u4e00" <= ch <= "\u9fff" for ch in p))
