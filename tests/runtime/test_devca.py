"""The local CA (pushgen.devca), leaf certificates signed by it, and `pushgen trust`.

Every test works in its own HOME and CA folder: the real user's NSS database and
the system store are never touched (``--no-system`` / ``system=False``).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from cryptography import x509

from pushgen.cli import main
from pushgen.runtime.certs import dev_certificate
from pushgen.runtime.devca import (
    SYSTEM_ANCHORS,
    SystemStore,
    TrustError,
    ensure_local_ca,
    install,
    load_local_ca,
    status,
    trust_summary,
    uninstall,
)

needs_certutil = pytest.mark.skipif(
    shutil.which("certutil") is None, reason="needs certutil (apt-get install libnss3-tools)"
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway HOME and CA root for this test, for the library and the CLI alike."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PUSHGEN_CAROOT", str(home / "caroot"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    return home


def _leaf(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_ca_is_made_once_with_a_private_key(tmp_path: Path) -> None:
    first = ensure_local_ca(tmp_path / "ca")
    assert first.created
    assert stat.S_IMODE(first.keyfile.stat().st_mode) == 0o600
    constraints = first.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    again = ensure_local_ca(tmp_path / "ca")
    assert not again.created and again.fingerprint == first.fingerprint
    assert load_local_ca(tmp_path / "nothing") is None


def test_a_broken_ca_is_reported_and_never_overwritten(tmp_path: Path) -> None:
    ca = ensure_local_ca(tmp_path / "ca")
    other = ensure_local_ca(tmp_path / "other")
    before = ca.keyfile.read_bytes()
    ca.keyfile.write_bytes(other.keyfile.read_bytes())
    with pytest.raises(TrustError, match="do not belong together"):
        ensure_local_ca(tmp_path / "ca")
    ca.certfile.write_text("not a certificate")
    with pytest.raises(TrustError, match="cannot be read"):
        load_local_ca(tmp_path / "ca")
    assert ca.keyfile.read_bytes() != before  # our own edit, untouched by pushgen
    assert ca.certfile.read_text() == "not a certificate"


def test_leaf_certificates_are_signed_by_the_ca_once_it_exists(tmp_path: Path) -> None:
    caroot = tmp_path / "ca"
    plain = dev_certificate(tmp_path / "cache", caroot=caroot)
    leaf = _leaf(plain.certfile)
    assert leaf.issuer == leaf.subject  # no CA yet: self-signed, as before
    assert not dev_certificate(tmp_path / "cache", caroot=caroot).created

    ca = ensure_local_ca(caroot)
    signed = dev_certificate(tmp_path / "cache", caroot=caroot)
    assert signed.created  # the self-signed one is replaced
    leaf = _leaf(signed.certfile)
    leaf.verify_directly_issued_by(ca.certificate)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert not dev_certificate(tmp_path / "cache", caroot=caroot).created

    # A new CA (the folder moved away): the old CA's leaf is replaced too.
    shutil.rmtree(caroot)
    new_ca = ensure_local_ca(caroot)
    renewed = dev_certificate(tmp_path / "cache", caroot=caroot)
    assert renewed.created
    _leaf(renewed.certfile).verify_directly_issued_by(new_ca.certificate)


@needs_certutil
def test_install_status_uninstall_in_an_nss_database(tmp_path: Path) -> None:
    ca = ensure_local_ca(tmp_path / "ca")
    db = tmp_path / "home" / ".pki" / "nssdb"
    system_before = sorted(SYSTEM_ANCHORS.glob("pushgen-*")) if SYSTEM_ANCHORS.is_dir() else []

    assert status(ca, nss=[db])[0].trusted is False
    states = install(ca, nss=[db], system=False)
    assert [(s.store, s.trusted) for s in states] == [(f"NSS {db}", True)]
    assert (db / "cert9.db").exists()  # made: Chromium reads it once it exists
    assert install(ca, nss=[db], system=False)[0].trusted  # twice is fine
    assert status(ca, nss=[db])[0].trusted is True

    # Another CA in the same database is left alone by uninstall.
    other = ensure_local_ca(tmp_path / "other")
    install(other, nss=[db], system=False)
    assert [s.trusted for s in uninstall(ca, nss=[db], system=False)] == [False]
    assert status(ca, nss=[db])[0].trusted is False
    assert status(other, nss=[db])[0].trusted is True

    after = sorted(SYSTEM_ANCHORS.glob("pushgen-*")) if SYSTEM_ANCHORS.is_dir() else []
    assert after == system_before


@needs_certutil
def test_the_serve_line_says_whether_browsers_trust_the_certificate(tmp_path: Path) -> None:
    caroot, db = tmp_path / "ca", tmp_path / "nssdb"
    plain = dev_certificate(tmp_path / "cache", caroot=caroot)
    line = trust_summary(plain.certfile, caroot=caroot, nss=[db])
    assert "NOT trust" in line and "pushgen trust install" in line

    ca = ensure_local_ca(caroot)
    signed = dev_certificate(tmp_path / "cache", caroot=caroot)
    line = trust_summary(signed.certfile, caroot=caroot, nss=[db])
    assert "not in the browsers' store" in line and "pushgen trust install" in line

    install(ca, nss=[db], system=False)
    line = trust_summary(signed.certfile, caroot=caroot, nss=[db])
    assert line.startswith("browsers trust this certificate"), line


@needs_certutil
def test_the_trust_commands(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trust", "status"]) == 1  # not trusted: a shell's `&&` stops here
    assert "no local CA" in capsys.readouterr().out

    assert main(["trust", "install", "--no-system"]) == 0
    out = capsys.readouterr().out
    db = home / ".pki" / "nssdb"
    assert f"created the local CA {home / 'caroot' / 'rootCA.pem'}" in out
    assert f"NSS {db}: trusted" in out
    assert "system" not in out

    assert main(["trust", "status"]) == 0
    assert f"NSS {db}: trusted" in capsys.readouterr().out

    assert main(["trust", "uninstall", "--no-system"]) == 0
    assert f"NSS {db}: not installed" in capsys.readouterr().out
    assert main(["trust", "status"]) == 1
    assert "browsers do not trust the local CA" in capsys.readouterr().out
    assert (home / "caroot" / "rootCA-key.pem").exists()  # the CA itself stays


def test_a_broken_ca_is_an_error_not_a_traceback(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "caroot").mkdir()
    (home / "caroot" / "rootCA.pem").write_text("junk")
    (home / "caroot" / "rootCA-key.pem").write_text("junk")
    assert main(["trust", "status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {home / 'caroot'}: the local CA cannot be read"), err
    assert "Traceback" not in err


needs_update_ca_certificates = pytest.mark.skipif(
    shutil.which("update-ca-certificates") is None or shutil.which("openssl") is None,
    reason="needs update-ca-certificates and openssl (apt-get install ca-certificates openssl)",
)


def system_store(tmp_path: Path, listed_ca: Path) -> SystemStore:
    """Debian's real update-ca-certificates, on folders of this test's own, listing one CA."""
    root = tmp_path / "system"
    anchors, certs, listed = root / "local", root / "etc-ssl-certs", root / "share"
    for folder in (anchors, certs, listed):
        folder.mkdir(parents=True)
    shutil.copy(listed_ca, listed / "theirs.crt")
    conf = root / "ca-certificates.conf"
    conf.write_text("theirs.crt\n")
    update = ["update-ca-certificates", "--certsconf", str(conf), "--certsdir", str(listed)]
    update += ["--localcertsdir", str(anchors), "--etccertsdir", str(certs)]
    update += ["--hooksdir", str(root / "no-hooks")]
    return SystemStore(anchors, certs, tuple(update))


@needs_certutil
@needs_update_ca_certificates
def test_uninstall_removes_the_links_update_ca_certificates_made(tmp_path: Path) -> None:
    """`trust uninstall --system` left two dangling links in /etc/ssl/certs (issue 22 item 9a)."""
    ca = ensure_local_ca(tmp_path / "caroot")
    # A CA the system lists (as Debian's are): never pushgen's to remove.
    theirs = ensure_local_ca(tmp_path / "theirs").certfile
    store = system_store(tmp_path, theirs)
    assert [s.trusted for s in install(ca, nss=[], store=store)] == [True]
    pem = ca.system_name.removesuffix(".crt") + ".pem"
    installed = set(os.listdir(store.certs))
    made = {pem} | {
        n for n in installed if n.endswith(".0") and os.readlink(store.certs / n) == pem
    }
    assert len(made) == 2, installed  # NAME.pem -> the anchor, HASH.0 -> NAME.pem
    assert {"theirs.pem", "ca-certificates.crt"} < installed
    (store.certs / "0badc0de.1").symlink_to("gone.pem")  # dangling, and not pushgen's
    assert [s.trusted for s in status(ca, nss=[], store=store)] == [True]
    assert [s.trusted for s in uninstall(ca, nss=[], store=store)] == [False]
    assert set(os.listdir(store.certs)) == (installed - made) | {"0badc0de.1"}
    assert list(store.anchors.iterdir()) == []
    assert (store.certs / "ca-certificates.crt").read_bytes() == theirs.read_bytes()
