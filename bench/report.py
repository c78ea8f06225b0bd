"""The README's Benchmarks tables, in Markdown, from one `make bench` result file:

.venv/bin/python -m bench.report bench/results/<run>.json"""

import json
import sys
from pathlib import Path

_CPU = ("app", "postgres", "load")


def _cpu(row: dict) -> list[str]:
    cpu = row.get("cpu_ms_per_transfer") or row.get("cpu_ms_per_request", {})
    return ["" if cpu.get(name) is None else f"{cpu[name]:.2f}" for name in _CPU]


def _ms(value) -> str:
    return "" if value is None else f"{value:.2f}"


def runs_table(result: dict) -> str:
    lines = [
        "| run | transfers/s | p50 ms | p95 ms | p99 ms | errors | vs yardstick "
        "| app CPU ms | PostgreSQL CPU ms | load generator CPU ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"http": "app", "yardstick": "yardstick", "batches": "app", "servers": "server"}
    for source, prefix in names.items():
        for key, row in result.get(source, {}).items():
            if source == "batches":
                size, clients = key.removeprefix("batch").split("/")
                label = f"app batches of {size}, {clients} clients"
            elif source == "servers":
                label = f"{key}, uniform, {result.get('batch_clients', 8)} clients"
            else:
                mix, clients = key.split("/")
                label = f"{prefix} {mix}, {clients} client{'s' if clients != '1' else ''}"
            ratio = row.get("ratio_to_yardstick")
            cells = [
                label,
                f"{row['transfers_per_s']:.1f}",
                _ms(row.get("p50_ms")),
                _ms(row.get("p95_ms")),
                _ms(row.get("p99_ms")),
                str(row.get("errors", 0)),
                "" if ratio is None else f"{ratio:.1%}",
                *_cpu(row),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    for key, label in (
        ("service", "in-process: bankledger transfer service, 8 threads"),
        ("hordak", "in-process: django-hordak `transfer_to`, 8 threads"),
        ("psycopg_loop", "in-process: plain psycopg loop (yardstick SQL), 8 threads"),
    ):
        if key in result:
            row = result[key]
            cells = [
                label,
                f"{row['transfers_per_s']:.1f}",
                _ms(row.get("p50_ms")),
                "",
                _ms(row.get("p99_ms")),
                str(row.get("errors", 0)),
                "",
                *_cpu(row),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_table(result: dict) -> str:
    lines = ["| figure | measured | target | |", "|---|---:|---:|---|"]
    for name, target in result["targets"].items():
        verdict = "met" if target["met"] else "missed"
        lines.append(f"| `{name}` | {target['value']} | {target.get('target', '')} | {verdict} |")
    return "\n".join(lines)


def statements(result: dict) -> str:
    return "\n".join(
        f"- {name}: {counts['per_request']} statements per request ("
        + ", ".join(f"{kind} {n}" for kind, n in counts["by_kind"].items())
        + ")"
        for name, counts in result.get("statements", {}).items()
    )


def main() -> None:
    result = json.loads(Path(sys.argv[1]).read_text())
    print(runs_table(result), targets_table(result), statements(result), sep="\n\n")


if __name__ == "__main__":
    main()
