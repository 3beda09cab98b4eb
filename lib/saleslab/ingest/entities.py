"""Customer entity resolution: source customer records -> one canonical customer id.

Input: the ``customers`` table (one row per source record: CRM companies, e-commerce and POS
members). Output:

- ``customer_map`` — every source ``customer_id`` -> ``canonical_id`` with the ``rule`` that linked it
  (``self`` for the representative record) and ``matched_with`` (the record it was linked to);
- ``customer_review`` — pairs that look alike on a weak signal only (same normalised company name
  and no shared identifier, or a shared phone/e-mail with different names). They are **not** merged.

Rules (a pair is merged only on a strong signal):

==================  ==================================================================
``tax_id``          same unified social credit code (the legal identity of a company)
``phone+name``      same phone number and the same normalised name
``email+name``      same e-mail address and the same normalised name
==================  ==================================================================

Normalised name: Unicode NFKC (full-width -> half-width), lower case, spaces and punctuation
removed, a bracketed or leading city name removed (``(上海)华信`` / ``上海华信`` -> ``华信``), and the
legal-form suffixes 有限责任公司 / 股份有限公司 / 有限公司 reduced to one form. Two records with
different tax ids are merged only on a name plus phone/e-mail match, and such pairs are also listed
for review (``tax_id_conflict``). The canonical id of a group is the id of its record from the
highest-priority source (lowest ``priority`` number), then the smallest id — so a customer without
duplicates keeps its own id.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
import pandas as pd

from .regions import city_names

_PUNCT = re.compile(r"[\s\-_.,，。、·'\"“”‘’()（）\[\]【】/\\&]+")
_BRACKET_PREFIX = re.compile(r"^[(（\[【]([^)）\]】]{1,8})[)）\]】]")
_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司")

MAP_COLUMNS = ["customer_id", "canonical_id", "rule", "matched_with"]
REVIEW_COLUMNS = ["customer_id", "other_id", "signal", "name", "other_name"]


@functools.lru_cache(maxsize=1)
def _city_prefix() -> re.Pattern:
    # longest first, so 石家庄 is removed before a shorter city that is its prefix; at least one
    # character must remain after the city (and 市)
    cities = sorted({c for c in city_names() if len(c) >= 2}, key=len, reverse=True)
    return re.compile("^(?:" + "|".join(map(re.escape, cities)) + ")市?(?=..)")


def normalise_name(name) -> str | None:
    """The comparison form of a customer name (see the module docstring); None for empty names."""
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return None
    s = unicodedata.normalize("NFKC", str(name)).strip().lower()
    m = _BRACKET_PREFIX.match(s)
    if m:
        s = s[m.end():]
    s = _PUNCT.sub("", s)
    s = _city_prefix().sub("", s, count=1)
    for suf in _SUFFIXES:
        if s.endswith(suf):
            s = s[: -len(suf)] + "有限公司"
            break
    return s or None


def _norm_phone(v) -> str | None:
    if not isinstance(v, str):
        return None
    d = re.sub(r"\D", "", unicodedata.normalize("NFKC", v))
    if d.startswith("86") and len(d) == 13:
        d = d[2:]
    return d if len(d) >= 7 else None


def _norm_email(v) -> str | None:
    if not isinstance(v, str):
        return None
    s = unicodedata.normalize("NFKC", v).strip().lower()
    return s if "@" in s else None


def _norm_tax(v) -> str | None:
    if not isinstance(v, str):
        return None
    s = re.sub(r"\s", "", unicodedata.normalize("NFKC", v)).upper()
    return s if len(s) >= 8 else None


class _UnionFind:
    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        p = self.parent
        root = i
        while p[root] != root:
            root = p[root]
        while p[i] != root:
            p[i], i = root, p[i]
        return root

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True


def _pairs_on(keys: pd.Series) -> pd.DataFrame:
    """(i, j) index pairs of rows sharing a non-null key: each row paired with the group's first row."""
    k = keys.dropna()
    if k.empty:
        return pd.DataFrame({"i": pd.Series(dtype=int), "j": pd.Series(dtype=int)})
    df = pd.DataFrame({"key": k.to_numpy(), "j": k.index.to_numpy()})
    df["i"] = df.groupby("key", sort=False)["j"].transform("min")
    return df.loc[df.i != df.j, ["i", "j"]]


