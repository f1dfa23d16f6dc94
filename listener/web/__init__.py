"""The team inbox, the analysts' pages and a JSON API over the index.

    from listener.web import create_app, serve
    serve(config, backend, port=8000)          # blocks; listener serve does this
    app = create_app(config, backend)          # any ASGI server
"""

from listener.web.app import create_app
from listener.web.server import create_demo_users, running, serve
from listener.web.settings import WebSettings, web_settings
from listener.web.users import Users, add_user, hash_password

__all__ = ["Users", "WebSettings", "add_user", "create_app", "create_demo_users", "hash_password", "running", "serve", "web_settings"]
