"""A local certificate authority for development, and the trust stores that know it.

A browser that does not trust a server's certificate does more than warn:
Chromium keeps nothing in its HTTP cache for such a connection, so the
preloads a 103 Early Hints starts are thrown away and fetched again (issue 16,
item 3). The way out, as mkcert does it: one certificate authority per user,
made once, installed in the user's trust stores, and leaf certificates for
``localhost`` signed by it (:mod:`pushgen.runtime.certs`).

* The CA lives in ``$PUSHGEN_CAROOT``, else ``$XDG_DATA_HOME/pushgen/ca``, else
  ``~/.local/share/pushgen/ca``: ``rootCA.pem`` and ``rootCA-key.pem`` (mode 0600).
* :func:`install` adds it to the NSS databases Chromium and Firefox read on Linux
  (``~/.pki/nssdb``, made when missing, and every Firefox profile's
  ``cert9.db``) with Debian's ``certutil`` (package ``libnss3-tools``), and, when
  running as root, to the system store (``/usr/local/share/ca-certificates``,
  then ``update-ca-certificates``).
* :func:`uninstall` removes exactly that again, with the links
  ``update-ca-certificates`` made for it in ``/etc/ssl/certs`` (which it leaves
  dangling when only a local anchor goes); :func:`status` says where it is.

Only certificates this module added are ever removed: they are found by a
nickname (NSS) or file name (system store) that carries the CA's fingerprint.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from ..errors import PushgenError
from ..fsutil import atomic_write

__all__ = [
    "SYSTEM_ANCHORS",
    "SYSTEM_STORE",
    "LocalCA",
    "StoreState",
    "SystemStore",
    "TrustError",
    "default_caroot",
    "default_nss_databases",
    "ensure_local_ca",
    "install",
    "load_local_ca",
    "spki_hash",
    "status",
    "trust_summary",
    "uninstall",
]

_CERT_NAME = "rootCA.pem"
_KEY_NAME = "rootCA-key.pem"
# Ten years, as mkcert: the CA is made once per user and machine.
_VALID_DAYS = 3650
_ORGANIZATION = "pushgen development CA"
# Debian's place for locally added anchors; update-ca-certificates reads it.
SYSTEM_ANCHORS = Path("/usr/local/share/ca-certificates")
# An OpenSSL hash link (`openssl rehash`): the subject hash, '.', a number.
_HASH_LINK = re.compile(r"[0-9a-f]{8}\.[0-9]+")
_INSTALL_HINT = "run `pushgen trust install`, then restart the server"


class TrustError(PushgenError):
    """A trust store could not be read or changed; ``store`` says which."""

    def __init__(self, message: str, *, store: str = "") -> None:
        self.store = store
        super().__init__(f"{store}: {message}" if store else message)


@dataclass(frozen=True, slots=True)
class LocalCA:
    """The local CA's files and the names it is installed under."""

    certfile: Path
    keyfile: Path
    certificate: x509.Certificate
    created: bool

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate, hex."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    @property
    def nickname(self) -> str:
        """The NSS nickname: unique per CA, so uninstall removes this one and no other."""
        return f"{_ORGANIZATION} {self.fingerprint[:16]}"

    @property
    def system_name(self) -> str:
        """The file name in the system store (update-ca-certificates wants ``.crt``)."""
        return f"pushgen-development-ca-{self.fingerprint[:16]}.crt"

    def private_key(self) -> ec.EllipticCurvePrivateKey:
        """The CA's key, to sign a leaf certificate."""
        key = serialization.load_pem_private_key(self.keyfile.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TrustError(f"{self.keyfile}: not the EC key pushgen made")
        return key


@dataclass(frozen=True, slots=True)
class SystemStore:
    """Debian's system trust store: the anchors folder pushgen adds to, the folder
    ``update-ca-certificates`` links them into, and the command (tests give folders of
    their own to the same command, through its --localcertsdir, --etccertsdir, ...)."""

    anchors: Path = SYSTEM_ANCHORS
    certs: Path = Path("/etc/ssl/certs")
    update: tuple[str, ...] = ("update-ca-certificates",)


SYSTEM_STORE = SystemStore()


@dataclass(frozen=True, slots=True)
class StoreState:
    """One trust store and whether the CA is in it (None: cannot tell, ``note`` says why)."""

    store: str
    trusted: bool | None
    note: str = ""

    def __str__(self) -> str:
        verdict = {True: "trusted", False: "not installed", None: "unknown"}[self.trusted]
        return f"{self.store}: {verdict}" + (f" ({self.note})" if self.note else "")


def default_caroot() -> Path:
    """``$PUSHGEN_CAROOT``, else ``$XDG_DATA_HOME/pushgen/ca``, else ``~/.local/share/pushgen/ca``."""
    explicit = os.environ.get("PUSHGEN_CAROOT")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME")
    return Path(base if base else Path.home() / ".local" / "share") / "pushgen" / "ca"


def load_local_ca(caroot: str | os.PathLike[str] | None = None) -> LocalCA | None:
    """The CA in ``caroot`` (default :func:`default_caroot`), or None when there is none.

    Raises :class:`TrustError` when the files are there but unusable: pushgen
    never overwrites a CA, since browsers may trust it already.
    """
    directory = Path(caroot) if caroot is not None else default_caroot()
    certfile, keyfile = directory / _CERT_NAME, directory / _KEY_NAME
    if not certfile.exists() and not keyfile.exists():
        return None
    try:
        cert = x509.load_pem_x509_certificate(certfile.read_bytes())
        key = serialization.load_pem_private_key(keyfile.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise TrustError(
            f"the local CA cannot be read ({exc}); move the folder away to make a new one",
            store=str(directory),
        ) from exc
    if cert.public_key() != key.public_key():
        raise TrustError(
            f"{_CERT_NAME} and {_KEY_NAME} do not belong together; "
            "move the folder away to make a new CA",
            store=str(directory),
        )
    return LocalCA(certfile, keyfile, cert, created=False)


@dataclass(frozen=True)
class _Made:
    """A new CA's certificate and key, as PEM."""

    cert_pem: bytes
    key_pem: bytes


def _make_ca(now: dt.datetime) -> _Made:
    key = ec.generate_private_key(ec.SECP256R1())
    user = os.environ.get("USER") or str(os.getuid())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, f"pushgen {user}@{os.uname().nodename}"),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
        # A CA that signs leaves only (path length 0), RFC 5280 §4.2.1.9 and §4.2.1.3.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return _Made(cert.public_bytes(serialization.Encoding.PEM), key_pem)


def ensure_local_ca(
    caroot: str | os.PathLike[str] | None = None, *, now: dt.datetime | None = None
) -> LocalCA:
    """The CA in ``caroot``, made first when there is none (the key readable by the owner only)."""
    directory = Path(caroot) if caroot is not None else default_caroot()
    existing = load_local_ca(directory)
    if existing is not None:
        return existing
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    made = _make_ca(now or dt.datetime.now(dt.UTC))
    # The key first, so a certificate never exists without its key; the key
    # readable by its owner only, the certificate by anyone.
    atomic_write(directory / _KEY_NAME, made.key_pem, mode=0o600)
    atomic_write(directory / _CERT_NAME, made.cert_pem, mode=0o644)
    loaded = load_local_ca(directory)
    assert loaded is not None
    return LocalCA(loaded.certfile, loaded.keyfile, loaded.certificate, created=True)


def spki_hash(certfile: str | os.PathLike[str]) -> str:
    """base64(sha256(SubjectPublicKeyInfo)) of a PEM certificate.

    What Chromium's ``--ignore-certificate-errors-spki-list`` takes: a browser
    started with it trusts that key, as if its CA were installed (the tests and
    benchmarks use it where installing a CA is not the point).
    """
    cert = x509.load_pem_x509_certificate(Path(certfile).read_bytes())
    der = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


# --- NSS (Chromium and Firefox on Linux) --------------------------------------------


def default_nss_databases(home: Path | None = None) -> list[Path]:
    """``~/.pki/nssdb`` (Chromium's, made on install when missing) and every Firefox profile."""
    base = home if home is not None else Path.home()
    found = [base / ".pki" / "nssdb"]
    for profiles in (base / ".mozilla" / "firefox", base / "snap/firefox/common/.mozilla/firefox"):
        found.extend(sorted(db.parent for db in profiles.glob("*/cert9.db")))
    return found


def _certutil() -> str:
    found = shutil.which("certutil")
    if found is None:
        raise TrustError(
            "certutil is not installed; install it (Debian: apt-get install libnss3-tools)",
            store="NSS",
        )
    return found


def _run(argv: Sequence[str], store: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        raise TrustError(f"cannot run {argv[0]}: {exc}", store=store) from exc


def _nss_has(certutil: str, db: Path, nickname: str) -> bool:
    done = _run([certutil, "-d", f"sql:{db}", "-L", "-n", nickname], str(db))
    return done.returncode == 0


def _nss_install(certutil: str, db: Path, ca: LocalCA) -> None:
    if not (db / "cert9.db").exists():
        db.mkdir(parents=True, exist_ok=True, mode=0o700)
        made = _run([certutil, "-d", f"sql:{db}", "-N", "--empty-password"], str(db))
        if made.returncode != 0:
            raise TrustError(f"certutil -N failed: {made.stderr.strip()}", store=str(db))
    # "C,,": a trusted CA for TLS servers, nothing else (certutil's trust flags).
    argv = [certutil, "-d", f"sql:{db}", "-A", "-t", "C,,", "-n", ca.nickname]
    added = _run([*argv, "-i", str(ca.certfile)], str(db))
    if added.returncode != 0:
        raise TrustError(f"certutil -A failed: {added.stderr.strip()}", store=str(db))


def _nss_remove(certutil: str, db: Path, nickname: str) -> None:
    removed = _run([certutil, "-d", f"sql:{db}", "-D", "-n", nickname], str(db))
    if removed.returncode != 0:
        raise TrustError(f"certutil -D failed: {removed.stderr.strip()}", store=str(db))


# --- the system store (Debian) ------------------------------------------------------


def _system_allowed(store: SystemStore) -> str:
    """Empty when the system store can be changed here, else why not."""
    if shutil.which(store.update[0]) is None:
        return "update-ca-certificates is not installed (apt-get install ca-certificates)"
    if not store.anchors.is_dir():
        return f"{store.anchors} does not exist"
    if not os.access(store.anchors, os.W_OK):
        # Not "use sudo": under sudo HOME is root's, so that would make and
        # install a second CA, not this one. Browsers read the NSS databases.
        return "left alone: changing it needs root; browsers read the NSS database"
    return ""


def _update_system(store: SystemStore) -> None:
    done = _run(store.update, str(store.anchors))
    if done.returncode != 0:
        raise TrustError(
            f"update-ca-certificates failed: {done.stderr.strip()}", store=str(store.anchors)
        )


def _remove_links(store: SystemStore, anchor: Path) -> None:
    """Remove the links update-ca-certificates made for ``anchor``, now gone.

    It links ``certs/NAME.pem`` to the anchor and ``openssl rehash`` links
    ``HASH.0`` to that, but it prunes dangling links only when a certificate listed
    in ca-certificates.conf comes or goes, so removing a local anchor left both
    (issue 22 item 9a). Only dangling links to this anchor's names are removed.
    """
    pem = store.certs / (anchor.stem + ".pem")
    ours = {str(anchor), pem.name, str(pem)}
    try:
        links = [pem, *(p for p in store.certs.iterdir() if _HASH_LINK.fullmatch(p.name))]
        for link in links:
            if link.is_symlink() and os.readlink(link) in ours and not link.exists():
                link.unlink()
    except OSError as exc:
        raise TrustError(
            f"cannot remove the links to {anchor}: {exc}", store=str(store.certs)
        ) from None


# --- the commands ---------------------------------------------------------------------


def install(
    ca: LocalCA,
    *,
    nss: Sequence[Path] | None = None,
    system: bool = True,
    store: SystemStore = SYSTEM_STORE,
) -> list[StoreState]:
    """Put ``ca`` in the NSS databases ``nss`` (default :func:`default_nss_databases`)
    and, when ``system`` and allowed (root), the system ``store``. Returns each store's state."""
    certutil = _certutil()
    states = []
    for db in nss if nss is not None else default_nss_databases():
        if not _nss_has(certutil, db, ca.nickname):
            _nss_install(certutil, db, ca)
        states.append(StoreState(f"NSS {db}", _nss_has(certutil, db, ca.nickname)))
    if system:
        why_not = _system_allowed(store)
        target = store.anchors / ca.system_name
        if why_not:
            states.append(StoreState(f"system {store.anchors}", target.exists() or None, why_not))
        else:
            if not target.exists():
                atomic_write(target, ca.certfile.read_bytes(), mode=0o644)
                _update_system(store)
            states.append(StoreState(f"system {store.anchors}", True))
    return states


def uninstall(
    ca: LocalCA,
    *,
    nss: Sequence[Path] | None = None,
    system: bool = True,
    store: SystemStore = SYSTEM_STORE,
) -> list[StoreState]:
    """Remove ``ca`` from the stores :func:`install` puts it in; the CA's files stay."""
    certutil = _certutil()
    states = []
    for db in nss if nss is not None else default_nss_databases():
        present = (db / "cert9.db").exists() and _nss_has(certutil, db, ca.nickname)
        if present:
            _nss_remove(certutil, db, ca.nickname)
            present = _nss_has(certutil, db, ca.nickname)
        states.append(StoreState(f"NSS {db}", present))
    if system:
        target = store.anchors / ca.system_name
        why_not = _system_allowed(store)
        if not why_not:
            if target.exists():
                target.unlink()
                _update_system(store)
            # Also after an uninstall by an earlier pushgen, which left them.
            _remove_links(store, target)
        states.append(StoreState(f"system {store.anchors}", target.exists(), why_not))
    return states


def status(
    ca: LocalCA, *, nss: Sequence[Path] | None = None, store: SystemStore = SYSTEM_STORE
) -> list[StoreState]:
    """Where ``ca`` is trusted: each NSS database and the system store."""
    certutil = shutil.which("certutil")
    states = []
    for db in nss if nss is not None else default_nss_databases():
        if not (db / "cert9.db").exists():
            states.append(StoreState(f"NSS {db}", False, "no database yet"))
        elif certutil is None:
            states.append(StoreState(f"NSS {db}", None, "certutil is not installed"))
        else:
            states.append(StoreState(f"NSS {db}", _nss_has(certutil, db, ca.nickname)))
    target = store.anchors / ca.system_name
    states.append(StoreState(f"system {store.anchors}", target.exists()))
    return states


def trust_summary(
    certfile: str | os.PathLike[str],
    *,
    caroot: str | os.PathLike[str] | None = None,
    nss: Sequence[Path] | None = None,
) -> str:
    """One line for ``pushgen serve``'s start-up: will browsers trust ``certfile``, and if not, what to do."""
    try:
        cert = x509.load_pem_x509_certificate(Path(certfile).read_bytes())
        ca = load_local_ca(caroot)
    except (OSError, ValueError, TrustError) as exc:
        return f"cannot tell whether browsers trust the certificate: {exc}"
    if ca is None or cert.issuer != ca.certificate.subject:
        if cert.issuer == cert.subject:
            return (
                "browsers will NOT trust this self-signed certificate and Chromium will "
                f"drop 103 Early Hints preloads; {_INSTALL_HINT}"
            )
        return "certificate from your own CA; browsers trust it if your stores trust its issuer"
    chromium = [s for s in status(ca, nss=nss) if s.store.startswith("NSS")][:1]
    if chromium and chromium[0].trusted:
        return f"browsers trust this certificate (signed by the local CA, in {chromium[0].store})"
    return (
        f"the local CA that signed this certificate is not in the browsers' store; {_INSTALL_HINT}"
    )
