#!/usr/bin/env python3
"""The documentation site, checked in a real browser.

    browser_test.py --html build/docs/html --artifacts build/test-artifacts/docs
                    [--walkthrough labs_01_bump.html] [--chromium PATH] [--chromedriver PATH]

Serves the built site on loopback (http.server), starts headless Chromium through
chromedriver, and drives it with the WebDriver protocol (plain HTTP + JSON, so no client
library is needed). Starting at index.html it opens every page reachable through links, and on
each one checks, after the page has loaded:

- every link to a page or file of the site resolves (the server has it), and every link to an
  anchor (`page.html#section`) lands on an element with that id or name on the target page;
- every image loaded: an <img> has a natural width above 0, an <iframe>/<object>/<embed> (how
  Doxygen embeds its SVG graphs) has a document, and nothing the page asked the server for
  (images, scripts, style sheets) came back as an error.

Links to other sites are not followed (the test runs without network). It writes screenshots
of the start page and of one lab walkthrough into --artifacts, and exits 1 with one line per
problem, naming the page and the broken link or image; 0 when the site is whole.
"""

import argparse
import base64
import functools
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,1000",
]

# Run in the page once it has loaded: what it links to, what it embeds, what anchors it has.
# Doxygen's scripts add images after the load event (the search box's icons, the tree's sync
# button), so it first waits, up to 5 s, until every image has finished loading or failed.
PAGE_SCRIPT = """
const done = arguments[arguments.length - 1];
const started = Date.now();
function settled() {
    return document.readyState === 'complete' && [...document.images].every(img => img.complete);
}
function report() {
const links = [...document.querySelectorAll('a[href], area[href]')].map(a => ({
    href: a.href, raw: a.getAttribute('href'), text: (a.textContent || a.alt || '').trim().slice(0, 60)}));
const images = [...document.querySelectorAll('img')].map(img => ({
    src: img.currentSrc || img.src, raw: img.getAttribute('src'),
    ok: img.complete && img.naturalWidth > 0}));
const frames = [...document.querySelectorAll('iframe[src], object[data], embed[src]')].map(f => {
    let doc = null;
    try { doc = f.contentDocument || (f.getSVGDocument && f.getSVGDocument()); } catch (e) {}
    const root = doc && doc.documentElement;
    return {src: f.src || f.data, raw: f.getAttribute('src') || f.getAttribute('data'),
            ok: !!root && (root.nodeName.toLowerCase() === 'svg' || doc.contentType.startsWith('image/'))};
});
const anchors = [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name'));
done({links, images, frames, anchors, title: document.title});
}
(function wait() {
    if (settled() || Date.now() - started > 5000) report(); else setTimeout(wait, 25);
})();
"""


class Problems:
    """Everything wrong with the site, one line each, in the order found."""

    def __init__(self):
        self.lines = []

    def add(self, page, what):
        self.lines.append(f"{page}: {what}")


