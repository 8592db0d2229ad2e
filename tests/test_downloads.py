"""Downloading the files users send: whole or refused, and only from where the bot may fetch.

A local server plays Teams' download link and sends several MB in 4 KB chunks, chunked or with a
Content-Length, or drops the connection half-way.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.api import DownloadFailed, DownloadNotAllowed, FileIncomplete, FileTooLarge
from bot.downloads import DownloadPolicy, fetch, is_public
from tests.fakes.files import FileHost

MB = 1024 * 1024
LOCAL = DownloadPolicy(local_mode=True)
AUTHENTICATED = DownloadPolicy(local_mode=False)


def _body(size: int) -> bytes:
    # Not compressible and never repeating, so a missing or doubled chunk shows.
    return os.urandom(size)


@pytest.fixture
async def host() -> AsyncIterator[FileHost]:
    server = FileHost()
    await server.start()
    yield server
    await server.stop()


@pytest.mark.parametrize("mode", ["chunked", "length"])
async def test_a_file_of_several_mb_in_small_chunks_is_read_to_the_end(host, mode):
    body = _body(5 * MB + 123)
    url = host.add(f"big-{mode}.xlsx", body, mode=mode, chunk=4096)
    assert await fetch(url, max_bytes=10 * MB, policy=LOCAL) == body


@pytest.mark.parametrize("mode", ["cut", "cut_chunked"])
async def test_a_connection_dropped_half_way_is_refused_not_returned_short(host, mode):
    url = host.add("cut.csv", _body(3 * MB), mode=mode)
    with pytest.raises(FileIncomplete) as caught:
        await fetch(url, max_bytes=10 * MB, policy=LOCAL)
    assert caught.value.received < 3 * MB
    if mode == "cut":
        assert caught.value.expected == 3 * MB


@pytest.mark.parametrize("mode", ["chunked", "length"])
async def test_a_file_over_the_limit_is_refused_whether_or_not_its_size_is_announced(host, mode):
    url = host.add("huge.csv", _body(3 * MB), mode=mode)
    with pytest.raises(FileTooLarge) as caught:
        await fetch(url, max_bytes=2 * MB, policy=LOCAL)
    assert caught.value.limit == 2 * MB
    assert caught.value.size == (3 * MB if mode == "length" else None)


async def test_an_expired_link_is_a_failed_download(host):
    with pytest.raises(DownloadFailed) as caught:
        await fetch(host.url("gone.csv"), max_bytes=MB, policy=LOCAL)
    assert caught.value.status == 404


# --- where the bot may fetch from -------------------------------------------------------------
async def test_local_mode_fetches_http_from_this_machine_only(host):
    body = _body(100_000)
    assert await fetch(host.add("ok.csv", body), max_bytes=MB, policy=LOCAL) == body
    for url in ("http://192.0.2.10/files/x.csv", "http://files.example.jp/x.csv", "ftp://127.0.0.1/x"):
        with pytest.raises(DownloadNotAllowed):
            await fetch(url, max_bytes=MB, policy=LOCAL)
    # a redirect is checked like the link itself
    with pytest.raises(DownloadNotAllowed):
        await fetch(host.redirect("moved.csv", "http://192.0.2.10/x.csv"), max_bytes=MB, policy=LOCAL)
    assert host.hits == ["ok.csv", "moved.csv"]


async def test_authenticated_mode_refuses_http_and_private_addresses_before_connecting(host):
    host.add("secret.csv", b"internal")
    port = host.base.rsplit(":", 1)[1]
    for url in (
        host.url("secret.csv"),  # http, even to this machine
        f"https://127.0.0.1:{port}/files/secret.csv",
        f"https://localhost:{port}/files/secret.csv",
        f"https://[::ffff:127.0.0.1]:{port}/files/secret.csv",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://10.1.2.3/files/x.csv",
        "https://user:pw@files.example.jp/x.csv",
        "https://[::1/x.csv",  # malformed
    ):
        with pytest.raises(DownloadNotAllowed):
            await fetch(url, max_bytes=MB, policy=AUTHENTICATED)
    assert host.hits == []


def test_what_counts_as_public():
    assert is_public(ipaddress.ip_address("52.108.0.1"))
    for private in ("127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1"):
        assert not is_public(ipaddress.ip_address(private)), private
    for private in ("::1", "fe80::1", "fd00::1", "::ffff:10.0.0.1"):
        assert not is_public(ipaddress.ip_address(private)), private


class _PretendPublic(DownloadPolicy):
    """127.0.0.2 stands for a public file host (SharePoint); every other address is judged as usual."""

    def address_allowed(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return ip == ipaddress.ip_address("127.0.0.2") or super().address_allowed(ip)


def _tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a certificate valid for 127.0.0.x and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "files.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.2")),
                    x509.DNSName("localhost"),
                    x509.DNSName("files.city.example"),
                    x509.DNSName("intranet.city.example"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=pem.decode())
    return server, client


async def test_authenticated_mode_follows_redirects_but_never_into_a_private_address(tmp_path):
    server_tls, client_tls = _tls(tmp_path)
    public, private = FileHost(), FileHost()
    await public.start("127.0.0.2", server_tls)
    await private.start("127.0.0.1", server_tls)
    policy = _PretendPublic(local_mode=False)
    try:
        body = _body(2 * MB)
        public.add("roster.xlsx", body, mode="length")
        # an https redirect to another public place is followed, and the file arrives whole
        moved = public.redirect("moved.xlsx", public.url("roster.xlsx"))
        assert await fetch(moved, max_bytes=10 * MB, policy=policy, ssl_context=client_tls) == body

        private.add("admin.csv", b"internal only")
        port = private.base.rsplit(":", 1)[1]
        for target in (
            private.url("admin.csv"),  # https://127.0.0.1:PORT
            f"https://localhost:{port}/files/admin.csv",  # a name that resolves to loopback
            public.url("roster.xlsx").replace("https://", "http://"),  # down to plain http
        ):
            url = public.redirect("bounce.xlsx", target)
            with pytest.raises(DownloadNotAllowed):
                await fetch(url, max_bytes=10 * MB, policy=policy, ssl_context=client_tls)
        assert private.hits == []
    finally:
        await public.stop()
        await private.stop()


class _CityDNS(AbstractResolver):
    """Names of the test: the file host is "public" (127.0.0.2), the intranet server is not."""

    names = {"files.city.example": "127.0.0.2", "intranet.city.example": "127.0.0.1"}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.names:
            raise OSError(f"unknown name {host}")
        return [
            {
                "hostname": host,
                "host": self.names[host],
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


async def test_a_name_is_judged_by_the_address_it_resolves_to(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.downloads.DefaultResolver", _CityDNS)
    server_tls, client_tls = _tls(tmp_path)
    public, private = FileHost(), FileHost()
    await public.start("127.0.0.2", server_tls)
    await private.start("127.0.0.1", server_tls)
    policy = _PretendPublic(local_mode=False)
    try:
        body = _body(MB)
        public.add("roster.xlsx", body)
        private.add("admin.csv", b"internal only")
        public_port = public.base.rsplit(":", 1)[1]
        private_port = private.base.rsplit(":", 1)[1]
        by_name = f"https://files.city.example:{public_port}/files/roster.xlsx"
        assert await fetch(by_name, max_bytes=10 * MB, policy=policy, ssl_context=client_tls) == body
        intranet = f"https://intranet.city.example:{private_port}/files/admin.csv"
        for url in (intranet, public.redirect("bounce.xlsx", intranet)):
            with pytest.raises(DownloadNotAllowed):
                await fetch(url, max_bytes=10 * MB, policy=policy, ssl_context=client_tls)
        assert private.hits == []
    finally:
        await public.stop()
        await private.stop()
