"""A push manifest in service: loaded, checked, watched and swapped as a whole.

:class:`ManifestState` is what every runtime entry point keeps of the manifest
(the Quart extension's :class:`~pushgen.runtime.quart.PushgenState` and the
generic :class:`pushgen.asgi.PushgenMiddleware`): the manifest is loaded and
validated once into a :class:`~pushgen.runtime.headers.RouteTable`, so a request
costs a dictionary lookup; while the app serves, a background task polls the file
and swaps in a new table when it changes; a broken file is logged
(``file:line:col``) on the ``pushgen`` logger and the last good table stays in
service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from ..errors import Diagnostic, ManifestError
from ..manifest import Manifest, parse_manifest
from ..manifest.compiled import CompiledLoad, load_compiled
from ..manifest.loader import manifest_text
from ..site_files import FileState, file_size, find_file
from .headers import RouteTable, build_route_table
from .lazy_table import lazy_route_table
from .options import Options

__all__ = ["MAX_MANIFEST_BYTES", "ManifestState"]

log = logging.getLogger("pushgen")
_VERSION_TTL = 1.0
_VERSION_CACHE_SIZE = 4096
_T = TypeVar("_T")


class ManifestState:
    """The manifest in service for one app, and the watcher that keeps it current.

    ``table`` is the route table in service; it is replaced as a whole (never
    mutated), so a request always sees one consistent manifest. ``generation``
    counts successful loads.
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self.table = RouteTable()
        self.generation = 0
        self._signature: FileState | None = None
        self._task: asyncio.Task[None] | None = None
        self._versions: dict[str, tuple[float, str]] = {}
        self._said: set[str] = set()  # the slower-path notices given (each said once)

    def version(self, path: str) -> str:
        """The version of the pushed file at URL ``path`` (its stat), for the push digest.

        Looked up at most once a second per path (the paths come from the
        manifest, so the cache is bounded by it), so a rebuilt asset is pushed
        again within a second, and a page request does no file system work.
        """
        now = time.monotonic()
        cached = self._versions.get(path)
        if cached is not None and now - cached[0] < _VERSION_TTL:
            return cached[1]
        text = ""
        output = self.options.output
        found = (
            None if output is None else find_file(output, path, base_path=self.options.base_path)
        )
        if found is not None and found.kind == "file":
            try:
                st = os.stat(found.path)
            except OSError:
                pass  # gone since the lookup: unversioned, like a path outside the output
            else:
                text = f"{st.st_mtime_ns}-{st.st_size}"
        if len(self._versions) >= _VERSION_CACHE_SIZE:
            self._versions.clear()
        self._versions[path] = (now, text)
        return text

    def _stat(self) -> FileState | None:
        # The inode catches an atomic replace; size and times an in-place edit.
        try:
            st = os.stat(self.options.manifest)
        except OSError:
            return None
        return FileState.of(st)

    def _size_of(self, path: str) -> int | None:
        output = self.options.output
        if output is None:
            return None
        return file_size(output, path, base_path=self.options.base_path)

    def _load(self) -> RouteTable:
        """The route table of the manifest: from its compiled form when current, else its YAML.

        The compiled form (pushgen/manifest/compiled.py) loads in milliseconds and
        plans each route on first request; the YAML is read and planned whole.
        """
        filename = str(self.options.manifest)
        data = _read_manifest(filename)
        compiled = load_compiled(data, filename)
        if compiled.manifest is not None:
            return self._table(compiled.manifest, lazy_route_table)
        self._say_slow(compiled)
        return self._table(
            parse_manifest(manifest_text(data, filename), filename), build_route_table
        )

    def _say_slow(self, compiled: CompiledLoad) -> None:
        """Say once, in the log, that the YAML is read (the slower path) and how to refresh."""
        if compiled.problem == "missing" or compiled.problem in self._said:
            return  # a hand-made manifest without a build: nothing to refresh
        self._said.add(compiled.problem)
        refresh = (
            "run `pushgen check --compile`, or any `pushgen build` or `pushgen scan`, to refresh it"
        )
        if compiled.problem == "damaged":
            log.warning(
                "pushgen: %s: cannot use the compiled manifest (%s); reading the YAML"
                " instead, the slower path; %s",
                self.options.manifest,
                compiled.detail,
                refresh,
            )
        else:
            log.info(
                "pushgen: %s: the compiled manifest is out of date (%s); reading the YAML,"
                " the slower path; %s",
                self.options.manifest,
                compiled.detail,
                refresh,
            )

    def _table(self, manifest: Manifest, make: Callable[..., RouteTable]) -> RouteTable:
        return make(
            manifest,
            base_path=self.options.base_path,
            pretty_urls=self.options.pretty_urls,
            max_pushes=self.options.max_pushes,
            max_link_bytes=self.options.max_link_bytes,
            filename=str(self.options.manifest),
            size_of=self._size_of,
            policy=self.options.policy,
        )

    def _install(self, table: RouteTable, signature: FileState | None) -> None:
        for diagnostic in table.diagnostics:
            log.warning("%s", diagnostic)
        self.table = table
        self._signature = signature
        self.generation += 1

    def load(self) -> None:
        """Load the manifest now; raise :class:`ManifestError` when it cannot be used.

        A missing file is not an error when ``manifest_required`` is off: the
        table stays empty until the file appears.
        """
        signature = self._stat()
        if signature is None and not self.options.manifest_required:
            log.warning(
                "pushgen: no manifest at %s yet; serving without hints", self.options.manifest
            )
            self._signature = None
            return
        self._install(self._load(), signature)
        log.info("pushgen: loaded %s (%d routes)", self.options.manifest, self.table.routes)

    async def reload(self) -> bool:
        """Reload the manifest; on failure log every problem and keep the current table.

        Returns True when a new table is in service.
        """
        signature = self._stat()
        try:
            table = await _in_daemon_thread(self._load)
        except ManifestError as exc:
            for diagnostic in exc.diagnostics:
                log.error("%s", diagnostic)
            return self._keep(signature)
        except Exception as exc:
            # Whatever else loading raised (a RecursionError from PyYAML's
            # pure-Python loader on deep nesting, a MemoryError): the watcher
            # must outlive it, so say what and where, and keep serving.
            log.error(
                "%s: error: cannot load the manifest: %s: %s",
                self.options.manifest,
                type(exc).__name__,
                exc,
            )
            return self._keep(signature)
        self._install(table, signature)
        log.info("pushgen: reloaded %s (%d routes)", self.options.manifest, table.routes)
        return True

    def _keep(self, signature: FileState | None) -> bool:
        self._signature = signature  # do not report the same broken file again
        log.error(
            "pushgen: keeping the previous manifest (%d routes) in service", self.table.routes
        )
        return False

    async def watch(self) -> None:
        """Poll the manifest every ``reload_interval`` seconds; reload it when it changes."""
        interval = self.options.reload_interval
        # A file saved in place is empty for a moment (truncated, then written);
        # load only once two looks a short while apart agree.
        settle = min(interval, 0.1)
        while True:
            await asyncio.sleep(interval)
            signature = self._stat()
            if signature == self._signature:
                continue
            await asyncio.sleep(settle)
            if self._stat() == signature:
                try:
                    await self.reload()
                except Exception:
                    # reload() handles every failure of loading; this is a bug
                    # elsewhere, and one broken look must not end the watching.
                    log.exception("pushgen: reloading %s failed", self.options.manifest)
                    self._signature = signature

    @property
    def watching(self) -> bool:
        """Whether a watcher task is running (one whose event loop ended is not)."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start watching the manifest (when ``reload_interval`` > 0), unless a watcher runs."""
        if self.options.reload_interval > 0 and not self.watching:
            self._task = asyncio.create_task(self.watch(), name="pushgen-manifest-watch")

    async def stop(self) -> None:
        """Stop watching the manifest."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# A manifest of 16,000 rules is about 1.2 MB; anything near this is not one.
MAX_MANIFEST_BYTES = 32 * 1024 * 1024


def _read_manifest(filename: str) -> bytes:
    """The bytes of the manifest at ``filename``; ManifestError when it cannot be one.

    Only a regular file is read, and at most :data:`MAX_MANIFEST_BYTES` of it:
    the open is non-blocking, so a FIFO put in the manifest's place (which would
    block a plain open until a writer came, and the watcher and the server's
    shutdown with it) is refused after one ``fstat``, as is a device like
    /dev/zero that would never end.
    """

    def problem(message: str) -> ManifestError:
        return ManifestError([Diagnostic(filename, 0, 0, message, "error")])

    try:
        fd = os.open(filename, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise problem(f"cannot read manifest: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as file:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise problem("the manifest is not a regular file; replace it with the YAML file")
        try:
            data = file.read(MAX_MANIFEST_BYTES + 1)
        except OSError as exc:
            raise problem(f"cannot read manifest: {exc.strerror}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise problem(f"the manifest is larger than {MAX_MANIFEST_BYTES // 2**20} MiB")
    return data


async def _in_daemon_thread(function: Callable[[], _T]) -> _T:
    """``await asyncio.to_thread(function)``, in a daemon thread of its own.

    ``asyncio.run`` waits for the default executor's threads when the server
    stops, so a load that never returned there (a pathological file) kept a
    stopped server from exiting. A daemon thread is left behind instead; its
    result, if it ever comes, goes nowhere.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()

    def deliver(result: _T | None, error: BaseException | None) -> None:
        if future.done():  # cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = function(), None
        except BaseException as exc:
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(deliver, result, error)

    threading.Thread(target=run, name="pushgen-manifest-load", daemon=True).start()
    return await future
