"""The raw exports of each system (see the module docstring of :mod:`saleslab.demo`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import crm as crm_mod
from . import finance, fmt
from .build import CITY_ZH, PROV_ZH, TRAFFIC_SOURCES
from .config import EXPORT_STAMP, N_DAYS
from .mess import FIELD_COUNT, bad_date, missing_id, non_numeric, write_xlsx
from .regions import REGION_CODES, REGIONS, region_text
from .writers import DUP_RATE, ERR_RATE, Ctx, emit

GBK = dict(encoding="gbk", lineterminator="\r\n")
BOM = dict(encoding="utf-8-sig")


def _idx(a, i):
    return np.asarray(a, dtype=object)[np.asarray(i)]


def _blank_neg(ids, idx):
    idx = np.asarray(idx)
    out = np.asarray(ids, dtype=object)[np.maximum(idx, 0)]
    return np.where(idx >= 0, out, "")


# ---- CRM -------------------------------------------------------------------------------------
def write_crm(ctx: Ctx, d) -> None:
    rng = np.random.default_rng([ctx.seed, 101])
    rec, reps, dists = d.records, d.reps, d.dists
    rep_ids = reps.rep_id.to_numpy()
    n = len(rec)
    dreg = region_text(dists.region_idx.to_numpy(), dists.city_idx.to_numpy(), rng)
    cust = pd.DataFrame({
        "客户编号": np.concatenate([rec.record_id, dists.distributor_id]),
        "客户名称": np.concatenate([rec.name, dists.name]),
        "客户类型": ["企业"] * n + ["经销商"] * len(dists),
        "行业": np.concatenate([rec.industry_cell, np.full(len(dists), "零售业", dtype=object)]),
        "员工数": np.concatenate([fmt.ints(rec.employees), fmt.ints(rng.integers(10, 200, len(dists)))]),
        "区域": np.concatenate([rec.region_cell, dreg]),
        "城市": np.concatenate([rec.city, dists.city]),
        "地址": np.concatenate([rec.address, dists.city + "市商贸城" + fmt.ints(rng.integers(1, 300, len(dists))) + "号"]),
        "电话": np.concatenate([rec.phone, [f"0{rng.integers(10, 99)}-{rng.integers(10_000_000, 99_999_999)}" for _ in range(len(dists))]]),
        "邮箱": np.concatenate([rec.email, np.full(len(dists), "", dtype=object)]),
        "统一社会信用代码": np.concatenate([rec.tax_id, np.full(len(dists), "", dtype=object)]),
        "负责人": np.concatenate([rep_ids[rec.owner_rep.to_numpy()], np.full(len(dists), "", dtype=object)]),
        "获客渠道": np.concatenate([rec.acq, np.full(len(dists), "经销", dtype=object)]),
        "创建日期": np.concatenate([fmt.iso(rec.created), fmt.iso(dists.signed_day)]),
    })
    cols = {c: cust[c].to_numpy() for c in cust.columns}
    emit(ctx, "crm/customers.csv", cols, len(cust), **BOM, errors=[missing_id("客户名称", "name")],
         error_rate=0.001)

    # contacts: 1-3 per record
    k = rng.integers(1, 4, n)
    ci = np.repeat(np.arange(n), k)
    titles = np.array(["采购经理", "总经理", "财务", "行政主管", "采购专员", "店长"], dtype=object)
    emit(ctx, "crm/contacts.csv", {
        "联系人编号": np.array([f"CT{i + 1:07d}" for i in range(len(ci))], dtype=object),
        "客户编号": rec.record_id.to_numpy()[ci],
        "姓名": _names(rng, len(ci)),
        "职务": titles[rng.integers(0, len(titles), len(ci))],
        "手机": _phones(rng, len(ci)),
        "邮箱": np.where(rng.random(len(ci)) < 0.6, _emails(rng, len(ci)), ""),
    }, len(ci), **BOM)

    emit(ctx, "crm/reps.csv", {
        "销售编号": rep_ids,
        "姓名": reps.name.to_numpy(),
        "团队": reps.team.to_numpy(),
        "区域": np.array([REGIONS[c][0] if rng.random() < 0.7 else REGIONS[c][1] for c in reps.region], dtype=object),
        "入职日期": fmt.iso(reps.hire_day),
    }, len(reps), **BOM)

    _write_leads(ctx, d, rng)
    _write_followups(ctx, d, rng)


def _names(rng, n):
    from .names import person_names

    return person_names(rng, n)


def _phones(rng, n):
    from .names import phones

    return phones(rng, n)


def _emails(rng, n):
    from .names import emails

    return emails(rng, n)


def _write_leads(ctx, d, rng):
    L = d.leads.copy()
    n_won = int(L.won.sum())
    comp_rec = np.empty(len(d.companies), dtype=object)
    orig = d.records[d.records.variant == "original"]
    comp_rec[orig.entity.to_numpy()] = orig.record_id.to_numpy()
    ent = np.where(L.won, np.arange(len(L)) + d.n_pre, -1)
    L["customer"] = np.where(ent >= 0, comp_rec[np.maximum(ent, 0)], "")
    rep_ids = d.reps.rep_id.to_numpy()
    owner = d.companies.owner_rep.to_numpy()
    L["rep"] = np.where(ent >= 0, rep_ids[owner[np.maximum(ent, 0)]], rep_ids[rng.integers(0, len(rep_ids), len(L))])
    ind = d.companies.industry.to_numpy()
    rnd_ind = np.array(["制造业", "零售业", "服务业"], dtype=object)[rng.integers(0, 3, len(L))]
    L["industry"] = np.where(ent >= 0, ind[np.maximum(ent, 0)], np.where(rng.random(len(L)) < 0.08, "", rnd_ind))
    # repeat stage: the new customer's second direct order
    o = d.O["direct"][d.direct_genuine]
    second = o.groupby("cust").day.nth(1)
    rep_day = np.full(len(d.companies), -99999)
    rep_day[o.loc[second.index, "cust"].to_numpy()] = second.to_numpy()
    L["d_repeat"] = np.where(ent >= 0, rep_day[np.maximum(ent, 0)], -99999)
    L["lost_day"] = np.where(L.won, -99999, L.lost_day)
    L = L.iloc[np.argsort(L.d_lead.to_numpy(), kind="stable")].reset_index(drop=True)
    L["lead_id"] = [f"L{i + 1:07d}" for i in range(len(L))]
    end = N_DAYS - 1
    # stage history
    parts = []
    for st, col in (("lead", "d_lead"), ("needs", "d_needs"), ("proposal", "d_proposal"),
                    ("contract", "d_contract"), ("repeat", "d_repeat"), ("lost", "lost_day")):
        day = L[col].to_numpy()
        m = (day >= -400) & (day <= end)
        parts.append(pd.DataFrame({"lead": L.lead_id.to_numpy()[m], "stage": st, "day": day[m]}))
    S = pd.concat(parts, ignore_index=True)
    rank = {s: i for i, s in enumerate(crm_mod.STAGES)}
    S = S.iloc[np.lexsort((S.stage.map(rank).to_numpy(), S.lead.to_numpy().astype(str)))].reset_index(drop=True)
    cur = S.groupby("lead", sort=False).stage.last()
    L["stage"] = cur.reindex(L.lead_id).to_numpy()
    L = L[L.d_lead <= end].reset_index(drop=True)
    emit(ctx, "crm/leads.csv", {
        "线索编号": L.lead_id.to_numpy(), "客户编号": L.customer.to_numpy(), "线索来源": L.source.to_numpy(),
        "销售编号": L.rep.to_numpy(), "行业": L.industry.to_numpy(), "创建日期": fmt.iso(L.d_lead),
        "当前阶段": np.array([crm_mod.STAGE_ZH[s] for s in L.stage], dtype=object),
        "预计金额": fmt.cents(L.expected.to_numpy() * 100),
    }, len(L), **BOM)
    emit(ctx, "crm/lead_stages.csv", {
        "线索编号": S.lead.to_numpy(), "阶段": np.array([crm_mod.STAGE_ZH[s] for s in S.stage], dtype=object),
        "进入日期": fmt.iso(S.day),
    }, len(S), **BOM)
    d.lead_table = L


def _write_followups(ctx, d, rng):
    C = d.companies
    c, day, kind = crm_mod.followup_events(rng, C.created.to_numpy(), C.churn.to_numpy())
    orig = d.records[d.records.variant == "original"]
    comp_rec = np.empty(len(C), dtype=object)
    comp_rec[orig.entity.to_numpy()] = orig.record_id.to_numpy()
    rep_ids = d.reps.rep_id.to_numpy()
    F = pd.DataFrame({"cust": comp_rec[c], "lead": "", "rep": rep_ids[C.owner_rep.to_numpy()[c]], "day": day, "kind": kind})
    # lead follow-ups: one at each stage entered before contract
    L = d.lead_table
    lf = []
    for col in ("d_lead", "d_needs", "d_proposal"):
        dd = L[col].to_numpy() + 1
        m = (dd >= 0) & (dd < N_DAYS)
        lf.append(pd.DataFrame({"cust": L.customer.to_numpy()[m], "lead": L.lead_id.to_numpy()[m],
                                "rep": L.rep.to_numpy()[m], "day": dd[m],
                                "kind": np.where(rng.random(int(m.sum())) < 0.5, "visit", "call")}))
    F = pd.concat([F] + lf, ignore_index=True)
    F = F.iloc[np.lexsort((F.cust.to_numpy().astype(str), F.day.to_numpy()))].reset_index(drop=True)
    content = np.empty(len(F), dtype=object)
    for k, texts in crm_mod.CONTENT.items():
        m = F.kind.to_numpy() == k
        content[m] = np.array(texts, dtype=object)[rng.integers(0, len(texts), int(m.sum()))]
    emit(ctx, "crm/followups.csv", {
        "跟进编号": np.array([f"F{i + 1:08d}" for i in range(len(F))], dtype=object),
        "客户编号": F.cust.to_numpy(), "线索编号": F.lead.to_numpy(), "销售编号": F.rep.to_numpy(),
        "跟进日期": fmt.iso(F.day), "跟进方式": np.array([crm_mod.KINDS_ZH[k] for k in F.kind], dtype=object),
        "跟进内容": content,
    }, len(F), **BOM, errors=[bad_date("跟进日期", "followup_date")], error_rate=0.001)


# ---- ERP -------------------------------------------------------------------------------------
def write_erp(ctx: Ctx, d) -> None:
    rng = np.random.default_rng([ctx.seed, 202])
    P = d.products
    pid = P.product_id.to_numpy()
    pname = P.name.to_numpy()
    o, ln = d.O["direct"], d.L["direct"]
    years = fmt.year(o.day.to_numpy())
    reg_txt = region_text(o.region.to_numpy(), rng.integers(0, 3, len(o)) % np.array([len(REGIONS[c][2]) for c in REGION_CODES])[o.region.to_numpy()],
                          rng, weights=(0.7, 0.05, 0.15, 0.05, 0.05, 0.0))
    reg_txt[rng.random(len(o)) < 0.01] = ""
    rep_ids = d.reps.rep_id.to_numpy()
    dist_ids = d.dists.distributor_id.to_numpy()
    watch_o = (o.copy_of.to_numpy() != "") | (o.ext_ref.to_numpy() != "") | np.isin(o.oid.to_numpy(), d.platform_copies.copy_of.to_numpy())
    o_names = np.concatenate([d.records.name.to_numpy(), d.dists.name.to_numpy()])
    name_idx = np.where(o.kind.to_numpy() == "direct", o.record.to_numpy(), len(d.records) + np.maximum(o.dist.to_numpy(), 0))
    for y in (2023, 2024, 2025):
        sel = np.flatnonzero(years == y)
        oy = o.iloc[sel]
        emit(ctx, f"erp/orders_{y}.csv", {
            "订单编号": oy.oid.to_numpy(), "下单日期": fmt.slash(oy.day),
            "客户编号": oy.customer.to_numpy(), "客户名称": o_names[name_idx[sel]],
            "销售编号": _blank_neg(rep_ids, oy.rep), "区域": reg_txt[sel],
            "销售类型": np.where(oy.kind == "direct", "直销", "经销"),
            "经销商编号": _blank_neg(dist_ids, oy.dist), "外部单号": oy.ext_ref.to_numpy(),
            "订单金额": fmt.cents(oy.amount),
        }, len(oy), **GBK, protect=watch_o[sel], watch=watch_o[sel], order_ids=oy.oid.to_numpy(),
            errors=[bad_date("下单日期", "order_date"), missing_id("订单编号", "order_id"), FIELD_COUNT],
            error_rate=ERR_RATE, dup_rate=DUP_RATE)
        lsel = np.flatnonzero(np.isin(ln.o.to_numpy(), sel))
        ly = ln.iloc[lsel]
        lo = ly.o.to_numpy()
        emit(ctx, f"erp/order_lines_{y}.csv", {
            "订单编号": o.oid.to_numpy()[lo], "行号": fmt.ints(ly.line_no), "产品编码": pid[ly["product"]],
            "产品名称": pname[ly["product"]], "数量": fmt.ints(ly.qty), "单价": fmt.cents(ly.price),
            "折扣": fmt.cents(ly.disc), "金额": fmt.cents(ly.net),
        }, len(ly), **GBK, protect=(ly.outlier.to_numpy() > 0) | watch_o[lo], watch=watch_o[lo],
            order_ids=o.oid.to_numpy()[lo], line_no=ly.line_no.to_numpy(), outlier=ly.outlier.to_numpy(),
            errors=[non_numeric("数量", "quantity"), missing_id("产品编码", "product_id"),
                    non_numeric("金额", "net_amount"), FIELD_COUNT],
            error_rate=ERR_RATE, dup_rate=DUP_RATE)

    inv, pay = finance.erp_invoices(rng, d)
    emit(ctx, "erp/invoices.csv", {
        "发票号": inv.invoice_id.to_numpy(), "订单编号": inv.oid.to_numpy(), "客户编号": inv.customer.to_numpy(),
        "开票日期": fmt.slash(inv.day), "到期日": fmt.slash(inv.due), "发票金额": fmt.cents(inv.amount),
    }, len(inv), **GBK, errors=[bad_date("开票日期", "invoice_date")], error_rate=0.001)
    emit(ctx, "erp/payments.csv", {
        "回款单号": pay.payment_id.to_numpy(), "发票号": pay.invoice_id.to_numpy(), "客户编号": pay.customer.to_numpy(),
        "回款日期": fmt.slash(pay.day), "回款金额": fmt.cents(pay.amount),
    }, len(pay), **GBK, errors=[non_numeric("回款金额", "amount")], error_rate=0.001)
    d.erp_inv, d.erp_pay = inv, pay
    r = finance.returns(rng, d)
    emit(ctx, "erp/returns.csv", {
        "退货单号": r.return_id.to_numpy(), "原订单编号": r.oid.to_numpy(), "产品编码": pid[r["product"]],
        "退货日期": fmt.slash(r.day), "退货数量": fmt.ints(r.qty), "退款金额": fmt.cents(r.amount),
    }, len(r), **GBK, errors=[bad_date("退货日期", "return_date")], error_rate=0.001)
    d.returns = r
    inv_s = finance.inventory(rng, d)
    emit(ctx, "erp/inventory.csv", {
        "快照日期": fmt.slash(inv_s.day), "产品编码": pid[inv_s["product"]], "仓库": inv_s.warehouse.to_numpy(),
        "库存数量": fmt.ints(inv_s.qty),
    }, len(inv_s), **GBK)
    d.inventory = inv_s
    rows = [["产品主数据 导出时间 " + EXPORT_STAMP[:10]], [f"单位：元    共 {len(P)} 条"],
            ["产品编码", "产品名称", "品类", "标准售价", "单位成本", "上市日期"]]
    for i in range(len(P)):
        rows.append([pid[i], pname[i], P.category[i], float(P.list_price[i]), float(P.unit_cost[i]),
                     fmt.to_date(P.launch_day[i])])
    write_xlsx(ctx.exports, "erp/products.xlsx", [("产品", rows)], ctx.truth, len(P))


# ---- POS -------------------------------------------------------------------------------------
def write_pos(ctx: Ctx, d) -> None:
    rng = np.random.default_rng([ctx.seed, 303])
    P, st = d.products, d.stores
    o, ln = d.O["retail"], d.L["retail"]
    store_reg = region_text(st.region_idx.to_numpy(), st.city_idx.to_numpy(), rng, weights=(0.6, 0.0, 0.1, 0.1, 0.2, 0.0))
    camp_ids = np.array([c["campaign_id"] for c in d.campaigns], dtype=object)
    months = fmt.month(o.day.to_numpy())
    labels, mcode = np.unique(months, return_inverse=True)
    lo_all = ln.o.to_numpy()
    lmonth = mcode[lo_all]
    starts = np.searchsorted(lmonth, np.arange(len(labels) + 1))  # lines are sorted by day
    for k, mon in enumerate(labels):
        lsel = np.arange(starts[k], starts[k + 1])
        ly = ln.iloc[lsel]
        lo = lo_all[lsel]
        oo = o.iloc[lo]
        emit(ctx, f"pos/pos_{mon.replace('-', '')}.csv", {
            "小票号": oo.oid.to_numpy(), "交易日期": fmt.compact(oo.day), "交易时间": fmt.hms(oo.sec),
            "门店编号": st.store_id.to_numpy()[oo.store], "门店名称": st.name.to_numpy()[oo.store],
            "区域": store_reg[oo.store.to_numpy()], "会员卡号": oo.member.to_numpy(),
            "促销活动": _blank_neg(camp_ids, oo.campaign), "行号": fmt.ints(ly.line_no),
            "商品编码": P.product_id.to_numpy()[ly["product"]], "商品名称": P.name.to_numpy()[ly["product"]],
            "数量": fmt.ints(ly.qty), "单价": fmt.cents(ly.price), "折扣金额": fmt.cents(ly.disc),
            "实收金额": fmt.cents(ly.net), "小票金额": fmt.cents(oo.amount),
        }, len(ly), **BOM, protect=ly.outlier.to_numpy() > 0, order_ids=oo.oid.to_numpy(),
            line_no=ly.line_no.to_numpy(), outlier=ly.outlier.to_numpy(),
            errors=[bad_date("交易日期", "order_date"), missing_id("商品编码", "product_id"),
                    non_numeric("数量", "quantity"), missing_id("小票号", "order_id"), FIELD_COUNT],
            error_rate=ERR_RATE, dup_rate=DUP_RATE)
    Pp = d.persons[d.persons.pos].sort_values("card_id")
    r, c = Pp.region_idx.to_numpy(), Pp.city_idx.to_numpy()
    emit(ctx, "pos/members.csv", {
        "会员卡号": Pp.card_id.to_numpy(), "姓名": Pp.name.to_numpy(), "性别": Pp.gender.to_numpy(),
        "手机号": Pp.phone.to_numpy(), "城市": CITY_ZH[r, c],
        "区域": region_text(r, c, rng, weights=(0.5, 0.0, 0.2, 0.1, 0.2, 0.0)),
        "注册日期": fmt.slash(Pp.pos_registered), "注册门店": st.store_id.to_numpy()[Pp.home_store],
    }, len(Pp), **BOM)
    emit(ctx, "pos/stores.csv", {
        "门店编号": st.store_id.to_numpy(), "门店名称": st.name.to_numpy(), "城市": st.city.to_numpy(),
        "区域": store_reg, "开业日期": fmt.slash(st.open_day),
    }, len(st), **BOM)


# ---- e-commerce --------------------------------------------------------------------------------
def write_ecommerce(ctx: Ctx, d) -> None:
    rng = np.random.default_rng([ctx.seed, 404])
    P = d.products
    o, ln = d.O["online"], d.L["online"]
    camp_ids = np.array([c["campaign_id"] for c in d.campaigns], dtype=object)
    years = fmt.year(o.day.to_numpy())
    lo_all = ln.o.to_numpy()
    ly_all = years[lo_all]
    copy = o.copy_of.to_numpy() != ""
    t_full = fmt.iso(o.day) + " " + fmt.hms(o.sec)
    otime = np.where(o.with_time.to_numpy(), t_full, fmt.iso(o.day))
    for y in (2023, 2024, 2025):
        lsel = np.flatnonzero(ly_all == y)
        ly = ln.iloc[lsel]
        lo = lo_all[lsel]
        oo = o.iloc[lo]
        emit(ctx, f"ecommerce/orders_{y}.csv", {
            "order_no": oo.oid.to_numpy(), "order_time": otime[lo], "member_id": oo.member.to_numpy(),
            "ship_province": oo.province.to_numpy(), "ship_city": oo.city.to_numpy(),
            "traffic_source": np.array(TRAFFIC_SOURCES, dtype=object)[oo.source.to_numpy()],
            "campaign_id": _blank_neg(camp_ids, oo.campaign), "item_no": fmt.ints(ly.line_no),
            "sku": P.product_id.to_numpy()[ly["product"]], "product_name": P.name.to_numpy()[ly["product"]],
            "qty": fmt.ints(ly.qty), "price": fmt.cents(ly.price), "discount": fmt.cents(ly.disc),
            "item_amount": fmt.cents(ly.net), "order_total": fmt.cents(oo.amount),
        }, len(ly), protect=(ly.outlier.to_numpy() > 0) | copy[lo], watch=copy[lo], order_ids=oo.oid.to_numpy(),
            line_no=ly.line_no.to_numpy(), outlier=ly.outlier.to_numpy(),
            errors=[bad_date("order_time", "order_date"), missing_id("sku", "product_id"),
                    non_numeric("qty", "quantity"), FIELD_COUNT],
            error_rate=ERR_RATE, dup_rate=DUP_RATE)
    # members: persons and B2B buyers
    Pn = d.persons[d.persons.online]
    b = d.b2b
    r = np.concatenate([Pn.region_idx, b.region_idx])
    c = np.concatenate([Pn.city_idx, b.city_idx])
    M = pd.DataFrame({
        "member_id": np.concatenate([Pn.member_id, b.member_id]),
        "member_name": np.concatenate([Pn.name, b.name]),
        "member_type": ["personal"] * len(Pn) + ["business"] * len(b),
        "gender": np.concatenate([np.where(Pn.gender == "女", "F", "M"), np.full(len(b), "", dtype=object)]),
        "mobile": np.concatenate([Pn.phone, b.phone]),
        "email": np.concatenate([np.where(rng.random(len(Pn)) < 0.4, Pn.email, ""), b.email]),
        "province": PROV_ZH[r, c], "city": CITY_ZH[r, c],
        "register_date": fmt.iso(np.concatenate([Pn.created, b.registered])),
        "tax_no": np.concatenate([np.full(len(Pn), "", dtype=object), b.tax_id]),
    }).sort_values("member_id")
    emit(ctx, "ecommerce/members.csv", {k: M[k].to_numpy() for k in M.columns}, len(M))
    T = finance.traffic(rng, d)
    emit(ctx, "ecommerce/traffic.csv", {
        "date": fmt.iso(T.day), "traffic_source": T.source.to_numpy(), "visits": fmt.ints(T.visits),
        "clicks": fmt.ints(T.clicks), "orders": fmt.ints(T.orders),
    }, len(T))


# ---- distributors ----------------------------------------------------------------------------
def write_distributor(ctx: Ctx, d) -> None:
    rng = np.random.default_rng([ctx.seed, 505])
    P, D = d.products, d.dists
    o, ln = d.O["distribution"], d.L["distribution"]
    dreg = region_text(D.region_idx.to_numpy(), D.city_idx.to_numpy(), rng)
    emit(ctx, "distributor/distributors.csv", {
        "经销商编号": D.distributor_id.to_numpy(), "经销商名称": D.name.to_numpy(), "区域": dreg,
        "城市": D.city.to_numpy(), "签约日期": fmt.slash(D.signed_day), "信用额度(万元)": fmt.ints(D.credit_wan),
    }, len(D), **BOM)
    years = fmt.year(o.day.to_numpy())
    odate = np.where(o.serial_date.to_numpy(), fmt.serial(o.day), fmt.slash(o.day))
    watch = np.isin(o.oid.to_numpy(), d.erp_dist_copies.copy_of.to_numpy())
    lo_all = ln.o.to_numpy()
    for y in (2023, 2024, 2025):
        lsel = np.flatnonzero(years[lo_all] == y)
        ly = ln.iloc[lsel]
        lo = lo_all[lsel]
        oo = o.iloc[lo]
        emit(ctx, f"distributor/sell_in_{y}.csv", {
            "单号": oo.oid.to_numpy(), "日期": odate[lo], "经销商编号": D.distributor_id.to_numpy()[oo.dist],
            "区域": dreg[oo.dist.to_numpy()], "行号": fmt.ints(ly.line_no),
            "产品编码": P.product_id.to_numpy()[ly["product"]], "产品名称": P.name.to_numpy()[ly["product"]],
            "数量": fmt.ints(ly.qty), "单价(万元)": fmt.wan(ly.price), "折扣(万元)": fmt.wan(ly.disc),
            "金额(万元)": fmt.wan(ly.net), "订单金额(万元)": fmt.wan(oo.amount),
        }, len(ly), **BOM, protect=watch[lo], watch=watch[lo], order_ids=oo.oid.to_numpy(),
            errors=[bad_date("日期", "order_date"), missing_id("单号", "order_id"),
                    non_numeric("数量", "quantity"), FIELD_COUNT],
            error_rate=ERR_RATE, dup_rate=DUP_RATE)
    inv, pay = finance.dist_receivables(rng, d)
    emit(ctx, "distributor/receivables.csv", {
        "发票号": inv.invoice_id.to_numpy(), "经销商编号": inv.dist.to_numpy(), "关联单号": inv.oid.to_numpy(),
        "开票日期": fmt.slash(inv.day), "到期日": fmt.slash(inv.due), "应收金额(万元)": fmt.wan(inv.amount),
    }, len(inv), **BOM)
    emit(ctx, "distributor/collections.csv", {
        "回款编号": pay.payment_id.to_numpy(), "发票号": pay.invoice_id.to_numpy(), "经销商编号": pay.dist.to_numpy(),
        "回款日期": fmt.slash(pay.day), "回款金额(万元)": fmt.wan(pay.amount),
    }, len(pay), **BOM)
    d.dist_inv, d.dist_pay = inv, pay


# ---- marketing and targets ---------------------------------------------------------------------
def write_marketing(ctx: Ctx, d) -> dict:
    rng = np.random.default_rng([ctx.seed, 606])
    rows = finance.campaign_stats(rng, d)
    header = ["活动编号", "活动名称", "渠道", "投放区域", "开始日期", "结束日期", "投入金额", "访问量", "点击量", "转化数"]
    write_xlsx(ctx.exports, "marketing/campaigns.xlsx", [("活动明细", [header] + [list(r) for r in rows])],
               ctx.truth, len(rows))
    cost_rows, planted = finance.channel_costs(rng, d)
    cr = pd.DataFrame(cost_rows, columns=["月份", "渠道", "费用类型", "金额"])
    emit(ctx, "marketing/channel_costs.csv", {
        "月份": cr["月份"].to_numpy(), "渠道": cr["渠道"].to_numpy(), "费用类型": cr["费用类型"].to_numpy(),
        "金额": fmt.cents(np.rint(cr["金额"].to_numpy() * 100)),
    }, len(cr), **BOM)
    return planted


def write_targets(ctx: Ctx, d) -> dict:
    rng = np.random.default_rng([ctx.seed, 707])
    rows, planted = finance.targets(rng, d)
    header = ["月份", "层级", "对象编号", "对象名称", "目标金额"]
    write_xlsx(ctx.exports, "targets/targets.xlsx", [("月度目标", [header] + [list(r) for r in rows])],
               ctx.truth, len(rows))
    return planted
