"""The Knative ingress gateways (what Kourier's or Istio's Envoy does), for the test double.

An HTTP/1.1 reverse proxy on loopback that routes each request by its `Host` header to the
revision serving that Knative Service, as a real ingress does: an unknown host gets 404, a
Service whose revision is down gets 503. The public gateway (`kourier`) serves only
Services' external names, never a `*.svc.cluster.local` one (Knative's "Configuring
Services visibility": such URLs are not exposed through the ingress), so a cluster without a
configured domain answers 404 there; the local gateway (`local=True`, Kourier's
`kourier-internal`, Istio's `knative-local-gateway`) serves every Service's cluster-local
name. With `http-protocol: Redirected` the public gateway answers plain http with `301` to
the https URL, and its TLS listener (`tls=`) serves the Services, as Knative's "HTTPS
redirection" does. Answers are streamed through as they come (a held wren request stays
open), and each request counts as in flight at its revision while it lasts, as the
queue-proxy counts it for the autoscaler; like the queue-proxy, the gateway ends a request
that outlasts its revision's `timeoutSeconds` (the connection is cut mid-answer). Connections to revisions are kept alive per proxy
thread. Tests may ask it to fail the next few `POST`s with a given status (`inject`), as an
overloaded gateway does.
"""

from __future__ import annotations

import datetime
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.doubles.knative_serving import KnativeServing

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade",
               "proxy-connection", "host", "content-length"}


class QuietHandler(BaseHTTPRequestHandler):
    """An HTTP/1.1 (keep-alive) handler that logs nothing and answers in one call."""

    protocol_version = "HTTP/1.1"
    #: Headers and body go out as separate writes: without TCP_NODELAY, Nagle's algorithm
    #: and the client's delayed ACK hold each answer back by some 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, code: int, body: bytes,
                headers: Sequence[tuple[str, str]] = ()) -> None:
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ProxyHandler(QuietHandler):
    server: IngressServer

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = self.server.take_fault() if self.command == "POST" else None
        if fault is not None:
            self._answer(fault, b"injected by the test double")
            return
        host = (self.headers.get("Host") or "").split(":")[0]
        serving = self.server.serving
        if not self.server.local and self.server.tls is None and serving.redirects(host):
            self._answer(301, b"", [("Location", f"https://{host}{self.path}")])
            return
        revision = serving.route(host, self.server.local)
        if revision is None:
            self._answer(404, b"")
            return
        serving.request_started(revision)
        try:
            self._proxy(revision, host, body)
        finally:
            serving.request_ended(revision)

    def _proxy(self, revision: Any, host: str, body: bytes) -> None:
        started = time.monotonic()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers.update({"Host": host, "Content-Length": str(len(body)),
                        "X-Forwarded-For": self.client_address[0]})
        for attempt in range(2):  # a kept-alive upstream connection may have been closed
            connection = self.server.upstream(revision.port)
            try:
                connection.request(self.command, self.path, body, headers)
                answer = connection.getresponse()
                if answer.chunked:
                    break
                data = answer.read()
            except (OSError, http.client.HTTPException):
                self.server.drop(revision.port)
                if attempt == 0 and revision.process is not None and \
                        revision.process.poll() is None:
                    continue
                self._answer(503, b"upstream connect error or disconnect/reset before headers")
                return
            break
        if answer.chunked:
            timed_out = threading.Event()

            def cut() -> None:  # what the queue-proxy does at the revision's timeoutSeconds
                timed_out.set()
                for sock in (connection.sock, self.connection):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

            limit = started + float(revision.labels.get("timeout", 300)) - time.monotonic()
            timer = threading.Timer(max(0.0, limit), cut)
            timer.daemon = True
            timer.start()
            try:
                self._stream(answer, timed_out)
            except (OSError, http.client.HTTPException):
                self.close_connection = True
            finally:
                timer.cancel()
                if not answer.isclosed() or timed_out.is_set():
                    self.server.drop(revision.port)
            return
        passed = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
        self._answer(answer.status, data, passed)

    def _stream(self, answer: http.client.HTTPResponse, timed_out: threading.Event) -> None:
        """Pass a chunked answer on as its chunks arrive (until `timed_out` is set)."""
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while True:
            data = answer.read1(65536)
            if timed_out.is_set():
                raise ConnectionAbortedError("the revision's timeoutSeconds ran out")
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
            if not data:
                return

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward


