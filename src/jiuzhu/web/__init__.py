"""The staff web pages: HTML rendered on the server, served by ``jiuzhu serve`` beside the
API (ADR 16, docs/web.md).

The pages are their own small ASGI app mounted at ``/web`` (:func:`mount_pages`), so their
errors are pages in Chinese while the API's stay JSON. Like the API and the CLI, routes
only parse, call the layer below and render: no SQL and no money arithmetic here.

- ``app``: the pages' app, its mounting, its error pages and security headers
- ``rendering``: the one Jinja2 environment (filters, the layout's context)
- ``staff``: who is asking (the seam for staff accounts: nobody until they exist)
- ``nav``: the navigation of the pages, by who may see them
- ``catalogue``: the policies the pages show (shipped, and the one the service applies)
- ``policy_pages``: 政策 pages
"""

from jiuzhu.web.app import create_pages, mount_pages
from jiuzhu.web.rendering import PREFIX

__all__ = ["PREFIX", "create_pages", "mount_pages"]
