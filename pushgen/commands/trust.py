"""``pushgen trust``: a local CA for development certificates browsers trust.

The first room of the commands layer (issue 24): each command group prints and
picks its exit codes here, and calls pushgen/runtime/devca.py and certs.py, which
never print.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

__all__ = ["trust"]


@click.group()
def trust() -> None:
    """A local CA for development certificates browsers trust (as mkcert does).

    The CA lives in $PUSHGEN_CAROOT, else ~/.local/share/pushgen/ca; `pushgen serve`
    signs its localhost certificate with it once it exists.
    """


_system_option = click.option(
    "--system/--no-system",
    default=True,
    show_default=True,
    help="Also the system store (/usr/local/share/ca-certificates; needs root).",
)


def _print_states(states: Sequence[object]) -> None:
    for state in states:
        click.echo(f"  {state}")


@trust.command("install")
@_system_option
def trust_install(system: bool) -> None:
    """Make the local CA (once) and add it to the browsers' NSS databases and the system store."""
    from ..runtime.devca import ensure_local_ca, install

    ca = ensure_local_ca()
    made = "created" if ca.created else "using"
    click.echo(f"{made} the local CA {ca.certfile} ({ca.nickname})")
    _print_states(install(ca, system=system))
    click.echo("restart `pushgen serve` and the browser to use it")


@trust.command("uninstall")
@_system_option
def trust_uninstall(system: bool) -> None:
    """Remove the local CA from the stores `pushgen trust install` put it in (its files stay)."""
    from ..runtime.devca import load_local_ca, uninstall

    ca = load_local_ca()
    if ca is None:
        click.echo("no local CA: nothing to remove")
        return
    click.echo(f"removing {ca.nickname}")
    _print_states(uninstall(ca, system=system))


@trust.command("status")
def trust_status() -> None:
    """Say where the local CA is trusted."""
    from ..runtime.devca import default_caroot, load_local_ca, status

    ca = load_local_ca()
    if ca is None:
        click.echo(f"no local CA in {default_caroot()}: run `pushgen trust install`")
        raise SystemExit(1)
    click.echo(f"local CA {ca.certfile} ({ca.nickname})")
    states = status(ca)
    _print_states(states)
    if not any(state.trusted and state.store.startswith("NSS") for state in states):
        # Browsers (Chromium, Firefox) trust what the NSS databases hold: a shell's
        # `pushgen trust status && ...` stops here.
        click.echo("browsers do not trust the local CA: run `pushgen trust install`")
        raise SystemExit(1)


@trust.command("cert")
def trust_cert() -> None:
    """Print the development certificate and key `pushgen serve` uses (for Hypercorn, say).

    Made (signed by the local CA once it exists) when there is none yet.
    """
    from ..runtime.certs import dev_certificate

    dev = dev_certificate()
    click.echo(f"certfile: {dev.certfile}")
    click.echo(f"keyfile: {dev.keyfile}")
    click.echo(f"  hypercorn app:app --certfile {dev.certfile} --keyfile {dev.keyfile}", err=True)
