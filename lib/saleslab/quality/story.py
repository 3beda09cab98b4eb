"""The data-quality stage's generated narrative: is the accounting complete, is coverage on target,
what the cleaning layer changed, and what needs a person."""

from __future__ import annotations

import pandas as pd

from ..report.i18n import t


def quality_narrative(headlines: dict, target_table: pd.DataFrame, resolution: dict, trend: pd.DataFrame,
                      lang: str) -> str:
    """Four findings from :func:`saleslab.quality.quality_headlines`,
    :func:`~saleslab.quality.coverage_vs_target`, :func:`~saleslab.quality.resolution_totals` and
    :func:`~saleslab.quality.quality_trend`."""
    zh = lang == "zh-CN"
    h = headlines
    read = h["rows_read"]
    share = (h["rows_quarantined"] / read) if read else 0.0
    below = target_table[~target_table["meets_target"]]
    target = float(target_table["target"].iloc[0]) if len(target_table) else 0.98
    sep = "、" if zh else ", "
    lines = []
    if zh:
        check = ("每个文件均满足 读取 = 入库 + 合并 + 隔离" if h["unbalanced_files"] == 0
                 else f"**{h['unbalanced_files']} 个文件行数不平衡**，请检查")
        if h.get("untraced_files"):
            check += f"；**{h['untraced_files']} 个文件**的未入库行无法在隔离表或合并表中全部查到"
        lines.append(f"1. 共读取 **{read:,}** 行：入库 {h['rows_loaded']:,}，合并重复 {h['rows_merged']:,}，"
                     f"隔离 {h['rows_quarantined']:,}（{share:.2%}）；{check}。")
        if len(below):
            worst = sep.join(f"{t(m, lang)} {c:.2%}（需补全 {n:,} 行）" for m, c, n in
                             zip(below["coverage_measure"], below["coverage"], below["lines_to_fix"]))
            lines.append(f"2. 数据覆盖率未达 {target:.0%} 目标：**{worst}**。")
        else:
            lines.append(f"2. 四项数据覆盖率均达到 {target:.0%} 目标，最低为 {t(h['coverage_measure'], lang)} "
                         f"**{h['coverage']:.2%}**。")
        lines.append(f"3. {resolution['records']:,} 条客户记录归并为 **{resolution['customers']:,}** 个客户；"
                     f"{resolution['review_pairs']:,} 对相似客户待人工核对；填补 {h['values_filled']:,} 个缺失值，"
                     f"标记 {h['outliers_flagged']:,} 行异常订单行（未删除）。")
        if len(trend) <= 1:
            lines.append("4. 目前只有一次入库记录，趋势需在后续入库后才能比较。")
        else:
            p, c = trend.iloc[-2], trend.iloc[-1]
            lines.append(f"4. 与上次入库相比：隔离比例 {p['quarantined_share']:.2%} → {c['quarantined_share']:.2%}，"
                         f"合并重复 {int(p['rows_merged']):,} → {int(c['rows_merged']):,} 行。")
    else:
        check = ("every file balances: read = loaded + merged + quarantined" if h["unbalanced_files"] == 0
                 else f"**{h['unbalanced_files']} files do not balance** and need checking")
        if h.get("untraced_files"):
            check += (f"; in **{h['untraced_files']} files** not every row that was not loaded can be found in "
                      f"the quarantine or merged table")
        lines.append(f"1. **{read:,}** rows read: {h['rows_loaded']:,} loaded, {h['rows_merged']:,} merged as "
                     f"duplicates, {h['rows_quarantined']:,} quarantined ({share:.2%}); {check}.")
        if len(below):
            worst = sep.join(f"{t(m, lang)} {c:.2%} ({n:,} lines to complete)" for m, c, n in
                             zip(below["coverage_measure"], below["coverage"], below["lines_to_fix"]))
            lines.append(f"2. Coverage below the {target:.0%} target: **{worst}**.")
        else:
            lines.append(f"2. All four coverage measures reach the {target:.0%} target; the lowest is "
                         f"{t(h['coverage_measure'], lang)} at **{h['coverage']:.2%}**.")
        lines.append(f"3. {resolution['records']:,} customer records resolve to **{resolution['customers']:,}** "
                     f"customers; {resolution['review_pairs']:,} look-alike pairs await review; "
                     f"{h['values_filled']:,} values filled and {h['outliers_flagged']:,} order lines flagged as "
                     f"outliers (kept, not deleted).")
        if len(trend) <= 1:
            lines.append("4. There is only one ingest so far: the trend becomes comparable after the next one.")
        else:
            p, c = trend.iloc[-2], trend.iloc[-1]
            lines.append(f"4. Against the previous ingest: quarantined share {p['quarantined_share']:.2%} → "
                         f"{c['quarantined_share']:.2%}, rows merged {int(p['rows_merged']):,} → "
                         f"{int(c['rows_merged']):,}.")
    return "\n".join(lines)


def accuracy_text(accuracy: pd.DataFrame, lang: str, target: float = 0.99) -> str:
    """One sentence on :func:`saleslab.quality.cleaning_accuracy`: not scored, or how many measures
    reach the target and which fall short."""
    zh = lang == "zh-CN"
    if accuracy.empty:
        return ("未提供答案文件夹（truth_dir），本次不计算清洗准确度。" if zh else
                "No answer key (truth_dir) was given: cleaning accuracy is not scored in this run.")
    below = accuracy[~accuracy["meets_target"].astype(bool)]
    n, k = len(accuracy), len(accuracy) - len(below)
    sep = "、" if zh else ", "
    short = sep.join(f"{t(m, lang)} {a:.2%}" for m, a in zip(below["accuracy_measure"], below["accuracy"]))
    if zh:
        return f"{n} 项清洗准确度中 **{k}** 项达到 {target:.0%} 目标" + (f"；未达标：**{short}**。" if len(below) else "。")
    return (f"**{k}** of {n} cleaning accuracy measures reach the {target:.0%} target"
            + (f"; below it: **{short}**." if len(below) else "."))
