"""saleslab serve's page handler: kernel limits per user, template files, the /pack/ sandbox, pages
without a parameters cell (a real server, real kernels; helpers of tests/test_serve_server.py)."""

from __future__ import annotations

import re

import pytest

from test_serve_server import PASSWORDS, _start, _stop, login, project, request  # noqa: F401 — fixture

KERNEL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def server(project):  # noqa: F811
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell('print("RAN-WITHOUT-PARAMETERS", user)')]
    nbformat.write(nb, project / "pages" / "noparams.ipynb")
    s = _start(project / "password.yaml", project)
    r, cookies = login(s, "S001", PASSWORDS["S001"])
    assert r.status == 302, r.body
    s.cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items() if v)}
    yield s
    _stop(s)


def _kernel(server, body: str) -> str:
    ids = set(KERNEL_ID.findall(body))
    assert len(ids) == 1, ids
    return ids.pop()


def test_a_user_holds_at_most_three_page_kernels_opening_a_fourth_shuts_the_oldest(server):
    kernels = []
    for _ in range(4):
        r = request(server, "GET", "/voila/render/whoami.ipynb", headers=server.cookie)
        assert r.status == 200 and "VIEWER=[S001]" in r.body
        kernels.append(_kernel(server, r.body))
    alive = [request(server, "GET", f"/api/kernels/{k}", headers=server.cookie).status for k in kernels]
    assert alive[1:] == [200, 200, 200]
    assert alive[0] in (403, 404)  # shut down: no longer S001's, no longer there


def test_a_page_without_a_parameters_cell_is_not_run(server):
    r = request(server, "GET", "/voila/render/noparams.ipynb", headers=server.cookie)
    assert r.status >= 400
    assert "RAN-WITHOUT-PARAMETERS" not in r.body


def test_malformed_template_paths_are_404_and_template_files_still_served(server):
    assert request(server, "GET", "/voila/templates/x", headers=server.cookie).status == 404
    assert request(server, "GET", "/voila/templates/lab/nostatic/x.js", headers=server.cookie).status == 404
    page = request(server, "GET", "/voila/render/whoami.ipynb", headers=server.cookie).body
    css = re.search(r'/voila/templates/[^"\']+', page)
    assert css, "the page links template files"
    assert request(server, "GET", css.group(0).split("?")[0], headers=server.cookie).status == 200


def test_pack_pages_are_sandboxed_without_same_origin(server, project):  # noqa: F811
    r, cookies = login(server, "ceo", PASSWORDS["ceo"])
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items() if v)}
    p = request(server, "GET", "/pack/", headers=cookie)
    assert p.status == 200 and "SCOPE-ALL-PACK" in p.body
    csp = p.headers.get("Content-Security-Policy", "")
    assert "sandbox allow-scripts allow-popups" in csp and "allow-same-origin" not in csp
    link = request(server, "GET", "/pack/01_overview.html", headers=cookie)
    assert link.status == 200 and "overview" in link.body


def test_unused_lab_extensions_are_not_sent_to_the_browser(server):
    page = request(server, "GET", "/voila/render/whoami.ipynb", headers=server.cookie).body
    assert "jupyterlab-plotly" not in page and "@jupyter-widgets/jupyterlab-manager" in page
