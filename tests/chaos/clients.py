"""The clients of a fault-injection run: users with funded accounts who send money-moving
requests and retry every ambiguous outcome (connection error, timeout, 5xx, "still in
progress") with the same idempotency key and body until the answer is definitive.

What a client sends is pluggable: an operation draws the next request (`TransferOperation`,
`HoldOperation`); `client_loop` sends whatever its operations draw (and, once a hold is placed,
its capture), and `Stats.outcomes` keeps every request with its definitive answer for the
checks."""

import contextlib
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

import httpx

PASSWORD = "chaos-horse-battery-staple"
STARTING_BALANCE = 1_000_00  # minor units given to each user's first account


def log(message: str, tag: str = "chaos") -> None:
    print(f"[{tag} {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Outcome:
    """One logical request (one idempotency key), however many times it was sent."""

    user_id: str
    key: str
    sender: str
    receiver: str
    minor: int
    path: str = "/api/transactions"
    body: dict = field(default_factory=dict)
    operation: str = "transfer"
    status: int | None = None  # the definitive HTTP status, None while unresolved
    code: str = ""
    reply: dict = field(default_factory=dict)  # the definitive answer's body


class Operation(Protocol):
    name: str

    def draw(self, rng: random.Random, user: dict, everyone: list[str]) -> Outcome:
        """The next request this user sends (not sent yet)."""


def major(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


class TransferOperation:
    """A transfer from one of the user's accounts to any other client's account."""

    name = "transfer"

    def draw(self, rng: random.Random, user: dict, everyone: list[str]) -> Outcome:
        outcome = Outcome(
            user_id=user["id"],
            key=f"chaos-{uuid.uuid4()}",
            sender=rng.choice(user["accounts"]),
            receiver=rng.choice([a for a in everyone if a not in user["accounts"]]),
            minor=rng.randint(1, 5_000),
        )
        outcome.body = {
            "fromAccount": outcome.sender,
            "toAccount": outcome.receiver,
            "amount": major(outcome.minor),
            "idempotencyKey": outcome.key,
        }
        return outcome


class HoldOperation:
    """A hold from one of the user's accounts for any other client's account; once it is
    placed, `client_loop` captures it (whole or in part) under a key of its own."""

    name = "hold"

    def draw(self, rng: random.Random, user: dict, everyone: list[str]) -> Outcome:
        outcome = TransferOperation().draw(rng, user, everyone)
        outcome.path, outcome.operation = "/api/holds", "hold"
        return outcome


def capture_of(rng: random.Random, placed: Outcome) -> Outcome:
    """The capture of a placed hold: the whole of it or a part, under a new key."""
    hold_id = placed.reply["hold"]["_id"]
    outcome = Outcome(
        user_id=placed.user_id,
        key=f"chaos-capture-{uuid.uuid4()}",
        sender=placed.sender,
        receiver=placed.receiver,
        minor=rng.randint(1, placed.minor),
        path=f"/api/holds/{hold_id}/capture",
        operation="capture",
    )
    outcome.body = {"idempotencyKey": outcome.key, "amount": major(outcome.minor)}
    return outcome


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    ambiguous: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    outcomes: list = field(default_factory=list)
    inflight: int = 0
    # Set while the outage is measured: clients hold their next request, so the probe measures
    # the app's answer and not the queue of a dozen clients in front of four sync workers.
    paused: threading.Event = field(default_factory=threading.Event)
    # (monotonic time, HTTP status or None when ambiguous) of every answer, for the
    # write-unavailability window.
    answers: list = field(default_factory=list)

    def drain(self, timeout: float) -> None:
        self.paused.set()
        started = time.monotonic()
        while self.inflight and time.monotonic() - started < timeout:
            time.sleep(0.1)

    def count(self, attr: str, key: str | None = None) -> None:
        with self.lock:
            if key is None:
                setattr(self, attr, getattr(self, attr) + 1)
            else:
                getattr(self, attr)[key] += 1


def ambiguous_reason(response: httpx.Response | None, error: Exception | None) -> str | None:
    """Why this answer says nothing about whether the request took effect, or None when it is
    definitive (2xx: done; 4xx: refused, apart from 'the first attempt is still running')."""
    if error is not None:
        return type(error).__name__
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    if response.status_code == 409 and response.json().get("code") == "idempotency_in_progress":
        return "in progress"
    if response.status_code == 429:
        return "rate limited"  # refused before anything changed: retried like any client would
    return None


def send_until_definitive(
    http: httpx.Client, token: str, outcome: Outcome, stats: Stats, deadline: float
) -> None:
    """POST the request, and again with the same key and body until the answer is definitive."""
    attempt = 0
    while time.monotonic() < deadline:
        while stats.paused.is_set():
            time.sleep(0.1)
        response = error = None
        stats.count("requests")
        stats.count("inflight")
        try:
            response = http.post(
                outcome.path, json=outcome.body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            error = exc
        finally:
            with stats.lock:
                stats.inflight -= 1
        reason = ambiguous_reason(response, error)
        with stats.lock:
            stats.answers.append((time.monotonic(), None if reason else response.status_code))
        if reason is None:
            outcome.status = response.status_code
            with contextlib.suppress(ValueError):
                outcome.reply = response.json()
                outcome.code = outcome.reply.get("code", "")
            return
        stats.count("ambiguous", reason)
        attempt += 1
        delay = min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0)
        if response is not None and response.status_code == 429:
            delay = float(response.headers.get("Retry-After", delay))
        time.sleep(delay)


def client_loop(
    base: str,
    user: dict,
    everyone: list[str],
    stats: Stats,
    stop: threading.Event,
    deadline: float,
    operations: tuple[Operation, ...] = (TransferOperation(),),
) -> None:
    rng = random.Random()
    with httpx.Client(base_url=base, timeout=httpx.Timeout(10.0, connect=3.0)) as http:
        while not stop.is_set():
            outcome = rng.choice(operations).draw(rng, user, everyone)
            with stats.lock:
                stats.outcomes.append(outcome)
            send_until_definitive(http, user["token"], outcome, stats, deadline)
            if outcome.operation == "hold" and outcome.status in (200, 201) and not stop.is_set():
                capture = capture_of(rng, outcome)
                with stats.lock:
                    stats.outcomes.append(capture)
                send_until_definitive(http, user["token"], capture, stats, deadline)


def start_clients(
    base: str, users: list[dict], stats: Stats, stop: threading.Event, deadline: float
) -> list[threading.Thread]:
    everyone = [a for u in users for a in u["accounts"]]
    # Every third client also places holds and captures them, under the same faults.
    mixed = (TransferOperation(), HoldOperation())
    clients = [
        threading.Thread(
            target=client_loop,
            args=(base, u, everyone, stats, stop, deadline),
            kwargs={"operations": mixed} if n % 3 == 2 else {},
        )
        for n, u in enumerate(users)
    ]
    for thread in clients:
        thread.start()
    return clients


def wait_for_service(base: str, token: str, timeout: float) -> float | None:
    """Seconds until an authenticated read succeeds again, or None if it never does."""
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=5.0) as http:
        while time.monotonic() - started < timeout:
            with contextlib.suppress(httpx.HTTPError):
                response = http.get("/api/accounts", headers={"Authorization": f"Bearer {token}"})
                if response.status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.2)
    return None