class IngressServer(ThreadingHTTPServer):
    """The proxy server; `upstream(port)` is this thread's kept-alive connection."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, serving: KnativeServing, *, local: bool = False,
                 tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.serving, self.local, self.tls = serving, local, tls
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self._local = threading.local()
        self._faults: list[int] = []
        self._faults_lock = threading.Lock()

    def inject(self, status: int, count: int) -> None:
        """Answer the next `count` POSTs with `status` instead of forwarding them."""
        with self._faults_lock:
            self._faults = [status] * count

    def take_fault(self) -> int | None:
        with self._faults_lock:
            return self._faults.pop() if self._faults else None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def upstream(self, port: int) -> http.client.HTTPConnection:
        pool: dict[int, http.client.HTTPConnection] = self._local.__dict__.setdefault("pool",
                                                                                     {})
        connection = pool.get(port)
        if connection is None:
            connection = pool[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        return connection

    def drop(self, port: int) -> None:
        connection = self._local.__dict__.get("pool", {}).pop(port, None)
        if connection is not None:
            connection.close()


def gateway_certificate(directory: Path, names: Sequence[str]) -> tuple[Path, Path, Path]:
    """A CA (what cert-manager's issuer is for Knative's auto-TLS) and the gateway's
    certificate for `names` that it signed (e.g. `*.wren-test.example.com`): the paths of
    the CA's certificate, the gateway's certificate, and the gateway's key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def issue(subject: str, issuer: tuple[Any, Any] | None, extensions: list[Any]
              ) -> tuple[Any, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        signer_name, signer_key = issuer if issuer else (name, key)
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
        builder = x509.CertificateBuilder(
            subject_name=name, issuer_name=signer_name, public_key=key.public_key(),
            serial_number=x509.random_serial_number(), not_valid_before=start,
            not_valid_after=start + datetime.timedelta(days=2))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signer_key, hashes.SHA256()), key

    ca, ca_key = issue("wren-test knative issuer",
                       None, [(x509.BasicConstraints(ca=True, path_length=0), True)])
    leaf, leaf_key = issue("knative-gateway", (ca.subject, ca_key), [
        (x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False),
        (x509.BasicConstraints(ca=False, path_length=None), True)])
    paths = (directory / "gateway-ca.pem", directory / "gateway.pem", directory / "gateway.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM,
                                                serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return paths


class Gateways:
    """The networking layer of the double: the public gateway (`kourier` in
    kourier-system), the local one (`kourier-internal`), and with `http-protocol:
    Redirected` the public gateway's TLS listener; `services()` are their Kubernetes
    Services, as Kourier installs them (the public one with a load-balancer address)."""

    def __init__(self, serving: KnativeServing, workdir: Path,
                 namespaces: Sequence[str] = ("wren-test", "default")) -> None:
        self.public = IngressServer(serving)
        self.local = IngressServer(serving, local=True)
        self.tls: IngressServer | None = None
        self.ca_file: Path | None = None
        if serving.http_protocol == "Redirected":
            self.ca_file, certificate, key = gateway_certificate(
                workdir, [f"*.{ns}.{serving.domain}" for ns in namespaces])
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate, key)
            self.tls = IngressServer(serving, tls=context)

    def servers(self) -> list[IngressServer]:
        return [self.public, self.local] + ([self.tls] if self.tls is not None else [])

    def services(self) -> list[dict[str, Any]]:
        ports = [{"name": "http2", "port": self.public.port, "protocol": "TCP",
                  "targetPort": 8080, "nodePort": self.public.port}]
        if self.tls is not None:
            ports.append({"name": "https", "port": self.tls.port, "protocol": "TCP",
                          "targetPort": 8443, "nodePort": self.tls.port})
        labels = {"networking.knative.dev/ingress-provider": "kourier"}
        return [
            {"metadata": {"name": "kourier", "namespace": "kourier-system", "labels": labels},
             "spec": {"type": "LoadBalancer", "ports": ports},
             "status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}},
            {"metadata": {"name": "kourier-internal", "namespace": "kourier-system",
                          "labels": labels},
             "spec": {"type": "ClusterIP", "ports": [
                 {"name": "http2", "port": self.local.port, "protocol": "TCP",
                  "targetPort": 8081}]}}]

    def shutdown(self) -> None:
        for server in self.servers():
            server.shutdown()
