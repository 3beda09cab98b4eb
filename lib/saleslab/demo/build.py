"""The demo pipeline: world -> sales -> cross-system copies -> exports -> truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import calendar as cal
from . import crm as crm_mod
from . import fmt, regional, sales, world
from .config import LINE_SHARE, LINES_PER_ORDER, N_DAYS, Scale
from .regions import REGION_CODES, REGIONS

TRAFFIC_SOURCES = ("search", "social", "direct", "email", "livestream", "affiliate")
TRAFFIC_P = (0.35, 0.2, 0.25, 0.05, 0.1, 0.05)
MAXC = max(len(v[2]) for v in REGIONS.values())


def _lookup(k):
    t = np.empty((len(REGION_CODES), MAXC), dtype=object)
    for r, code in enumerate(REGION_CODES):
        places = REGIONS[code][2]
        for c in range(MAXC):
            t[r, c] = places[c % len(places)][k]
    return t


PROV_ZH, PROV_PY, CITY_ZH, CITY_PY = (_lookup(k) for k in range(4))


def to_frames(s: sales.Sales) -> tuple[pd.DataFrame, pd.DataFrame]:
    o = pd.DataFrame({"day": s.o_day, "cust": s.o_cust, "sec": s.o_sec, "campaign": s.o_campaign,
                      "amount": s.o_amount, "nlines": s.o_nlines})
    line = pd.DataFrame({"o": s.l_order, "line_no": s.l_no, "product": s.l_product, "qty": s.l_qty,
                         "price": s.l_price, "disc": s.l_disc, "net": s.l_net, "outlier": s.l_outlier})
    return o, line


def order_ids(prefix: str, day: np.ndarray, width: int, offset: int = 0) -> np.ndarray:
    seq = sales.daily_seq(day) + offset
    return prefix + fmt.compact(day) + np.char.zfill(seq.astype(str), width).astype(object)


def merge(o1, l1, o2, l2):
    """Concatenate two (orders, lines) pairs and re-sort by (day, order id)."""
    l2 = l2.assign(o=l2.o + len(o1))
    o = pd.concat([o1, o2], ignore_index=True)
    line = pd.concat([l1, l2], ignore_index=True)
    order = np.lexsort((o.oid.to_numpy().astype(str), o.day.to_numpy()))
    rank = np.empty(len(o), dtype=np.int64)
    rank[order] = np.arange(len(o))
    o = o.iloc[order].reset_index(drop=True)
    line["o"] = rank[line.o.to_numpy()]
    line = line.iloc[np.lexsort((line.line_no.to_numpy(), line.o.to_numpy()))].reset_index(drop=True)
    return o, line


def copy_orders(o_src, l_src, mask):
    """The orders selected by ``mask`` with their lines, re-indexed."""
    idx = np.flatnonzero(mask)
    newpos = np.full(len(o_src), -1)
    newpos[idx] = np.arange(len(idx))
    lm = newpos[l_src.o.to_numpy()] >= 0
    lc = l_src[lm].copy()
    lc["o"] = newpos[lc.o.to_numpy()]
    lc["outlier"] = 0
    return o_src.iloc[idx].reset_index(drop=True), lc.reset_index(drop=True)


class Demo:
    """All simulated data of one run."""

    def __init__(self, sc: Scale, seed: int, say):
        self.sc, self.seed, self.say = sc, seed, say
        rng = self.rng = np.random.default_rng(seed)
        self.planted: dict = {}
        say("world: products, reps, stores, distributors")
        self.products, p = world.make_products(rng, sc.products)
        self.planted.update(p)
        self.reps = world.make_reps(rng, sc.reps)
        self.stores = world.make_stores(rng, sc.stores)
        self.dists, p = world.make_distributors(rng, sc.distributors)
        self.planted.update(p)
        say("world: leads and customers")
        n_won = int(round(sc.crm_companies * N_DAYS / (N_DAYS + world.COMPANY_LIFE)))
        self.leads, p = crm_mod.make_leads(rng, n_won)
        self.planted.update(p)
        won = self.leads[self.leads.won]
        self.companies = world.make_companies(rng, sc.crm_companies, self.reps, won.d_contract.to_numpy())
        self.n_pre = len(self.companies) - n_won
        self.persons = world.make_persons(rng, sc.online_members, sc.pos_members, id_offset=len(self.companies))
        self.records = world.crm_records(rng, self.companies, self.reps, 0.03)
        self.b2b = world.online_b2b_members(rng, self.companies, 0.02)
        self._member_ids()
        self.weights = cal.daily_weights()
        self.campaigns = cal.campaigns()
        self._simulate()
        # regional campaigns with control regions: their own random stream, appended last
        self.regional_campaigns = regional.plant(self)

    # ---- ids ---------------------------------------------------------------------------
    def _member_ids(self):
        rng, P = self.rng, self.persons
        on = np.flatnonzero(P.online.to_numpy())
        reg = np.concatenate([P.created.to_numpy()[on], self.b2b.registered.to_numpy()])
        kind = np.concatenate([np.zeros(len(on), int), np.ones(len(self.b2b), int)])
        ref = np.concatenate([on, np.arange(len(self.b2b))])
        order = np.lexsort((ref, kind, reg))
        mid = np.empty(len(order), dtype=object)
        mid[order] = [f"M{i + 1:07d}" for i in range(len(order))]
        P["member_id"] = ""
        P.loc[on, "member_id"] = mid[: len(on)]
        self.b2b["member_id"] = mid[len(on):]
        pos = np.flatnonzero(P.pos.to_numpy())
        preg = P.created.to_numpy()[pos] + np.where(P.online.to_numpy()[pos], rng.integers(0, 300, len(pos)), 0)
        preg = np.minimum(preg, N_DAYS - 30)
        P["pos_registered"] = -99999
        P.loc[pos, "pos_registered"] = preg
        order = np.lexsort((pos, preg))
        vid = np.empty(len(pos), dtype=object)
        vid[order] = [f"V{i + 1:07d}" for i in range(len(pos))]
        P["card_id"] = ""
        P.loc[pos, "card_id"] = vid
        # home store: a store of the member's region (any store when the region has none)
        st = self.stores
        by_region = [np.flatnonzero(st.region_idx.to_numpy() == r) for r in range(len(REGION_CODES))]
        r = P.region_idx.to_numpy()
        home = np.array([by_region[x][rng.integers(0, len(by_region[x]))] if len(by_region[x]) else rng.integers(0, len(st))
                         for x in r])
        P["home_store"] = home

    # ---- sales -------------------------------------------------------------------------
    def _simulate(self):
        rng, sc, P = self.rng, self.sc, self.persons
        windows = {ch: [(i, (c["start"], c["end"])) for i, c in enumerate(self.campaigns) if c["channel"] == ch]
                   for ch in ("online", "retail", "direct", "distribution")}
        target = {ch: sc.order_lines * LINE_SHARE[ch] / LINES_PER_ORDER[ch] for ch in LINE_SHARE}
        custs = {
            "online": P[P.online].reset_index().rename(columns={"index": "person"}),
            "retail": P[P.pos].reset_index().rename(columns={"index": "person"}),
            "direct": self.companies,
            "distribution": pd.DataFrame({"region_idx": self.dists.region_idx, "created": self.dists.signed_day,
                                          "churn": N_DAYS + 10_000, "rate": self.dists["size"],
                                          "spend": np.clip(self.dists["size"], 0.3, 3) ** 0.3}),
        }
        custs["retail"]["created"] = custs["retail"].pos_registered
        self.custs = custs
        self.S = {}
        for ch in ("online", "retail", "direct", "distribution"):
            self.say(f"simulating {ch} orders")
            s = sales.simulate(rng, ch, custs[ch], self.weights[ch], target[ch], self.products,
                               sales.product_popularity(self.products, ch), windows[ch])
            if ch != "distribution":
                sales.plant_outliers(rng, s, 0.0003)
            sales.finalize(s)
            self.S[ch] = s
        self._decorate()

    def _decorate(self):
        """Per-order attributes: ids, members, stores, reps, regions, traffic sources, copies."""
        rng = self.rng
        P = self.persons
        # online
        o, ln = to_frames(self.S.pop("online"))
        cu = self.custs["online"]
        o["oid"] = order_ids("EC", o.day.to_numpy(), 6)
        o["member"] = cu.member_id.to_numpy()[o.cust]
        r, c = cu.region_idx.to_numpy()[o.cust], cu.city_idx.to_numpy()[o.cust]
        style = rng.random(len(o))
        o["province"] = np.where(style < 0.75, PROV_ZH[r, c], np.where(style < 0.9, PROV_PY[r, c], PROV_ZH[r, c] + "省"))
        o["province"] = np.where(np.isin(o.province, ["北京省", "天津省", "上海省", "重庆省"]), PROV_ZH[r, c] + "市", o.province)
        o["city"] = CITY_ZH[r, c]
        o["region"] = r
        src = rng.choice(len(TRAFFIC_SOURCES), size=len(o), p=TRAFFIC_P)
        csrc = np.array([TRAFFIC_SOURCES.index(c["source"]) if c["source"] in TRAFFIC_SOURCES else 0
                         for c in self.campaigns])
        camp = o.campaign.to_numpy()
        o["source"] = np.where(camp >= 0, csrc[np.maximum(camp, 0)], src)
        o["with_time"] = rng.random(len(o)) < 0.7
        o["copy_of"] = ""
        self.O = {"online": o}
        self.L = {"online": ln}
        # retail
        o, ln = to_frames(self.S.pop("retail"))
        cu = self.custs["retail"]
        o["oid"] = order_ids("PS", o.day.to_numpy(), 6)
        anon = rng.random(len(o)) < 0.012
        o["member"] = np.where(anon, "", cu.card_id.to_numpy()[o.cust])
        home = cu.home_store.to_numpy()[o.cust]
        st = self.stores
        other = rng.integers(0, len(st), len(o))
        o["store"] = np.where(rng.random(len(o)) < 0.9, home, other)
        o["region"] = st.region_idx.to_numpy()[o.store]
        self.O["retail"], self.L["retail"] = o, ln
        # distribution
        o, ln = to_frames(self.S.pop("distribution"))
        o["oid"] = order_ids("DS", o.day.to_numpy(), 4)
        o["dist"] = o.cust
        o["region"] = self.dists.region_idx.to_numpy()[o.cust]
        o["serial_date"] = rng.random(len(o)) < 0.5
        self.O["distribution"], self.L["distribution"] = o, ln
        # direct (ERP): record ids (duplicates take over part of the orders), reps, regions
        o, ln = to_frames(self.S.pop("direct"))
        rec = self.records
        ent = o.cust.to_numpy()
        orig_rec = np.empty(len(self.companies), dtype=np.int64)
        is_orig = rec.variant.to_numpy() == "original"
        orig_rec[rec.entity.to_numpy()[is_orig]] = np.flatnonzero(is_orig)
        dup_rec = np.full(len(self.companies), -1)
        dup_day = np.full(len(self.companies), 10 ** 9)
        dpos = np.flatnonzero(~is_orig)
        dup_rec[rec.entity.to_numpy()[dpos]] = dpos
        dup_day[rec.entity.to_numpy()[dpos]] = rec.created.to_numpy()[dpos]
        use_dup = (dup_rec[ent] >= 0) & (o.day.to_numpy() >= dup_day[ent]) & (rng.random(len(o)) < 0.5)
        o["record"] = np.where(use_dup, dup_rec[ent], orig_rec[ent])
        o["customer"] = rec.record_id.to_numpy()[o.record]
        o["rep"] = self.companies.owner_rep.to_numpy()[ent]
        o["region"] = self.companies.region_idx.to_numpy()[ent]
        o["oid"] = order_ids("SO", o.day.to_numpy(), 5)
        o["kind"] = "direct"
        o["dist"] = -1
        o["ext_ref"] = ""
        # B2B platform orders: placed on the web shop, also booked in the ERP
        b2b = self.b2b
        plat_member = np.full(len(self.companies), "", dtype=object)
        plat_member[b2b.entity.to_numpy()] = b2b.member_id.to_numpy()
        plat_day = np.full(len(self.companies), 10 ** 9)
        plat_day[b2b.entity.to_numpy()] = b2b.registered.to_numpy()
        plat = (plat_member[ent] != "") & (o.day.to_numpy() >= plat_day[ent]) & (rng.random(len(o)) < 0.4)
        oc, lc = copy_orders(o, ln, plat)
        oc["copy_of"] = oc.oid
        oc["oid"] = order_ids("EC", oc.day.to_numpy(), 6, offset=900_000)
        oc["member"] = plat_member[oc.cust.to_numpy()]
        r, c = self.companies.region_idx.to_numpy()[oc.cust], self.companies.city_idx.to_numpy()[oc.cust]
        oc["province"], oc["city"], oc["region"] = PROV_ZH[r, c], CITY_ZH[r, c], r
        oc["source"] = TRAFFIC_SOURCES.index("direct")
        oc["campaign"] = -1
        oc["with_time"] = rng.random(len(oc)) < 0.5
        oc["has_ref"] = rng.random(len(oc)) < 0.7
        ref = pd.Series(oc.oid.to_numpy(), index=oc.copy_of.to_numpy())
        has_ref = pd.Series(oc.has_ref.to_numpy(), index=oc.copy_of.to_numpy())
        o.loc[plat, "ext_ref"] = np.where(has_ref[o.oid[plat]].to_numpy(), ref[o.oid[plat]].to_numpy(), "")
        self.platform_copies = oc[["oid", "copy_of", "has_ref", "day"]].copy()
        keep = ["day", "cust", "sec", "campaign", "amount", "nlines", "oid", "member", "province", "city",
                "region", "source", "with_time", "copy_of"]
        self.O["online"], self.L["online"] = merge(self.O["online"], self.L["online"], oc[keep], lc)
        # distributor orders also booked in the ERP
        od, ld = self.O["distribution"], self.L["distribution"]
        dmask = rng.random(len(od)) < 0.02
        oc, lc = copy_orders(od, ld, dmask)
        oc["copy_of"] = oc.oid
        oc["oid"] = order_ids("SO", oc.day.to_numpy(), 4, offset=80_000)
        oc["has_ref"] = rng.random(len(oc)) < 0.8
        oc["ext_ref"] = np.where(oc.has_ref, oc.copy_of, "")
        oc["customer"] = self.dists.distributor_id.to_numpy()[oc.dist]
        oc["rep"] = -1
        oc["kind"] = "distribution"
        oc["record"] = -1
        self.erp_dist_copies = oc[["oid", "copy_of", "has_ref", "day"]].copy()
        o["copy_of"] = ""
        cols = ["day", "cust", "sec", "campaign", "amount", "nlines", "oid", "customer", "rep", "region", "kind",
                "dist", "ext_ref", "copy_of", "record"]
        self.O["direct"], self.L["direct"] = merge(o[cols], ln, oc[cols], lc)
        self.direct_genuine = self.O["direct"].kind.to_numpy() == "direct"
