"""The end checks of a fault-injection run: what the clients were told against what the database
holds, and `verify_ledger`. Shared by `make chaos` and `make ha-chaos`."""

import subprocess
from collections import Counter

from tests.chaos.app import PYTHON, ROOT
from tests.chaos.clients import Outcome, Stats


def verify(outcomes: list[Outcome], seeded: dict[str, int], env: dict) -> dict:
    """Compare what clients were told with what the database that `env` names holds. The
    calling process's environment must name the same database (Django reads it on setup)."""
    import django

    django.setup()
    from django.db.models import Count, Q

    from accounts.models import Account
    from ledger.models import Hold, LedgerEntry
    from transactions.models import Transaction

    lost, duplicated, wrong = [], [], []
    by_key = {
        (str(t.initiator_id), t.idempotency_key): t
        for t in Transaction.objects.filter(kind=Transaction.Kind.TRANSFER)
    }
    legs = {
        row["transaction_id"]: row
        for row in LedgerEntry.objects.values("transaction_id").annotate(
            debits=Count("id", filter=Q(type="DEBIT")), credits=Count("id", filter=Q(type="CREDIT"))
        )
    }
    holds = _holds_verify(outcomes, Hold, Transaction, legs)
    sent_keys = set()
    for outcome in outcomes:
        if outcome.operation != "transfer":
            continue
        sent_keys.add((outcome.user_id, outcome.key))
        row = by_key.get((outcome.user_id, outcome.key))
        moved = legs.get(row.id) if row else None
        if outcome.status in (200, 201):
            if (
                row is None
                or row.status != Transaction.Status.COMPLETED
                or row.amount != outcome.minor
            ):
                lost.append(outcome.key)
            elif moved is None or (moved["debits"], moved["credits"]) != (1, 1):
                wrong.append(outcome.key)
        elif outcome.status is not None and moved:
            wrong.append(outcome.key)  # refused, yet money moved
        if moved and (moved["debits"] > 1 or moved["credits"] > 1):
            duplicated.append(outcome.key)
    strays = [key for key in by_key if key not in sent_keys]
    duplicated += [str(key) for key in strays]
    negative = Account.objects.filter(balance__lt=0, is_funding=False).count()
    # What the clients were told must add up to every balance: any money moved twice (or lost)
    # behind their backs shows here even if it escaped the per-key checks above.
    expected = Counter()
    for outcome in outcomes:
        if outcome.status in (200, 201) and outcome.operation != "hold":
            expected[outcome.sender] -= outcome.minor
            expected[outcome.receiver] += outcome.minor
    drifted = [
        str(account.id)
        for account in Account.objects.filter(is_funding=False)
        if account.balance - seeded.get(str(account.id), 0) != expected[str(account.id)]
    ]
    ledger = subprocess.run(
        [PYTHON, "manage.py", "verify_ledger"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return {
        **holds,
        "lost": lost,
        "duplicated": duplicated,
        "wrong": wrong,
        "negative": negative,
        "drifted": drifted,
        "verify_ledger": (ledger.returncode, (ledger.stdout + ledger.stderr).strip()),
    }


def _holds_verify(outcomes: list[Outcome], Hold, Transaction, legs: dict) -> dict:
    """Holds and captures: every acknowledged hold exists for its key; every acknowledged
    capture is exactly one COMPLETED CAPTURE of its amount with its two legs, and its hold is
    CAPTURED with it; a refused capture moved nothing; no hold is captured twice and no
    CAPTURED hold lacks its transaction."""
    from django.db.models import Count, Q

    captures = {
        (str(t.initiator_id), t.idempotency_key): t
        for t in Transaction.objects.filter(kind=Transaction.Kind.CAPTURE)
    }
    placed = {(str(h.initiator_id), h.idempotency_key): h for h in Hold.objects.all()}
    lost, wrong = [], []
    for outcome in outcomes:
        key = (outcome.user_id, outcome.key)
        if outcome.operation == "hold" and outcome.status in (200, 201):
            hold = placed.get(key)
            if hold is None or hold.amount != outcome.minor:
                lost.append(outcome.key)
        if outcome.operation != "capture":
            continue
        row = captures.get(key)
        moved = legs.get(row.id) if row else None
        if outcome.status in (200, 201):
            if row is None or row.status != "COMPLETED" or row.amount != outcome.minor:
                lost.append(outcome.key)
            elif (
                moved is None
                or (moved["debits"], moved["credits"]) != (1, 1)
                or Hold.objects.get(id=row.hold_id).transaction_id != row.id
            ):
                wrong.append(outcome.key)
        elif outcome.status is not None and moved:
            wrong.append(outcome.key)
    completed = Transaction.objects.filter(kind="CAPTURE").exclude(status="FAILED")
    twice = completed.values("hold_id").annotate(n=Count("id")).filter(n__gt=1).count()
    bare = (
        Hold.objects.filter(status="CAPTURED")
        .filter(Q(transaction__isnull=True) | ~Q(transaction__status="COMPLETED"))
        .count()
    )
    return {
        "holds_lost": lost,
        "holds_wrong": wrong,
        "captured_twice": twice,
        "captured_without_transaction": bare,
    }


def summary(stats: Stats, result: dict) -> tuple[list[tuple], dict]:
    """The report's rows and the failures (name -> count; any non-zero fails the run)."""
    outcomes = stats.outcomes
    statuses = Counter(o.status for o in outcomes)
    acknowledged = statuses[200] + statuses[201]
    refused = {k: v for k, v in statuses.items() if k and k >= 400}
    ledger_says = result["verify_ledger"][1].splitlines()[-1:] or [""]
    rows = [
        ("requests sent", stats.requests),
        ("transfers attempted", len(outcomes)),
        ("  acknowledged (201/200)", f"{acknowledged}  (200 replays: {statuses[200]})"),
        ("  refused (4xx)", f"{sum(refused.values())}  {refused}"),
        ("faults injected", f"{sum(stats.faults.values())}  {dict(stats.faults)}"),
        ("ambiguous outcomes retried", f"{sum(stats.ambiguous.values())}  {dict(stats.ambiguous)}"),
        (
            "holds placed (201/200)",
            sum(o.operation == "hold" and o.status in (200, 201) for o in outcomes),
        ),
        (
            "captures acknowledged",
            sum(o.operation == "capture" and o.status in (200, 201) for o in outcomes),
        ),
        ("holds or captures lost", len(result["holds_lost"])),
        ("holds captured twice", result["captured_twice"]),
        ("captured without transaction", result["captured_without_transaction"]),
        ("transfers lost", len(result["lost"])),
        ("transfers duplicated", len(result["duplicated"])),
        ("user accounts below zero", result["negative"]),
        ("balances off the clients' view", len(result["drifted"])),
        ("verify_ledger", ledger_says[0]),
    ]
    failures = {
        "transfers lost": len(result["lost"]),
        "transfers duplicated": len(result["duplicated"]),
        "acknowledged without exactly one debit and one credit, or refused yet moved": len(
            result["wrong"]
        ),
        "user accounts below zero": result["negative"],
        "balances that differ from what clients were told": len(result["drifted"]),
        "transfers never answered definitively": statuses[None],
        "verify_ledger exit status": result["verify_ledger"][0],
        "holds or captures lost": len(result["holds_lost"]),
        "captures that do not match their hold, or refused yet moved": len(result["holds_wrong"]),
        "holds captured twice": result["captured_twice"],
        "CAPTURED holds without their transaction": result["captured_without_transaction"],
    }
    return rows, failures


def print_rows(title: str, rows: list[tuple]) -> None:
    print(f"\n==== {title} ====")
    for name, value in rows:
        print(f"{name:<32} {value}")


def print_verdict(failures: dict, result: dict, tail: str) -> int:
    """Print OK or what failed (with the app log's tail); the exit status."""
    bad = {k: v for k, v in failures.items() if v}
    if bad:
        print(f"FAILED: {bad}")
        for name in ("lost", "duplicated", "wrong", "holds_lost", "holds_wrong"):
            if result[name]:
                print(f"  {name}: {result[name][:10]}")
        print(f"last lines of the gunicorn log:\n{tail}")
        return 1
    print("OK: nothing lost, nothing duplicated, ledger verified")
    return 0
