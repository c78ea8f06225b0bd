"""The PNG chart of a `make bench` run: transfers/s and p99 latency against concurrency, the
app (HTTP) beside the raw-SQL yardstick, uniform and hot-account mixes; CPU per transfer of each
run at 8 clients; the in-process runs (the transfer service, django-hordak, plain psycopg)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

_STYLES = {
    ("http", "uniform"): ("app uniform", "tab:blue", "-"),
    ("http", "hot"): ("app hot", "tab:blue", "--"),
    ("yardstick", "uniform"): ("yardstick uniform", "tab:gray", "-"),
    ("yardstick", "hot"): ("yardstick hot", "tab:gray", "--"),
}


def draw(result: dict, path: Path) -> Path:
    figure, ((throughput, p99), (cpu, in_process)) = plt.subplots(2, 2, figsize=(12, 8.4))
    for (source, mix), (label, color, line) in _STYLES.items():
        rows = [
            (int(key.split("/")[1]), row)
            for key, row in result[source].items()
            if key.startswith(f"{mix}/")
        ]
        if not rows:
            continue
        clients = [c for c, _ in rows]
        throughput.plot(
            clients,
            [r["transfers_per_s"] for _, r in rows],
            line,
            color=color,
            marker="o",
            label=label,
        )
        p99.plot(
            clients, [r["p99_ms"] for _, r in rows], line, color=color, marker="o", label=label
        )
    for axis, title, unit in (
        (throughput, "Throughput", "transfers/s"),
        (p99, "p99 latency", "ms"),
    ):
        axis.set_xscale("log", base=2)
        axis.set_xticks(result["levels"], [str(level) for level in result["levels"]])
        axis.set_xlabel("concurrent clients")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    p99.set_yscale("log")
    _cpu(cpu, result)
    _in_process(in_process, result)
    m = result["machine"]
    figure.suptitle(
        f"bankledger ({result['server']}, {result['database']} "
        f"{m.get('postgresql', '')}) on {m['nproc']} x {m['cpu']}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


_CPU_PARTS = (("app", "tab:blue"), ("postgres", "tab:orange"), ("load", "tab:gray"))


def _cpu(axis, result: dict) -> None:
    """Stacked bars: ms of CPU per transfer in the app's workers, PostgreSQL's backends and the
    load generator, for each run at 8 clients."""
    rows = [(f"app {key}", row) for key, row in result["http"].items() if key.endswith("/8")]
    rows += [(f"app {key}", row) for key, row in result["batches"].items()]
    rows += [(key.split(",")[0], row) for key, row in result.get("servers", {}).items()]
    rows += [(f"yardstick {key}", row) for key, row in result["yardstick"].items()]
    rows = [(label, row) for label, row in rows if label.endswith("/8") or "yardstick" not in label]
    labels = [label for label, _ in rows]
    bottoms = [0.0] * len(rows)
    for part, color in _CPU_PARTS:
        values = [
            (row.get("cpu_ms_per_transfer") or row.get("cpu_ms_per_request", {})).get(part, 0)
            for _, row in rows
        ]
        axis.barh(labels, values, left=bottoms, color=color, label=part)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axis.invert_yaxis()
    axis.set_xlabel("ms of CPU per transfer (8 clients)")
    axis.set_title("CPU per transfer")
    axis.tick_params(axis="y", labelsize=7)
    axis.grid(True, axis="x", alpha=0.3)
    axis.legend(fontsize=8)


def _in_process(axis, result: dict) -> None:
    rows = [
        (label, result[key]["transfers_per_s"])
        for key, label in (
            ("service", "bankledger\ntransfer service"),
            ("hordak", "django-hordak\ntransfer_to"),
            ("psycopg_loop", "plain psycopg\nloop"),
        )
        if key in result
    ]
    if not rows:
        axis.set_visible(False)
        return
    axis.bar([label for label, _ in rows], [rate for _, rate in rows], color="tab:green")
    axis.set_ylabel("transfers/s")
    axis.set_title("In-process, 8 threads")
    axis.grid(True, axis="y", alpha=0.3)
