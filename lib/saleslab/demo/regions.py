"""Region aliases emitted in the exports.

Every alias below also appears in the canonical alias table
:mod:`saleslab.ingest.regions` (region names in Chinese and English, provinces and
capital / major cities in Chinese and pinyin, optionally with a 省 / 市 suffix).
``tests/test_demo.py`` checks that each one maps back to its region code.
"""

from __future__ import annotations

import numpy as np

REGION_CODES = ("north", "east", "south", "central", "southwest", "northwest", "northeast")

# code: (Chinese, English, [(province, province pinyin, city, city pinyin), ...])
REGIONS = {
    "north": ("华北", "North China", [("北京", "Beijing", "北京", "Beijing"), ("天津", "Tianjin", "天津", "Tianjin"),
                                     ("河北", "Hebei", "石家庄", "Shijiazhuang"), ("山西", "Shanxi", "太原", "Taiyuan")]),
    "east": ("华东", "East China", [("上海", "Shanghai", "上海", "Shanghai"), ("江苏", "Jiangsu", "南京", "Nanjing"),
                                   ("浙江", "Zhejiang", "杭州", "Hangzhou"), ("山东", "Shandong", "济南", "Jinan"),
                                   ("福建", "Fujian", "福州", "Fuzhou"), ("江苏", "Jiangsu", "苏州", "Suzhou"),
                                   ("浙江", "Zhejiang", "宁波", "Ningbo")]),
    "south": ("华南", "South China", [("广东", "Guangdong", "广州", "Guangzhou"), ("广东", "Guangdong", "深圳", "Shenzhen"),
                                     ("广西", "Guangxi", "南宁", "Nanning"), ("海南", "Hainan", "海口", "Haikou"),
                                     ("广东", "Guangdong", "东莞", "Dongguan")]),
    "central": ("华中", "Central China", [("湖北", "Hubei", "武汉", "Wuhan"), ("湖南", "Hunan", "长沙", "Changsha"),
                                         ("河南", "Henan", "郑州", "Zhengzhou")]),
    "southwest": ("西南", "Southwest", [("四川", "Sichuan", "成都", "Chengdu"), ("重庆", "Chongqing", "重庆", "Chongqing"),
                                       ("云南", "Yunnan", "昆明", "Kunming"), ("贵州", "Guizhou", "贵阳", "Guiyang")]),
    "northwest": ("西北", "Northwest", [("陕西", "Shaanxi", "西安", "Xi'an"), ("甘肃", "Gansu", "兰州", "Lanzhou"),
                                       ("宁夏", "Ningxia", "银川", "Yinchuan"), ("新疆", "Xinjiang", "乌鲁木齐", "Urumqi")]),
    "northeast": ("东北", "Northeast", [("辽宁", "Liaoning", "沈阳", "Shenyang"), ("吉林", "Jilin", "长春", "Changchun"),
                                       ("黑龙江", "Heilongjiang", "哈尔滨", "Harbin"), ("辽宁", "Liaoning", "大连", "Dalian")]),
}

_MUNICIPALITIES = {"北京", "天津", "上海", "重庆"}


def region_aliases(code: str) -> list[str]:
    """Every free-text spelling of region ``code`` the generator may emit."""
    zh, en, places = REGIONS[code]
    out = [zh, en, en.replace(" China", "") if en.endswith(" China") else en]
    for prov, prov_py, city, city_py in places:
        out += [prov, prov_py, city, city_py]
        out.append(prov + ("市" if prov in _MUNICIPALITIES else "省"))
    seen: list[str] = []
    for a in out:
        if a not in seen:
            seen.append(a)
    return seen


ALL_ALIASES = {code: region_aliases(code) for code in REGION_CODES}

# How a free-text region cell is spelled, by style (weights per system differ).
STYLES = ("zh", "en", "province", "province_suffix", "city", "pinyin")


def cities(code: str) -> list[tuple[str, str]]:
    """(province, city) pairs of a region."""
    return [(p, c) for p, _, c, _ in REGIONS[code][2]]


def region_text(region_idx: np.ndarray, city_idx: np.ndarray, rng: np.random.Generator,
                weights=(0.45, 0.15, 0.15, 0.1, 0.1, 0.05)) -> np.ndarray:
    """Free-text region cells for (region, city) pairs, in a mix of spellings."""
    n = len(region_idx)
    style = rng.choice(len(STYLES), size=n, p=np.asarray(weights) / np.sum(weights))
    # lookup table [region, city, style]
    maxc = max(len(v[2]) for v in REGIONS.values())
    table = np.empty((len(REGION_CODES), maxc, len(STYLES)), dtype=object)
    for r, code in enumerate(REGION_CODES):
        zh, en, places = REGIONS[code]
        for c in range(maxc):
            prov, prov_py, city, city_py = places[c % len(places)]
            suffix = prov + ("市" if prov in _MUNICIPALITIES else "省")
            table[r, c] = (zh, en, prov, suffix, city, city_py)
    return table[region_idx, city_idx % maxc, style]
