"""Where nginx and h2o are, and an nginx configuration around one ``server`` block.

Shared by the tests that run exported files in the real servers
(tests/export/test_servers.py, tests/export/test_injection.py). Each server gets
its own pid, log and temporary folders under ``tmp``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["H2O", "NGINX", "nginx_conf"]

_SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
NGINX = shutil.which("nginx", path=_SBIN)
H2O = shutil.which("h2o", path=_SBIN)


def nginx_conf(tmp: Path, server: str, *, http: str = "") -> Path:
    """Write ``tmp/nginx.conf``: a foreground nginx whose one server holds ``server``.

    ``http`` adds directives to the ``http`` block (``types`` and the like).
    """
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / "temp" / sub).mkdir(parents=True, exist_ok=True)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
master_process off;
user root;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/temp/body;
    proxy_temp_path {tmp}/temp/proxy;
    fastcgi_temp_path {tmp}/temp/fastcgi;
    uwsgi_temp_path {tmp}/temp/uwsgi;
    scgi_temp_path {tmp}/temp/scgi;
    {http}
    server {{
        {server}
    }}
}}
"""
    )
    return conf


def h2o_conf(tmp: Path, fragment: Path, port: int, *, ssl: str = "") -> Path:
    """Write ``tmp/h2o.conf``: one host whose ``paths`` are the exported ``fragment``.

    ``ssl`` is the listener's ``ssl:`` mapping, indented for it, or empty for cleartext.
    """
    conf = tmp / "h2o.conf"
    listener = f"  port: {port}\n" + (f"  ssl:\n{ssl}" if ssl else "")
    conf.write_text(
        f"""
user: root
pid-file: {tmp}/h2o.pid
error-log: {tmp}/error.log
access-log: {tmp}/access.log
listen:
  host: 127.0.0.1
{listener}
hosts:
  default:
    paths: !file {fragment}
"""
    )
    return conf
