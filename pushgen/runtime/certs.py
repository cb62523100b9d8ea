"""A self-signed development certificate for ``localhost``, made once and reused.

Browsers speak HTTP/2 only over TLS (RFC 9113 §3.2: "h2" is negotiated with
ALPN), so ``pushgen serve`` needs a certificate even on a laptop. Without one
given, it uses a self-signed certificate for ``localhost``, ``127.0.0.1`` and
``::1`` kept in the user's cache folder (``$XDG_CACHE_HOME/pushgen`` or
``~/.cache/pushgen``) and replaced only when it is about to expire. When the
local CA of :mod:`pushgen.devca` exists (``pushgen trust install``), the
certificate is signed by it, and browsers that trust the CA trust it; nothing
here touches a trust store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import PushgenError
from ..fsutil import atomic_write
from .devca import LocalCA, load_local_ca

__all__ = [
    "DEV_HOSTS",
    "CertificatePair",
    "DevCertificate",
    "certificate_pair",
    "default_cache_dir",
    "dev_certificate",
]

DEV_HOSTS = ("localhost", "127.0.0.1", "::1")
_CERT_NAME = "localhost-cert.pem"
_KEY_NAME = "localhost-key.pem"
_VALID_DAYS = 365
# Replace a certificate this close to its end, so a running server never
# starts with one that expires during a working day.
_RENEW_BEFORE = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DevCertificate:
    """Where the development certificate and key are, and whether they were just made."""

    certfile: Path
    keyfile: Path
    created: bool
    not_after: dt.datetime


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/pushgen``, else ``~/.cache/pushgen``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return Path(base if base else Path.home() / ".cache") / "pushgen"


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    # Two servers starting at once must not write a certificate and a key that
    # do not belong together.
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _names(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    names = set(san.get_values_for_type(x509.DNSName))
    names.update(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    return names


def _usable(
    certfile: Path, keyfile: Path, now: dt.datetime, ca: LocalCA | None
) -> x509.Certificate | None:
    try:
        cert = x509.load_pem_x509_certificate(certfile.read_bytes())
        key = serialization.load_pem_private_key(keyfile.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if cert.public_key() != key.public_key():
        return None
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc - _RENEW_BEFORE:
        return None
    if not set(DEV_HOSTS) <= _names(cert):
        return None
    # Made before the CA (or by another one): make a leaf browsers will trust.
    try:
        cert.verify_directly_issued_by(ca.certificate if ca is not None else cert)
    except (ValueError, TypeError, InvalidSignature):
        return None
    return cert


@dataclass(frozen=True)
class CertificatePair:
    """A certificate file and the file of its key, both checked to exist."""

    certfile: Path
    keyfile: Path


@dataclass(frozen=True)
class _Generated:
    """A new certificate and its key, as PEM, and when the certificate expires."""

    cert_pem: bytes
    key_pem: bytes
    not_after: dt.datetime


def _generate(now: dt.datetime, ca: LocalCA | None) -> _Generated:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pushgen development certificate"),
        ]
    )
    not_after = now + dt.timedelta(days=_VALID_DAYS)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca.certificate.subject if ca is not None else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(not_after)
        # Browsers match names only against subjectAltName (RFC 6125 §6.4.4).
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca.private_key() if ca is not None else key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _Generated(cert.public_bytes(serialization.Encoding.PEM), key_pem, not_after)


def dev_certificate(
    cache_dir: str | os.PathLike[str] | None = None,
    *,
    now: dt.datetime | None = None,
    caroot: str | os.PathLike[str] | None = None,
) -> DevCertificate:
    """The development certificate in ``cache_dir`` (default :func:`default_cache_dir`).

    Reuses the files there while they match, cover ``localhost``, ``127.0.0.1``
    and ``::1``, stay valid for more than a week and come from the local CA in
    ``caroot`` (default :func:`pushgen.devca.default_caroot`) when there is one;
    otherwise writes a new pair (the key readable by the owner only), signed by
    that CA or, without one, by itself.
    """
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    certfile, keyfile = directory / _CERT_NAME, directory / _KEY_NAME
    moment = now or dt.datetime.now(dt.UTC)
    ca = load_local_ca(caroot)
    with _locked(directory):
        cert = _usable(certfile, keyfile, moment, ca)
        if cert is not None:
            return DevCertificate(certfile, keyfile, False, cert.not_valid_after_utc)
        made = _generate(moment, ca)
        # A private key: readable by its owner only, whatever the umask.
        atomic_write(keyfile, made.key_pem, mode=0o600)
        atomic_write(certfile, made.cert_pem)
        return DevCertificate(certfile, keyfile, True, made.not_after)


def certificate_pair(
    certfile: str | os.PathLike[str] | None, keyfile: str | os.PathLike[str] | None
) -> CertificatePair | None:
    """The certificate and key to serve with, both or neither; None for neither.

    Raises :class:`PushgenError` when only one is given or a file is missing, so
    a server never starts half-configured or fails at its first handshake.
    """
    if certfile is None and keyfile is None:
        return None
    if certfile is None or keyfile is None:
        raise PushgenError("give both a certificate and its key, or neither")
    pair = CertificatePair(Path(certfile), Path(keyfile))
    for path in (pair.certfile, pair.keyfile):
        if not path.is_file():
            raise PushgenError(f"{path}: no such file")
    return pair
