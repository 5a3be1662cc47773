"""The ORS page as sent to a tablet: at most 14 KB compressed, at most 3 requests."""

import gzip
import re

from tests import factories as f

BUDGET = 14 * 1024


def test_ors_first_view_fits_the_budget(client, db):
    w = f.world()
    the_case = f.case(w.anna, w.north)
    link = f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case))
    assert client.get(f"/r/{link.token}").status_code == 303
    page = client.get("/r/")
    html = page.get_data(as_text=True)
    # Everything the page loads: no images, fonts or favicon request of its own.
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    # Named with a hash of their content (feedback/assets.py).
    plain = sorted(re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", a) for a in assets)
    assert plain == ["/static/css/respond.css", "/static/js/respond.js"]
    assert 'rel="icon" href="data:,"' in html
    assert "<img" not in html and "@import" not in html
    bodies = [page.get_data()]
    for asset in assets:
        response = client.get(asset)
        bodies.append(response.get_data())
        response.close()  # static files are streamed from an open file
    css = bodies[1].decode()
    assert "url(" not in css  # the stylesheet pulls in nothing more
    # nginx's default gzip level is 1 (the least compression).
    sizes = [len(gzip.compress(b, compresslevel=1)) for b in bodies]
    assert sum(sizes) <= BUDGET, f"first view is {sum(sizes)} bytes compressed: {sizes}"
