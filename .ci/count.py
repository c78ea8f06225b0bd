"""Add up the JUnit XML reports that .ci/run's runners wrote into one folder and print the one
plain closing line CI is read by: `N passed, N failed` (skipped ones follow when there are any).
Exits 1 when anything failed or nothing ran."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def count(folder: Path) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for report in sorted(folder.glob("*.xml")):
        # The reports are the ones this CI run just wrote, not outside input.
        for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314
            outcome = {child.tag for child in case}
            if outcome & {"failure", "error"}:
                failed += 1
            elif "skipped" in outcome:
                skipped += 1
            else:
                passed += 1
    return passed, failed, skipped


def main() -> int:
    passed, failed, skipped = count(Path(sys.argv[1]))
    line = f"{passed} passed, {failed} failed"
    print(f"{line}, {skipped} skipped" if skipped else line)
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
