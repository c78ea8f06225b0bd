"""Real servers on loopback for the webhook tests: an HTTP receiver that keeps what it gets
and answers as told (or hangs), and a DNS server whose answers a test changes."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

# The ports this test suite may use for its servers.
PORTS = range(8650, 8700)


def _bind(kind: int) -> socket.socket:
    for port in PORTS:
        sock = socket.socket(socket.AF_INET, kind)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        return sock
    raise RuntimeError("no free port in 8650-8699")


class Receiver:
    """A webhook endpoint. `statuses` are answered in turn (the last one from then on);
    with `hang`, every request waits until the receiver is stopped."""

    def __init__(self, *statuses: int, hang: bool = False):
        self.requests: list[tuple[dict, str]] = []
        self.statuses = list(statuses) or [200]
        self._release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with receiver._lock:
                    receiver.requests.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    count = len(receiver.requests)
                if hang:
                    receiver._release.wait(60)
                status = receiver.statuses[min(count, len(receiver.statuses)) - 1]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        sock = _bind(socket.SOCK_STREAM)
        self.port = sock.getsockname()[1]
        sock.close()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/hook"

    def stop(self):
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


class DnsServer:
    """Answers A queries for the names in `answers` (changeable at any time), NXDOMAIN for
    other names, and an empty answer for other record types."""

    def __init__(self):
        self.answers: dict[str, str] = {}
        self._sock = _bind(socket.SOCK_DGRAM)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stopping.is_set():
            try:
                wire, client = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            response = dns.message.make_response(query)
            if name not in self.answers:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.A:
                response.answer.append(
                    dns.rrset.from_text(question.name, 0, "IN", "A", self.answers[name])
                )
            self._sock.sendto(response.to_wire(), client)

    def stop(self):
        self._stopping.set()
        self._thread.join()
        self._sock.close()