def resolve_customers(customers: pd.DataFrame, priority: dict[str, int] | None = None,
                      name_sources: set[str] | frozenset[str] = frozenset()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group source customer records into entities; returns ``(customer_map, customer_review)``.

    ``customers`` needs ``customer_id, name, customer_type, phone, email, tax_id`` and optionally
    ``_source`` (used with ``priority`` — source name -> number, lower wins — to pick the canonical id).
    Duplicate ``customer_id`` rows are treated as one record. Records of the ``name_sources``
    (mappings with ``merge_customers_on_name``) that carry no tax id, phone or e-mail are merged on
    their normalised company name alone (rule ``name``) with records of the same name from those
    sources; everywhere else a shared name is only a look-alike for review.
    """
    c = customers.drop_duplicates("customer_id").reset_index(drop=True)
    if c.empty:
        return pd.DataFrame(columns=MAP_COLUMNS), pd.DataFrame(columns=REVIEW_COLUMNS)
    uniq = pd.unique(c["name"].dropna())
    name = c["name"].map(dict(zip(uniq, map(normalise_name, uniq))))
    tax = c["tax_id"].map(_norm_tax) if "tax_id" in c else pd.Series(None, index=c.index)
    phone = c["phone"].map(_norm_phone) if "phone" in c else pd.Series(None, index=c.index)
    email = c["email"].map(_norm_email) if "email" in c else pd.Series(None, index=c.index)
    company = (c["customer_type"] == "company") if "customer_type" in c else pd.Series(True, index=c.index)

    uf = _UnionFind(len(c))
    rule = np.full(len(c), "self", dtype=object)
    matched = np.full(len(c), None, dtype=object)
    ids = c["customer_id"].astype(str).to_numpy()
    taxv = tax.to_numpy()

    review = []
    edges: list[tuple[int, int, str]] = []

    def link(pairs: pd.DataFrame, label: str) -> None:
        for i, j in zip(pairs.i.to_numpy(), pairs.j.to_numpy()):
            ti, tj = taxv[i], taxv[j]
            if ti is not None and tj is not None and ti != tj:
                # same name and phone/e-mail but two tax ids: merged (one is mistyped), shown for review
                review.append((ids[i], ids[j], "tax_id_conflict", c["name"].iat[i], c["name"].iat[j]))
            if uf.union(i, j):
                edges.append((i, j, label))

    link(_pairs_on(tax), "tax_id")
    both = name.notna()
    link(_pairs_on((phone + "|" + name).where(phone.notna() & both)), "phone+name")
    link(_pairs_on((email + "|" + name).where(email.notna() & both)), "email+name")
    if name_sources and "_source" in c:
        bare = tax.isna() & phone.isna() & email.isna() & c["_source"].isin(list(name_sources))
        unknown_type = c["customer_type"].isna() if "customer_type" in c else pd.Series(True, index=c.index)
        link(_pairs_on(name.where(bare & both & (company | unknown_type))), "name")

    # weak signals -> review (pairs not already in one group)
    for signal, keys in (("name_only", name.where(company)), ("phone_only", phone), ("email_only", email)):
        pairs = _pairs_on(keys)
        for i, j in zip(pairs.i, pairs.j):
            if uf.find(i) != uf.find(j):
                review.append((ids[i], ids[j], signal, c["name"].iat[i], c["name"].iat[j]))

    roots = np.array([uf.find(i) for i in range(len(c))])
    prio = np.zeros(len(c), dtype=np.int64)
    if priority and "_source" in c:
        prio = c["_source"].map(priority).fillna(99).astype(np.int64).to_numpy()
    order = pd.DataFrame({"root": roots, "prio": prio, "id": ids})
    canon = order.sort_values(["root", "prio", "id"]).groupby("root")["id"].first()
    canonical = canon.reindex(roots).to_numpy()
    # each record's rule: the link that reaches it from the canonical record (a spanning tree walk)
    adj: dict[int, list[tuple[int, str]]] = {}
    for i, j, label in edges:
        adj.setdefault(i, []).append((j, label))
        adj.setdefault(j, []).append((i, label))
    pos = {k: n for n, k in enumerate(ids)}
    for start in {pos[k] for k in canonical[[bool(adj.get(n)) for n in range(len(c))]]}:
        seen, queue = {start}, [start]
        while queue:
            cur = queue.pop(0)
            for nxt, label in adj.get(cur, []):
                if nxt not in seen:
                    seen.add(nxt)
                    rule[nxt], matched[nxt] = label, ids[cur]
                    queue.append(nxt)
    out = pd.DataFrame({"customer_id": ids, "canonical_id": canonical, "rule": rule, "matched_with": matched})
    rev = pd.DataFrame(review, columns=REVIEW_COLUMNS).drop_duplicates(["customer_id", "other_id"])
    return out.sort_values("customer_id").reset_index(drop=True), rev.reset_index(drop=True)
