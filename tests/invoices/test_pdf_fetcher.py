"""WeasyPrint renders invoices with our own static files only: no file elsewhere on the
machine, no remote address (docs/rules/invoices.md#pdf-and-receipt)."""

import http.server
import threading

import pytest
from django.conf import settings
from weasyprint.urls import URLFetchingError

from invoices import pdf
from tests.invoices.pdftext import extract_text


@pytest.fixture
def web_server():
    """A real HTTP server on this machine that counts the requests it answers."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_remote_and_local_file_urls_are_never_fetched(web_server, tmp_path):
    address, hits = web_server
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET CONTENT")
    html = (
        f'<html><head><link rel="stylesheet" href="{address}/style.css"></head><body>'
        f'<p>Invoice</p><img src="{address}/pixel.png">'
        f'<object data="file://{secret}" type="text/plain"></object>'
        f'<iframe src="file://{secret}"></iframe>'
        "</body></html>"
    )

    content = pdf.html_to_pdf(html)

    assert hits == []
    assert "TOP SECRET" not in extract_text(content)
    assert "Invoice" in extract_text(content)
    for url in (f"{address}/style.css", f"file://{secret}", "file:///etc/passwd", "ftp://example.com/x"):
        with pytest.raises(URLFetchingError):
            pdf.static_only_url_fetcher(url)
    assert hits == []


def test_our_static_files_are_served(tmp_path):
    css = settings.BASE_DIR / "static" / "css" / "app.css"
    fetched = pdf.static_only_url_fetcher(css.as_uri())
    assert fetched["string"] == css.read_bytes()
    # A path that climbs out of the static directory is refused.
    with pytest.raises(URLFetchingError):
        pdf.static_only_url_fetcher((settings.BASE_DIR / "static" / ".." / "manage.py").as_uri())
