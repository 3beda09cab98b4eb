"""Chinese person / company names, contact data and the name variants of duplicates."""

from __future__ import annotations

import numpy as np

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞辉建国文博宇浩然欣怡子涵雨轩梓晨思彤佳琪俊杰晓东海燕春梅志强丹婷雪琳")
BRAND = list("华信恒达腾飞瑞丰嘉和宏远金鼎聚源盛世天成鑫隆德润富康永泰新锐中联广汇博雅安泰华美东方长城锦程创新同益立信润发")
LATIN = ["ABC", "TCL", "IDG", "KMT", "HRC", "Sino", "Eco", "Max", "Uni", "Bright"]
INDUSTRY_WORDS = {
    "制造业": ["电子", "机械", "五金", "塑胶", "制造", "精密", "电器"],
    "零售业": ["商贸", "贸易", "百货", "超市", "电商", "零售"],
    "服务业": ["酒店管理", "物业服务", "餐饮管理", "信息技术", "咨询", "家政服务"],
}
INDUSTRIES = ("制造业", "零售业", "服务业")
EMAIL_DOMAINS = ["163.com", "126.com", "qq.com", "sina.com", "foxmail.com", "outlook.com"]
_ALNUM = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    s = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    g2 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    two = rng.random(n) < 0.65
    return np.where(two, np.char.add(np.char.add(s, g1), g2), np.char.add(s, g1)).astype(object)


def company_names(rng: np.random.Generator, n: int, industry: np.ndarray, city: np.ndarray) -> np.ndarray:
    """Unique company names like 上海恒达电子有限公司 / 华信ABC贸易（上海）有限公司."""
    out, seen = [], set()
    i = 0
    while len(out) < n:
        ind = industry[len(out)] or INDUSTRIES[int(rng.integers(0, 3))]
        c = city[len(out)]
        words = INDUSTRY_WORDS[ind]
        brand = BRAND[rng.integers(0, len(BRAND))] + BRAND[rng.integers(0, len(BRAND))]
        if rng.random() < 0.12:
            brand = brand + LATIN[rng.integers(0, len(LATIN))]
        w = words[rng.integers(0, len(words))]
        style = rng.random()
        if style < 0.55:
            name = f"{c}{brand}{w}有限公司"
        elif style < 0.8:
            name = f"{brand}{w}({c})有限公司"
        else:
            name = f"{brand}{w}有限公司"
        i += 1
        if name in seen:
            continue
        seen.add(name)
        out.append(name)
    return np.array(out, dtype=object)


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.array(["13", "15", "17", "18", "19"])[rng.integers(0, 5, n)]
    body = rng.integers(0, 1_000_000_000, n)
    return np.char.add(prefix, np.char.zfill(body.astype(str), 9)).astype(object)


def unique_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct mobile numbers."""
    base = rng.choice(4_000_000_000, size=n, replace=False) + 13_000_000_000
    return base.astype(str).astype(object)


def emails(rng: np.random.Generator, n: int, stem: np.ndarray | None = None) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    a = letters[rng.integers(0, 26, (n, 5))]
    user = np.array(["".join(r) for r in a], dtype=object)
    num = rng.integers(10, 9999, n).astype(str)
    dom = np.array(EMAIL_DOMAINS)[rng.integers(0, len(EMAIL_DOMAINS), n)]
    return (user + num.astype(object) + "@" + dom.astype(object)).astype(object)


def tax_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """18-character unified social credit codes (format only, no check digit logic)."""
    area = rng.integers(110000, 659000, n).astype(str)
    body = _ALNUM[rng.integers(0, len(_ALNUM), (n, 10))]
    return np.array(["91" + a + "".join(b) for a, b in zip(area, body)], dtype=object)


_FW = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def fullwidth(s: str) -> str:
    return "".join(_FW.get(ch, ch) for ch in s)


def company_variant(name: str, city: str, rng: np.random.Generator) -> tuple[str, str]:
    """A name variant of the same company and the kind of change made."""
    kinds = []
    if "(" in name or any("A" <= ch <= "Z" for ch in name):
        kinds.append("fullwidth")
    if name.endswith("有限公司"):
        kinds.append("llc_suffix")
    kinds += ["spaces", "city_prefix"]
    if any("A" <= ch <= "Z" for ch in name):
        kinds.append("case")
    kind = kinds[int(rng.integers(0, len(kinds)))]
    if kind == "fullwidth":
        v = fullwidth(name)
    elif kind == "llc_suffix":
        v = name[: -len("有限公司")] + "有限责任公司"
    elif kind == "spaces":
        cut = len(name) - 4
        v = name[:cut] + " " + name[cut:] if rng.random() < 0.6 else " " + name + " "
    elif kind == "case":
        v = "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in name)
    else:  # city prefix added or removed
        v = name[len(city):] if name.startswith(city) else city + name
    if v == name:
        v, kind = name + " ", "spaces"
    return v, kind
