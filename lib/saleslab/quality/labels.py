"""Story templates of the data-quality stage (its table and chart labels are shared:
:mod:`saleslab.report.labels`)."""

LABELS: dict[str, tuple[str, str]] = {
    "dq_trend_section": ("历次入库的数据质量趋势", "Data quality across ingests"),
    "dq_trend_too_short": ("目前只有 {ingests} 次入库，趋势图至少需要 {need} 次，下表列出已有的入库记录",
                           "{ingests} ingest(s) so far; a trend needs at least {need}, the table below lists them"),
    "story_quality_balanced": ("每个文件均满足 读取 = 入库 + 合并 + 隔离",
                               "every file balances: read = loaded + merged + quarantined"),
    "story_quality_unbalanced": ("**{n} 个文件行数不平衡**，请检查", "**{n} files do not balance** and need checking"),
    "story_quality_untraced": ("；**{n} 个文件**的未入库行无法在隔离表或合并表中全部查到",
                               "; in **{n} files** not every row that was not loaded can be found in the quarantine "
                               "or merged table"),
    "story_quality_accounting": ("1. 共读取 **{read:,}** 行：入库 {loaded:,}，合并重复 {merged:,}，隔离 {quarantined:,}"
                                 "（{share:.2%}）；{check}。",
                                 "1. **{read:,}** rows read: {loaded:,} loaded, {merged:,} merged as duplicates, "
                                 "{quarantined:,} quarantined ({share:.2%}); {check}."),
    "story_quality_measure_short": ("{measure} {coverage:.2%}（需补全 {lines:,} 行）",
                                    "{measure} {coverage:.2%} ({lines:,} lines to complete)"),
    "story_quality_coverage_below": ("2. 数据覆盖率未达 {target} 目标：**{worst}**。",
                                     "2. Coverage below the {target} target: **{worst}**."),
    "story_quality_coverage_met": ("2. 四项数据覆盖率均达到 {target} 目标，最低为 {measure} **{coverage:.2%}**。",
                                   "2. All four coverage measures reach the {target} target; the lowest is {measure} "
                                   "at **{coverage:.2%}**."),
    "story_quality_resolution": ("3. {records:,} 条客户记录归并为 **{customers:,}** 个客户；{pairs:,} 对相似客户待人工核对；"
                                 "填补 {filled:,} 个缺失值，标记 {outliers:,} 行异常订单行（未删除）。",
                                 "3. {records:,} customer records resolve to **{customers:,}** customers; {pairs:,} "
                                 "look-alike pairs await review; {filled:,} values filled and {outliers:,} order lines "
                                 "flagged as outliers (kept, not deleted)."),
    "story_quality_one_ingest": ("4. 目前只有一次入库记录，趋势需在后续入库后才能比较。",
                                 "4. There is only one ingest so far: the trend becomes comparable after the next one."),
    "story_quality_trend": ("4. 与上次入库相比：隔离比例 {q_before:.2%} → {q_now:.2%}，合并重复 {m_before:,} → {m_now:,} 行。",
                            "4. Against the previous ingest: quarantined share {q_before:.2%} → {q_now:.2%}, rows "
                            "merged {m_before:,} → {m_now:,}."),
    "story_quality_not_scored": ("未提供答案文件夹（truth_dir），本次不计算清洗准确度。",
                                 "No answer key (truth_dir) was given: cleaning accuracy is not scored in this run."),
    "story_quality_accuracy_met": ("{n} 项清洗准确度中 **{k}** 项达到 {target} 目标。",
                                   "**{k}** of {n} cleaning accuracy measures reach the {target} target."),
    "story_quality_accuracy_below": ("{n} 项清洗准确度中 **{k}** 项达到 {target} 目标；未达标：**{short}**。",
                                     "**{k}** of {n} cleaning accuracy measures reach the {target} target; below it: "
                                     "**{short}**."),
}
