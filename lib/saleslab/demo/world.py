"""The entities of the fictional company 华信电器: products, reps, stores, distributors,
B2B companies (CRM) and persons (e-commerce and POS members), with their hidden
behaviour parameters (purchase rate, spend level, creation and churn day)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import names
from .config import N_DAYS, REGION_SHARE, START
from .regions import REGION_CODES, REGIONS

# category: (product types, list price range 元, cost ratio range, channel affinity)
CATEGORIES = {
    "厨房电器": (["电饭煲", "电水壶", "破壁机", "空气炸锅", "电磁炉", "微波炉", "豆浆机", "榨汁机", "电烤箱"], (159, 1299)),
    "个护电器": (["电吹风", "剃须刀", "电动牙刷", "卷发棒", "美容仪", "冲牙器"], (89, 899)),
    "清洁电器": (["吸尘器", "扫地机器人", "除螨仪", "洗地机", "挂烫机"], (299, 3299)),
    "生活电器": (["加湿器", "电风扇", "取暖器", "空气净化器", "除湿机"], (149, 1599)),
    "耗材配件": (["滤网", "替换刷头", "集尘袋", "清洁液", "替换刀头", "内胆", "滤芯"], (19, 149)),
}
CATEGORY_SHARE = {"厨房电器": 0.3, "个护电器": 0.2, "清洁电器": 0.15, "生活电器": 0.15, "耗材配件": 0.2}
COMPANY_LIFE = 1500  # mean customer lifetime in days
PERSON_LIFE = 900
REGION_P = np.array([REGION_SHARE[r] for r in REGION_CODES])


@dataclass
class World:
    products: pd.DataFrame
    reps: pd.DataFrame
    stores: pd.DataFrame
    distributors: pd.DataFrame
    companies: pd.DataFrame  # CRM records (originals and duplicates)
    persons: pd.DataFrame  # one row per person entity
    online_members: pd.DataFrame  # member records (persons + B2B buyers)
    pos_members: pd.DataFrame
    planted: dict


def _day(d: dt.date) -> int:
    return (d - START).days


def make_products(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, dict]:
    cats = list(CATEGORIES)
    cat = rng.choice(len(cats), size=n, p=[CATEGORY_SHARE[c] for c in cats])
    rows = []
    for i in range(n):
        c = cats[cat[i]]
        types, (lo, hi) = CATEGORIES[c]
        t = types[rng.integers(0, len(types))]
        price = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        price = max(9.0, round(price / 10) * 10 - 1)  # 199, 299-style prices
        model = f"{'ABCDEFHKMS'[rng.integers(0, 10)]}{rng.integers(1, 10)}{rng.integers(10, 99)}"
        rows.append((f"P{i + 1:04d}", f"华信{t} {model}", c, price))
    df = pd.DataFrame(rows, columns=["product_id", "name", "category", "list_price"])
    df["cost_ratio"] = rng.uniform(0.55, 0.75, n)
    # launch: 75 % before the period, the rest spread over it
    pre = rng.random(n) < 0.75
    launch = np.where(pre, rng.integers(_day(dt.date(2016, 3, 1)), _day(dt.date(2022, 12, 1)), n),
                      rng.integers(_day(dt.date(2023, 2, 1)), _day(dt.date(2025, 7, 1)), n))
    df["launch_day"] = launch
    # popularity: Zipf-like over a random permutation
    rank = rng.permutation(n) + 1
    pop = 1.0 / rank ** 0.8
    pre_idx = np.flatnonzero(pre)
    n_star, n_slow = max(4, n // 40), max(6, n // 25)
    non_cons = pre_idx[df.category.values[pre_idx] != "耗材配件"]
    stars = rng.choice(non_cons, n_star, replace=False)
    rest = np.setdiff1d(pre_idx, stars)
    slow = rng.choice(rest, n_slow, replace=False)
    rest2 = np.setdiff1d(np.setdiff1d(np.arange(n), stars), slow)
    high_return = rng.choice(rest2[df.category.values[rest2] != "耗材配件"], 1)
    pop[stars] = pop.max() * rng.uniform(2.5, 3.5, n_star)
    pop[slow] = pop.min() * 0.05
    df.loc[stars, "cost_ratio"] = rng.uniform(0.35, 0.42, n_star)
    df.loc[slow, "cost_ratio"] = rng.uniform(0.70, 0.80, n_slow)
    df["popularity"] = pop / pop.sum()
    df["unit_cost"] = np.round(df.list_price * df.cost_ratio, 2)
    df["kind"] = "normal"
    df.loc[stars, "kind"] = "star"
    df.loc[slow, "kind"] = "slow"
    df.loc[high_return, "kind"] = "high_return"
    planted = {
        "star_products": {"ids": df.product_id.values[np.sort(stars)].tolist(),
                          "effect": "≈3× the sales volume of the best normal product, unit cost 35–42 % of list price"},
        "slow_movers": {"ids": df.product_id.values[np.sort(slow)].tolist(),
                        "effect": "popularity 5 % of the least popular normal product; 800–3,000 units in stock per warehouse"},
        "high_return_product": {"ids": df.product_id.values[high_return].tolist(),
                                "effect": "15 % of online/retail lines returned (others 1–4 %)"},
    }
    return df, planted


def _split_counts(n: int, p: np.ndarray) -> np.ndarray:
    c = np.maximum(1, np.floor(n * p).astype(int))
    while c.sum() < n:
        c[np.argmax(n * p - c)] += 1
    while c.sum() > n:
        c[np.argmax(c)] -= 1
    return c


def make_reps(rng: np.random.Generator, n: int) -> pd.DataFrame:
    counts = _split_counts(n, REGION_P)
    region = np.repeat(np.arange(len(REGION_CODES)), counts)
    team = []
    for r, k in zip(range(len(REGION_CODES)), counts):
        zh = REGIONS[REGION_CODES[r]][0]
        team += [f"{zh}{'一' if j < (k + 1) // 2 or k < 5 else '二'}部" for j in range(k)]
    df = pd.DataFrame({
        "rep_id": [f"S{i + 1:03d}" for i in range(n)],
        "name": names.person_names(rng, n),
        "team": team,
        "region": np.array(REGION_CODES)[region],
        "region_idx": region,
        "hire_day": rng.integers(_day(dt.date(2014, 1, 1)), _day(dt.date(2022, 12, 31)), n),
    })
    return df


def make_stores(rng: np.random.Generator, n: int) -> pd.DataFrame:
    counts = _split_counts(n, REGION_P)
    region = np.repeat(np.arange(len(REGION_CODES)), counts)
    city = np.array([rng.integers(0, len(REGIONS[REGION_CODES[r]][2])) for r in region])
    cityname = [REGIONS[REGION_CODES[r]][2][c][2] for r, c in zip(region, city)]
    seq = pd.Series(cityname).groupby(cityname).cumcount().values + 1
    storenames = [f"华信电器{c}{'一二三四五六七八九十'[min(s, 10) - 1] if s > 1 else ''}{'号' if s > 1 else ''}店"
                  for c, s in zip(cityname, seq)]
    return pd.DataFrame({
        "store_id": [f"ST{i + 1:03d}" for i in range(n)],
        "name": storenames,
        "region_idx": region,
        "city_idx": city,
        "city": cityname,
        "open_day": rng.integers(_day(dt.date(2012, 1, 1)), _day(dt.date(2022, 6, 1)), n),
    })


def make_distributors(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, dict]:
    counts = _split_counts(n, REGION_P)
    region = np.repeat(np.arange(len(REGION_CODES)), counts)
    city = np.array([rng.integers(0, len(REGIONS[REGION_CODES[r]][2])) for r in region])
    cityname = np.array([REGIONS[REGION_CODES[r]][2][c][2] for r, c in zip(region, city)], dtype=object)
    nm = names.company_names(rng, n, np.array(["零售业"] * n, dtype=object), cityname)
    nm = np.array([x.replace("有限公司", "电器销售有限公司") for x in nm], dtype=object)
    size = rng.gamma(4.0, 0.25, n) * (REGION_P[region] * len(REGION_CODES)) ** 0.8
    weak = int(np.argsort(size)[n // 2])  # a mid-sized one
    df = pd.DataFrame({
        "distributor_id": [f"D{i + 1:03d}" for i in range(n)],
        "name": nm,
        "region_idx": region,
        "city_idx": city,
        "city": cityname,
        "size": size,
        "signed_day": rng.integers(_day(dt.date(2015, 1, 1)), _day(dt.date(2022, 10, 1)), n),
        "credit_wan": np.round(rng.uniform(50, 500, n), 0),
        "weak": np.arange(n) == weak,
    })
    planted = {"weak_distributor": {"ids": [df.distributor_id[weak]],
                                    "effect": "collection rate ≈ 35–50 % of invoiced amount (others ≈ 95 %)"}}
    return df, planted


def _lifetimes(rng, n, mean_days):
    return rng.exponential(mean_days, n).astype(int) + 30


def make_companies(rng: np.random.Generator, n: int, reps: pd.DataFrame, created_in_period: np.ndarray) -> pd.DataFrame:
    """CRM company entities: ``created_in_period`` days for those won during the period
    (from the lead funnel); the others existed before 2023."""
    n_in = len(created_in_period)
    n_pre = max(n - n_in, 1)
    # customers alive on 2023-01-01: age ~ Exp(mean lifetime), remaining life ~ Exp (memoryless),
    # so the active population stays roughly stationary and trends come from the intensity
    age = rng.exponential(COMPANY_LIFE, n_pre).astype(int) % 4000
    created = np.concatenate([-age - 1, created_in_period])
    m = len(created)
    start = np.maximum(created, 0)
    region = rng.choice(len(REGION_CODES), size=m, p=REGION_P)
    city = np.array([rng.integers(0, len(REGIONS[REGION_CODES[r]][2])) for r in region])
    cityname = np.array([REGIONS[REGION_CODES[r]][2][c][2] for r, c in zip(region, city)], dtype=object)
    ind = np.array(names.INDUSTRIES, dtype=object)[rng.choice(3, size=m, p=[0.45, 0.35, 0.2])]
    emp = np.maximum(3, rng.lognormal(np.log(60), 1.2, m)).astype(int)
    rep_by_region = [reps.index[reps.region_idx == r].to_numpy() for r in range(len(REGION_CODES))]
    owner = np.array([rep_by_region[r][rng.integers(0, len(rep_by_region[r]))] for r in region])
    acq = np.array(["直销", "经销", "线上", "门店"], dtype=object)[rng.choice(4, size=m, p=[0.6, 0.15, 0.15, 0.1])]
    df = pd.DataFrame({
        "name": names.company_names(rng, m, ind, cityname),
        "industry": ind,
        "employees": emp,
        "region_idx": region,
        "city_idx": city,
        "city": cityname,
        "phone": names.unique_phones(rng, m),
        "email": names.emails(rng, m),
        "tax_id": names.tax_ids(rng, m),
        "owner_rep": owner,
        "acq": acq,
        "created": created,
        "churn": start + _lifetimes(rng, m, COMPANY_LIFE),
        # purchase rate (Gamma heterogeneity) and spend level (Gamma), BG/NBD-like
        "rate": rng.gamma(0.9, 1 / 0.9, m) * np.clip(emp / 60, 0.5, 3) ** 0.3,
        "spend": rng.gamma(3.0, 1 / 3.0, m),
    })
    df["entity_id"] = [f"E{i + 1:07d}" for i in range(m)]
    return df


def make_persons(rng: np.random.Generator, n_online: int, n_pos: int, id_offset: int) -> pd.DataFrame:
    overlap = int(0.15 * n_pos)
    n = n_online + n_pos - overlap
    region = rng.choice(len(REGION_CODES), size=n, p=REGION_P)
    ncity = np.array([len(REGIONS[c][2]) for c in REGION_CODES])
    city = (rng.random(n) * ncity[region]).astype(int)
    pre = rng.random(n) < PERSON_LIFE / (PERSON_LIFE + N_DAYS)  # stationary active population
    age = rng.exponential(PERSON_LIFE, n).astype(int) % 3000
    created = np.where(pre, -age - 1, rng.integers(0, N_DAYS - 30, n))
    df = pd.DataFrame({
        "name": names.person_names(rng, n),
        "gender": np.where(rng.random(n) < 0.52, "女", "男"),
        "phone": names.unique_phones(rng, n),
        "email": names.emails(rng, n),
        "region_idx": region,
        "city_idx": city,
        "created": created,
        "churn": np.maximum(created, 0) + _lifetimes(rng, n, PERSON_LIFE),
        "rate": rng.gamma(0.6, 1 / 0.6, n),
        "spend": rng.gamma(4.0, 1 / 4.0, n),
        "online": np.arange(n) < n_online,
        "pos": np.arange(n) >= n_online - overlap,
    })
    df["entity_id"] = [f"E{id_offset + i + 1:07d}" for i in range(n)]
    return df


def _share_rule(rng, n):
    """Which identifier a duplicate record shares with its original."""
    return np.array(["tax_id", "phone", "email", "name_only"], dtype=object)[rng.choice(4, size=n, p=[0.6, 0.2, 0.1, 0.1])]


def _region_cells(rng, region_idx, city_idx, blank_rate, weights=(0.45, 0.15, 0.15, 0.1, 0.1, 0.05)):
    from .regions import region_text

    txt = region_text(np.asarray(region_idx), np.asarray(city_idx), rng, weights)
    txt[rng.random(len(txt)) < blank_rate] = ""
    return txt


def crm_records(rng, companies: pd.DataFrame, reps: pd.DataFrame, dup_share: float) -> pd.DataFrame:
    """CRM customer records: one per company plus name-variant duplicates (new ids)."""
    m = len(companies)
    k = max(6, int(round(m * dup_share)))
    dup_of = np.sort(rng.choice(m, size=k, replace=False))
    orig = companies.assign(entity=np.arange(m), variant="original", share="")
    dup = companies.iloc[dup_of].copy()
    dup["entity"] = dup_of
    share = _share_rule(rng, k)
    var = [names.company_variant(n, c, rng) for n, c in zip(dup.name, dup.city)]
    dup["name"] = [v for v, _ in var]
    dup["variant"] = [kd for _, kd in var]
    dup["share"] = share
    dup["created"] = np.minimum(dup.created.to_numpy() + rng.integers(60, 700, k), N_DAYS - 30)
    newp, newe, newt = names.unique_phones(rng, k), names.emails(rng, k), names.tax_ids(rng, k)
    dup["phone"] = np.where(share == "phone", dup.phone, newp)
    dup["email"] = np.where(share == "email", dup.email, newe)
    # a duplicate entered by another rep usually lacks the tax id unless it is the shared key
    dup["tax_id"] = np.where(share == "tax_id", dup.tax_id, np.where(rng.random(k) < 0.3, newt, ""))
    recs = pd.concat([orig, dup], ignore_index=True)
    recs = recs.iloc[np.lexsort((recs.entity.to_numpy(), recs.created.to_numpy()))].reset_index(drop=True)
    recs["record_id"] = [f"C{i + 1:06d}" for i in range(len(recs))]
    n = len(recs)
    recs["industry_cell"] = np.where(rng.random(n) < 0.04, "", recs.industry)
    recs["region_cell"] = _region_cells(rng, recs.region_idx, recs.city_idx, 0.03)
    roads = np.array(list("建设人民中山解放新华和平长江黄河文化青年"), dtype=object)
    recs["address"] = (recs.city + "市" + roads[rng.integers(0, len(roads), n)] + roads[rng.integers(0, len(roads), n)]
                       + "路" + rng.integers(1, 999, n).astype(str).astype(object) + "号")
    return recs


def online_b2b_members(rng, companies: pd.DataFrame, share: float) -> pd.DataFrame:
    """Companies that also buy on the B2B web shop, with a member record whose name is a variant."""
    m = len(companies)
    k = max(5, int(round(m * share)))
    idx = np.sort(rng.choice(m, size=k, replace=False))
    c = companies.iloc[idx]
    rule = _share_rule(rng, k)
    var = [names.company_variant(n, ct, rng) for n, ct in zip(c.name, c.city)]
    return pd.DataFrame({
        "entity": idx,
        "name": [v for v, _ in var],
        "variant": [kd for _, kd in var],
        "share": rule,
        "phone": np.where(rule == "phone", c.phone, names.unique_phones(rng, k)),
        "email": np.where(rule == "email", c.email, names.emails(rng, k)),
        "tax_id": np.where(rule == "tax_id", c.tax_id, ""),
        "region_idx": c.region_idx.to_numpy(),
        "city_idx": c.city_idx.to_numpy(),
        "registered": np.clip(np.maximum(c.created.to_numpy(), 0) + rng.integers(0, 400, k), 0, N_DAYS - 200),
    })
