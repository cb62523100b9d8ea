"""The runtime: serving a built site and its push manifest, apart from the build.

One concern per module: :mod:`.headers` (manifest -> ready-to-send push lists
and ``Link`` values), :mod:`.middleware` (pushes and 103 Early Hints as ASGI
middleware), :mod:`.quart` (the Quart extension), :mod:`.files` (URL path ->
file), :mod:`.app` (the app factory), :mod:`.server` (Hypercorn over TLS) and
:mod:`.certs` (the development certificate). Nothing here imports the build,
the scanners or the exporters.
"""
