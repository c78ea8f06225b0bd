"""The PNG chart of a `make bench` run: transfers/s and p99 latency against concurrency, the
app (HTTP) beside the raw-SQL yardstick, uniform and hot-account mixes."""

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
    figure, (throughput, p99) = plt.subplots(1, 2, figsize=(11, 4.2))
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
