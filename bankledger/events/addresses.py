"""Where a webhook may point (API.md, against server-side request forgery): https only unless
WEBHOOK_ALLOW_HTTP, and a host that is and resolves only to public addresses unless
WEBHOOK_ALLOW_PRIVATE_NETWORKS. Checked when the webhook is registered and again before each
delivery, after resolving the name then, and the delivery connects to the very address that
was checked: a name that later resolves to 127.0.0.1 (DNS rebinding) is refused.

Names are resolved with dnspython against the system's resolvers (or WEBHOOK_DNS_SERVERS),
not the C library: the answer must be the addresses themselves, checked before any socket is
opened, and the servers asked must be configurable."""

import ipaddress
from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from django.conf import settings

from bankledger.events.exceptions import InvalidWebhookUrl

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _is_public(address: Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return _is_public(mapped)
    return address.is_global and not address.is_multicast


def _resolver() -> dns.resolver.Resolver:
    servers = settings.WEBHOOK_DNS_SERVERS
    if not servers:
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host for host, _port in servers]
    resolver.nameserver_ports = {host: port for host, port in servers}
    return resolver


def _resolve(host: str) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    resolver, found = _resolver(), []
    resolver.lifetime = settings.WEBHOOK_DNS_TIMEOUT
    for record_type in ("A", "AAAA"):
        try:
            answer = resolver.resolve(host, record_type)
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            continue
        except dns.exception.DNSException as exc:
            raise InvalidWebhookUrl(f"The webhook host {host!r} could not be resolved.") from exc
        found += [ipaddress.ip_address(record.address) for record in answer]
    if not found:
        raise InvalidWebhookUrl(f"The webhook host {host!r} does not resolve.")
    return found


def url_check(url: str) -> tuple[str, Address]:
    """The URL's host name and the address to connect to, or `InvalidWebhookUrl`."""
    parts = urlsplit(url)
    allowed = {"https", "http"} if settings.WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        raise InvalidWebhookUrl("The webhook URL must be https.")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("The webhook URL needs a host and no user or password.")
    try:
        parts.port  # noqa: B018 -- raises on a port out of range
    except ValueError as exc:
        raise InvalidWebhookUrl("The webhook URL has an invalid port.") from exc
    addresses = _resolve(parts.hostname)
    if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS and not all(map(_is_public, addresses)):
        raise InvalidWebhookUrl(
            "The webhook URL may not point at a loopback, private, link-local or multicast address."
        )
    return parts.hostname, addresses[0]