class SiteServer:
    """The site on 127.0.0.1, in a thread, remembering every request that failed."""

    def __init__(self, root):
        self.failed = []            # (path, status) since the last take_failures()
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def log_request(self, code="-", size="-"):
                status = int(code) if str(code).isdigit() else 0
                path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
                if status >= 400 and path != "/favicon.ico":
                    with owner.lock:
                        owner.failed.append((path, status))

        handler = functools.partial(Handler, directory=root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def take_failures(self):
        with self.lock:
            failed, self.failed = self.failed, []
        return failed

    def status(self, path):
        """The status the server answers for @p path (a HEAD request)."""
        request = urllib.request.Request(self.base + path.lstrip("/"), method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class WebDriverError(RuntimeError):
    pass


class Browser:
    """Headless Chromium behind chromedriver, spoken to in W3C WebDriver over HTTP."""

    def __init__(self, chromium, chromedriver, profile):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.driver = subprocess.Popen(
            [chromedriver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)  # its own process group: stop() ends Chromium with it
        self.session = None
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._call("GET", "/status")["value"].get("ready"):
                    break
            except (OSError, WebDriverError):
                pass
            if self.driver.poll() is not None:
                raise WebDriverError(f"chromedriver exited with status {self.driver.returncode}")
            if time.monotonic() > deadline:
                raise WebDriverError("chromedriver did not become ready within 30 s")
            time.sleep(0.1)
        capabilities = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30000, "script": 30000},
            "goog:chromeOptions": {"binary": chromium,
                                   "args": CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]},
        }}}
        self.session = self._call("POST", "/session", capabilities)["value"]["sessionId"]

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            try:
                value = json.load(error).get("value", {})
                message = f"{value.get('error')}: {value.get('message', '').splitlines()[0]}"
            except (ValueError, AttributeError, IndexError):
                message = str(error)
            raise WebDriverError(f"{method} {path}: {message}") from None

    def _session_call(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)["value"]

    def open(self, url):
        self._session_call("POST", "/url", {"url": url})

    def run(self, script):
        """Runs an asynchronous script: it ends by calling its last argument with the result."""
        return self._session_call("POST", "/execute/async", {"script": script, "args": []})

    def screenshot(self, path):
        png = base64.b64decode(self._session_call("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def stop(self):
        try:
            if self.session is not None:
                self._call("DELETE", f"/session/{self.session}")
        except (OSError, WebDriverError):
            pass
        try:
            os.killpg(self.driver.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.driver.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.driver.pid, signal.SIGKILL)
            self.driver.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_path(url, base):
    """The path of @p url inside the site ('labs_01_bump.html'), or None when it is elsewhere."""
    if not url.startswith(base):
        return None
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path).lstrip("/")
    return path or "index.html"


def crawl(browser, server, problems, screenshots):
    """Opens every page reachable from index.html; returns how many pages it opened."""
    base = server.base
    queue = deque(["index.html"])
    seen = {"index.html"}
    anchors = {}          # page -> the ids and names on it
    fragment_links = []   # (from page, target page, fragment, link text)
    checked_files = {}    # non-page file -> its status
    while queue:
        page = queue.popleft()
        server.take_failures()
        browser.open(base + page)
        found = browser.run(PAGE_SCRIPT)
        anchors[page] = set(found["anchors"])
        if page in screenshots:
            browser.screenshot(screenshots.pop(page))

        failed = dict(server.take_failures())   # what the page asked for and did not get
        for image in found["images"]:
            if not image["ok"]:
                status = failed.pop("/" + (site_path(image["src"], base) or ""), None)
                why = f"the server answered {status}" if status else "it did not load: natural width 0"
                problems.add(page, f"missing image '{image['raw']}' ({why})")
        for frame in found["frames"]:
            # Doxygen's search box holds an empty `javascript:void(0)` frame: not an image.
            if site_path(frame["src"], base) is not None and not frame["ok"]:
                status = failed.pop("/" + site_path(frame["src"], base), None)
                why = f"the server answered {status}" if status else "no SVG or image document in it"
                problems.add(page, f"missing image '{frame['raw']}' ({why})")
        for path, status in failed.items():
            problems.add(page, f"the server answered {status} for {path.lstrip('/')}, which the page loads")

        for link in found["links"]:
            target = site_path(link["href"], base)
            if target is None:
                continue                    # another site, mailto:, javascript:
            fragment = urllib.parse.urlsplit(link["href"]).fragment
            if target.endswith(".html"):
                if target not in seen:
                    if server.status(target) != 200:
                        problems.add(page, f"broken link '{link['raw']}' ('{link['text']}'): there is no page {target}")
                        seen.add(target)
                        continue
                    seen.add(target)
                    queue.append(target)
                if fragment:
                    fragment_links.append((page, target, urllib.parse.unquote(fragment), link))
            else:
                if target not in checked_files:
                    checked_files[target] = server.status(target)
                if checked_files[target] != 200:
                    problems.add(page, f"broken link '{link['raw']}' ('{link['text']}'): "
                                       f"the server answered {checked_files[target]} for {target}")

    for page, target, fragment, link in fragment_links:
        if target in anchors and fragment not in anchors[target]:
            problems.add(page, f"broken link '{link['raw']}' ('{link['text']}'): "
                               f"{target} has no anchor '{fragment}'")
    return len(anchors)


def find_program(explicit, names):
    for name in ([explicit] if explicit else names):
        path = shutil.which(name)
        if path:
            return path
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--html", required=True, help="the built site (build/docs/html)")
    parser.add_argument("--artifacts", required=True, help="where the screenshots go")
    parser.add_argument("--walkthrough", default="labs_01_bump.html",
                        help="the lab walkthrough page to take a screenshot of")
    parser.add_argument("--chromium", help="the browser (default: chromium on PATH)")
    parser.add_argument("--chromedriver", help="the driver (default: chromedriver on PATH)")
    args = parser.parse_args()

    html = os.path.abspath(args.html)
    if not os.path.isfile(os.path.join(html, "index.html")):
        print(f"docs browser test: {html}/index.html does not exist: build the site first (make docs)")
        return 1
    if not os.path.isfile(os.path.join(html, args.walkthrough)):
        print(f"docs browser test: the lab walkthrough page {args.walkthrough} is not in {html}")
        return 1
    chromium = find_program(args.chromium, ["chromium", "chromium-browser"])
    chromedriver = find_program(args.chromedriver, ["chromedriver"])
    if not chromium or not chromedriver:
        print("docs browser test: needs Debian's chromium and chromium-driver: run scripts/install-deps")
        return 1
    os.makedirs(args.artifacts, exist_ok=True)
    screenshots = {"index.html": os.path.join(args.artifacts, "start-page.png"),
                   args.walkthrough: os.path.join(args.artifacts, "lab-walkthrough.png")}
    wanted = list(screenshots.values())

    started = time.monotonic()
    problems = Problems()
    server = SiteServer(html)
    browser = None
    with tempfile.TemporaryDirectory(prefix="heaplab-chromium-") as profile:
        try:
            browser = Browser(chromium, chromedriver, profile)
            pages = crawl(browser, server, problems, screenshots)
        except WebDriverError as error:
            print(f"docs browser test: the browser failed: {error}")
            return 1
        finally:
            if browser is not None:
                browser.stop()
            server.stop()

    for page in screenshots:
        problems.add(page, "never reached from index.html, so no screenshot of it was taken")
    seconds = time.monotonic() - started
    if problems.lines:
        print(f"docs browser test: {len(problems.lines)} problem(s) on the site ({pages} pages opened):")
        for line in problems.lines:
            print("  " + line)
        return 1
    print(f"docs browser test: {pages} pages opened in headless Chromium, every internal link and "
          f"image resolves ({seconds:.1f} s)")
    print("screenshots: " + ", ".join(wanted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
