import pytest

from tests.events.servers import DnsServer, Receiver


@pytest.fixture
def receivers():
    """receivers(*statuses, hang=False): real HTTP receivers on loopback, stopped afterwards."""
    started = []

    def start(*statuses, hang=False):
        started.append(Receiver(*statuses, hang=hang))
        return started[-1]

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def dns_server(settings):
    """A real DNS server on loopback that the webhook address checks ask."""
    server = DnsServer()
    settings.WEBHOOK_DNS_SERVERS = [("127.0.0.1", server.port)]
    yield server
    server.stop()


@pytest.fixture
def local_webhooks(settings):
    """Allow http and loopback endpoints, as the receivers on loopback need."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_RETRY_BACKOFF = 0
    return settings
