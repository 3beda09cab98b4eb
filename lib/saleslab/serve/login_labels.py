"""zh-CN / English texts of the login, landing, pack and sign-out pages of ``saleslab serve``.

Kept apart from the pages' ``serve/labels.py`` (PAGES); merged into it with ``LABELS |= LOGIN_LABELS``
so that :func:`saleslab.report.i18n.t` finds them too.
"""

LOGIN_LABELS = {
    "serve_gate_title": ("销售分析看板", "Sales pages"),
    "serve_gate_sign_in": ("登录", "Sign in"),
    "serve_gate_username": ("用户名", "User name"),
    "serve_gate_password": ("密码", "Password"),
    "serve_gate_wrong_login": ("用户名或密码不正确。", "Wrong user name or password."),
    "serve_gate_too_many": ("尝试次数过多，请几分钟后再试。", "Too many attempts: try again in a few minutes."),
    "serve_gate_proxy_only": ("请通过公司的统一登录访问本页面。", "Sign in through your company's single sign-on to open these pages."),
    "serve_gate_signed_in_as": ("当前用户", "Signed in as"),
    "serve_gate_role": ("角色", "Role"),
    "serve_gate_scope": ("数据范围", "Data scope"),
    "serve_gate_scope_all": ("全部数据", "All data"),
    "serve_gate_scope_regions": ("区域", "Regions"),
    "serve_gate_scope_teams": ("团队", "Teams"),
    "serve_gate_scope_own": ("本人客户（销售代表 {rep_id}）", "Own customers (rep {rep_id})"),
    "serve_gate_page_dashboard": ("销售看板", "Sales dashboard"),
    "serve_gate_page_dashboard_note": ("筛选、下钻、排序、缩放", "Filter, drill down, sort, zoom"),
    "serve_gate_page_customer360": ("客户 360°", "Customer 360°"),
    "serve_gate_page_customer360_note": ("搜索客户，查看客户卡片", "Search a customer, see their card"),
    "serve_gate_page_pack": ("最新报告包", "Latest report pack"),
    "serve_gate_page_pack_note": ("月度报告的全部页面与 PDF", "Every page of the monthly pack, and its PDF"),
    "serve_gate_sign_out": ("退出登录", "Sign out"),
    "serve_gate_signed_out": ("您已退出登录。", "You are signed out."),
    "serve_gate_sign_in_again": ("重新登录", "Sign in again"),
    "serve_gate_no_pack": ("暂无适用于您数据范围的报告包。", "There is no report pack for your data scope yet."),
    "serve_gate_no_pack_note": ("为您生成报告包：saleslab run --params {params} --user {user}",
                           "To make one for you: saleslab run --params {params} --user {user}"),
    "serve_gate_back": ("返回首页", "Back to the start page"),
    "serve_gate_proxy_sign_out": ("请通过公司的统一登录退出。", "Sign out through your company's single sign-on."),
    "serve_gate_no_access": ("您的账户无权查看这些页面，请联系管理员。",
                             "Your account may not see these pages: ask the administrator."),
    "serve_gate_not_found": ("没有这个页面（HTTP 404）。", "There is no such page (HTTP 404)."),
    "serve_gate_error": ("此页面暂时无法打开（HTTP {status}）。", "This page cannot be opened now (HTTP {status})."),
}