def set_up_users(base: str, count: int, system_email: str) -> list[dict]:
    """`count` users, each with two accounts, the first funded with STARTING_BALANCE."""
    users = []
    with httpx.Client(base_url=base, timeout=30.0) as http:
        system_token = (
            http.post("/api/auth/login", json={"email": system_email, "password": PASSWORD})
            .raise_for_status()
            .json()["token"]
        )
        for n in range(count):
            reply = (
                http.post(
                    "/api/auth/register",
                    json={
                        "name": f"Client {n}",
                        "email": f"client{n}@chaos.example",
                        "password": PASSWORD,
                    },
                )
                .raise_for_status()
                .json()
            )
            auth = {"Authorization": f"Bearer {reply['token']}"}
            accounts = [
                http.post("/api/accounts", json={}, headers=auth)
                .raise_for_status()
                .json()["account"]["_id"]
                for _ in range(2)
            ]
            http.post(
                "/api/transactions/system/initial-funds",
                json={
                    "toAccount": accounts[0],
                    "amount": f"{STARTING_BALANCE // 100}",
                    "idempotencyKey": f"seed-{n}",
                },
                headers={"Authorization": f"Bearer {system_token}"},
            ).raise_for_status()
            users.append(
                {"id": reply["user"]["_id"], "token": reply["token"], "accounts": accounts}
            )
    return users
