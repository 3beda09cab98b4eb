"""Warm page kernels: kernels started ahead of the visitors, with the pages' libraries imported and
nothing else, so that a page's first render does not wait for a Python process to start and import
pandas, Ibis, DuckDB and ipywidgets (measured: about 2.5 s of a 4.5-6 s dashboard render
on 2 cores).

Why this is safe where Voila's own preheating is not: Voila's ``preheat_kernel`` *runs the page*
before anyone asks for it (it would render data before the user is known, and Voila refuses it
together with a pre-launch hook). A warm kernel here has executed one statement,
:data:`WARM_CODE`, which imports modules and reads no file of the warehouse or the run; the user,
the run file and the request's query string still arrive with the page's injected cell after the
login (:func:`saleslab.serve.app.injected_cell_source`), exactly as in a kernel started for the
request. A warm kernel belongs to nobody until a page takes it (the kernel API and websockets are
refused for it), is used for one page only, and is never culled while it waits
(:class:`PageKernelManager`).

``serve.warm_kernels`` (default 1, 0 = off) kernels wait at any time; each takes about 200 MB. They
count against ``serve.max_kernels``; a server at its limit keeps none.
"""

from __future__ import annotations

import asyncio
import logging

#: the only code a warm kernel runs before it is taken (imports; no read, no user)
WARM_CODE = "from saleslab.serve import page as _page\n_page.warm_up()\ndel _page"
#: seconds a warm-up may take before the kernel is discarded
WARM_TIMEOUT_S = 120
#: warm-ups failing in a row after which the pool stops trying
GIVE_UP_AFTER = 3
#: how often the pool checks that its kernels are alive and tops itself up
REFILL_SECONDS = 30
#: seconds after a page took (or started) its kernel before the pool starts the next warm one: a
#: kernel starting up takes ~1.5-2 s of CPU, which on 2 cores would be taken from the page being drawn
#: (measured, one user at small scale: a refill at once made the render 3.3-3.5 s, the kernels using
#: 1.8 s of CPU and the browser 3.5 s in it; without it 2.4 s). The page's first render is mostly
#: done by then; each page restarts the wait, so a burst of visitors is not slowed by refills either.
REFILL_DELAY_S = 3.0

log = logging.getLogger("saleslab.serve")


def page_kernel_manager_class():
    """Voila's kernel manager class (``AsyncMappingKernelManager``) that never culls a waiting warm
    kernel (idle by design); every other kernel is culled as configured."""
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    class PageKernelManager(AsyncMappingKernelManager):
        saleslab_warm: set = set()

        async def cull_kernel_if_idle(self, kernel_id):
            if kernel_id in self.saleslab_warm:
                return
            return await super().cull_kernel_if_idle(kernel_id)

    return PageKernelManager


class WarmPool:
    """Up to ``size`` warm kernels of ``kernel_name`` in ``path``, started with ``env`` (the server's
    environment plus Voila's per-server variables; the per-request ones come with the injected cell).
    :meth:`take` hands one out (or None); :meth:`fill` starts what is missing, in the background;
    ``room()`` says how many more kernels the server may hold."""

    def __init__(self, km, size: int, kernel_name: str, path: str, env: dict, room=None):
        self.km, self.size, self.kernel_name, self.path, self.env = km, int(size), kernel_name, str(path), env
        self.room = room or (lambda: size)
        self.ready: list[str] = []  # warmed, oldest first
        self.starting = 0
        self.warm_ids: set[str] = set()  # the kernels the manager does not cull (PageKernelManager)
        if hasattr(km, "saleslab_warm"):
            km.saleslab_warm = self.warm_ids  # this instance's, not the class attribute
        self.started = self.failed = self.taken = self.failed_in_a_row = 0
        self._later = None  # the pending fill_later

    def take(self, kernel_name: str | None, path) -> str | None:
        """A warm kernel for a page of ``kernel_name`` in ``path`` (None: start one as usual)."""
        if self.size <= 0 or (kernel_name or self.kernel_name) != self.kernel_name or str(path) != self.path:
            return None
        live = set(self.km.list_kernel_ids())
        while self.ready:
            kid = self.ready.pop(0)
            self.warm_ids.discard(kid)
            if kid in live:
                self.taken += 1
                return kid
        return None

    def missing(self) -> int:
        live = set(self.km.list_kernel_ids())
        self.ready = [k for k in self.ready if k in live]
        self.warm_ids.intersection_update(live)  # (kernels warming up stay: they are not in ready yet)
        return max(0, min(self.size - len(self.ready) - self.starting,
                          self.room() - len(self.ready) - self.starting))

    def fill_later(self, delay: float = REFILL_DELAY_S) -> None:
        """:meth:`fill` once no page has started for ``delay`` seconds (each call restarts the wait)."""
        if self.size <= 0:
            return
        if self._later is not None:
            self._later.cancel()
        self._later = asyncio.get_running_loop().call_later(delay, self._fill_now)

    def _fill_now(self) -> None:
        self._later = None
        self.fill()

    def fill(self) -> None:
        """Start the missing warm kernels in the background (no wait). After
        :data:`GIVE_UP_AFTER` warm-ups failed in a row the pool stops (one log line): pages start
        their own kernels, as with ``warm_kernels: 0``."""
        if self.failed_in_a_row >= GIVE_UP_AFTER:
            return
        for _ in range(self.missing()):
            self.starting += 1
            asyncio.ensure_future(self._start_one())

    async def _start_one(self) -> None:
        from jupyter_core.utils import ensure_async

        kid = None
        try:
            kid = await ensure_async(self.km.start_kernel(kernel_name=self.kernel_name, path=self.path, env=dict(self.env)))
            self.warm_ids.add(kid)  # not culled while it warms up and waits
            await asyncio.wait_for(self._warm(kid), WARM_TIMEOUT_S)
            self.ready.append(kid)
            self.started += 1
            self.failed_in_a_row = 0
            kid = None
        except Exception as e:  # noqa: BLE001 — a warm kernel is an optimisation: the page starts its own
            self.failed += 1
            self.failed_in_a_row += 1
            log.warning("saleslab serve: a warm page kernel could not be prepared (%s); pages start their own%s",
                        str(e).splitlines()[0] if str(e) else type(e).__name__,
                        "; no more warm kernels" if self.failed_in_a_row >= GIVE_UP_AFTER else "")
        finally:
            self.starting -= 1
            if kid is not None:
                self.warm_ids.discard(kid)
                try:
                    await ensure_async(self.km.shutdown_kernel(kid, now=True))
                except Exception:  # noqa: BLE001 — already gone
                    pass

    async def _warm(self, kid: str) -> None:
        """Run :data:`WARM_CODE` in the kernel and wait for its reply (an error fails the warm-up)."""
        client = self.km.get_kernel(kid).client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=WARM_TIMEOUT_S)
            msg_id = client.execute(WARM_CODE, silent=False, store_history=False, allow_stdin=False)
            while True:
                reply = await client.get_shell_msg(timeout=WARM_TIMEOUT_S)
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    break
            content = reply.get("content", {})
            if content.get("status") != "ok":
                raise RuntimeError(f"warm-up failed: {content.get('ename')}: {content.get('evalue')}")
        finally:
            client.stop_channels()

    async def close(self) -> None:
        from jupyter_core.utils import ensure_async

        for kid in self.ready:
            try:
                await ensure_async(self.km.shutdown_kernel(kid, now=True))
            except Exception:  # noqa: BLE001
                pass
        self.ready.clear()
        if self._later is not None:
            self._later.cancel()
            self._later = None
