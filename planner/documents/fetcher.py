"""The only way WeasyPrint may load anything while it renders a plan: the app's own static files.

A plan is full of text that people typed.  Templates escape it, so it should never become
markup; this fetcher is the second wall in case it ever does.  WeasyPrint asks it for every
stylesheet, image, font and attachment, and it answers only for files under the app's static
folder, reached through an internal base URL on a reserved domain (`.invalid` never resolves,
so even a mistake here cannot reach the network).  Everything else is refused: `file:`,
`data:`, any other host, paths that climb out with `..`, and symlinks that point outside.
There are no redirects, because nothing is fetched from anywhere that could send one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSET_HOST = "planner.invalid"
ASSET_PATH = "/static/"
ASSET_BASE = f"https://{ASSET_HOST}{ASSET_PATH}"

# What the document may load, by file type: its stylesheet, and fonts or images it might use.
ASSET_TYPES = {
    ".css": "text/css",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".png": "image/png",
}
# Static files are small; anything bigger here is a mistake, not an asset.
MAX_ASSET_BYTES = 4 * 1024 * 1024

log = logging.getLogger(__name__)


class AssetRefused(ValueError):
    """WeasyPrint asked for something other than one of the app's static assets."""


class AssetFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves files under `static_folder` and nothing else."""

    def __init__(self, static_folder: str | Path) -> None:
        # The parent's urllib machinery is never used (`fetch` below does not call it), but
        # it is configured as tightly as it goes in case a future WeasyPrint calls it directly.
        super().__init__(timeout=1, allowed_protocols=("https",), allow_redirects=False, fail_on_errors=False)
        self.root = Path(static_folder).resolve()

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        try:
            path = self.resolve(url)
        except AssetRefused:
            log.warning("document renderer refused to fetch %.200r", url)
            raise
        content_type = ASSET_TYPES[path.suffix.lower()]
        if content_type.startswith("text/"):
            content_type += "; charset=utf-8"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    def resolve(self, url: str) -> Path:
        """The static file an internal asset URL names, or AssetRefused."""
        try:
            parts = urlsplit(url)
        except ValueError:
            raise AssetRefused("not a URL") from None
        if parts.scheme != "https" or parts.netloc != ASSET_HOST:
            raise AssetRefused("only the app's own static assets can be loaded")
        if parts.query or parts.fragment or not parts.path.startswith(ASSET_PATH):
            raise AssetRefused("not a static asset URL")
        relative = unquote(parts.path.removeprefix(ASSET_PATH))
        segments = relative.split("/")
        # Refuse climbing and odd spellings outright instead of normalising them.
        if any(s in ("", ".", "..") for s in segments) or "\\" in relative or "\x00" in relative:
            raise AssetRefused("not a plain path")
        suffix = Path(relative).suffix.lower()
        if suffix not in ASSET_TYPES:
            raise AssetRefused(f"{suffix or 'this kind of file'} is not a document asset")
        try:
            # resolve() follows symlinks, so a link that points outside the folder fails the
            # containment check below.
            path = (self.root / relative).resolve(strict=True)
        except (OSError, RuntimeError):
            raise AssetRefused("no such asset") from None
        if not path.is_relative_to(self.root) or not path.is_file():
            raise AssetRefused("not inside the static folder")
        if path.suffix.lower() not in ASSET_TYPES:
            raise AssetRefused("a link to something that is not a document asset")
        if path.stat().st_size > MAX_ASSET_BYTES:
            raise AssetRefused("asset too large")
        return path
