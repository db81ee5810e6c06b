"""The drivers' CA file on the host: the RDS CAs (cluster endpoints) and Amazon Trust Services'
roots (RDS Proxy endpoints present ACM certificates, which the RDS bundle does not cover)."""
from __future__ import annotations

import io
import re
import socket
import ssl
import subprocess
import tarfile
import threading

import certifi
import yaml

from app import cloud_init
from app.settings import DEFAULT_CA_BUNDLE
from tests.app.dbservers import HOST, make_pki
from tests.app.test_cloud_init import LONG

ROOTS = ("Amazon Root CA 1", "Amazon Root CA 2", "Amazon Root CA 3", "Amazon Root CA 4",
         "Starfield Services Root Certificate Authority - G2")
_BLOCK = re.compile(r'# Label: "([^"]+)"\n(?:#[^\n]*\n)*(-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n)',
                    re.S)


def _by_label(text: str) -> dict[str, bytes]:
    return {label: ssl.PEM_cert_to_DER_cert(pem) for label, pem in _BLOCK.findall(text)}


def _shipped_roots() -> bytes:
    with tarfile.open(fileobj=io.BytesIO(cloud_init.app_archive())) as tar:
        member = tar.extractfile(f"app/{cloud_init.AMAZON_ROOTS_FILE}")
        assert member is not None
        return member.read()


def test_the_shipped_roots_are_amazon_trust_services_roots_as_certifi_has_them():
    shipped = _by_label(_shipped_roots().decode())
    assert sorted(shipped) == sorted(ROOTS)
    trusted = _by_label(open(certifi.where(), encoding="utf-8").read())
    for label, der in shipped.items():
        assert trusted[label] == der, f"{label} differs from certifi's copy"


def test_install_sh_writes_the_ca_file_the_app_reads_and_it_verifies_a_cluster_endpoint(tmp_path):
    pki = make_pki(tmp_path / "pki")
    d = tmp_path / "opt"
    (d / "app").mkdir(parents=True)
    (d / cloud_init.RDS_CA_FILE).write_bytes(pki.ca_file.read_bytes())  # stands in for the RDS bundle
    (d / "app" / cloud_init.AMAZON_ROOTS_FILE).write_bytes(_shipped_roots())
    script = tmp_path / "install.sh"
    files = {f["path"]: f["content"] for f in yaml.safe_load(cloud_init.render_user_data(**LONG))["write_files"]}
    script.write_text(files[f"{cloud_init.INSTALL_DIR}/install.sh"])
    subprocess.run(["bash", str(script), "--db-ca", str(d)], check=True, timeout=30)
    assert DEFAULT_CA_BUNDLE == f"{cloud_init.INSTALL_DIR}/{cloud_init.DB_CA_FILE}"
    ca_file = d / cloud_init.DB_CA_FILE
    client = ssl.create_default_context(cafile=str(ca_file))
    subjects = {dict(x[0] for x in c["subject"]).get("commonName") or dict(x[0] for x in c["subject"]).get(
        "organizationName") for c in client.get_ca_certs()}
    assert {"aurorakit test ca", "Amazon Root CA 1", "Amazon Root CA 4"} <= subjects
    assert len(client.get_ca_certs()) == 1 + len(ROOTS)
    # A real handshake: a server certificate of the "RDS" CA verifies through the combined file.
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki.cert_file, pki.key_file)
    with socket.create_server((HOST, 0)) as listener:
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with server.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with socket.create_connection((HOST, port), timeout=10) as raw, \
                client.wrap_socket(raw, server_hostname=HOST) as tls:
            assert tls.version() is not None
            tls.sendall(b"x")
        thread.join(timeout=10)
