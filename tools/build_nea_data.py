"""Copy the shipped inputs of the built-in ``nea`` zone catalog from the shared data.

Run by developers, never at run time::

    .venv/bin/python tools/build_nea_data.py [--shared ../shared/data] [--check]

The five input files are copied **byte for byte** from the shared data set (its
``SOURCES.md`` documents their provenance) into ``src/patrolwatch/data/nea/``; nothing is
derived here. The zone polygons are derived from these files by
``patrolwatch.catalog._build`` at first use and cached (see ``docs/catalog.md``).
After copying, the script prints each file's size and SHA-256 (to paste into
``PROVENANCE.md``), checks every file is under 5 MB, and with ``--check`` only compares
the shipped copies with the shared originals and fails on any difference.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "src" / "patrolwatch" / "data" / "nea"
MAX_FILE_BYTES = 5_000_000

# shipped name -> path relative to the shared data directory
FILES = {
    "nea_land_gshhg_f.geojson.gz": "land/nea_land_gshhg_f.geojson.gz",
    "islets.geojson": "zones/islets.geojson",
    "baselines.geojson": "baselines/baselines.geojson",
    "japan_specified_straits.geojson": "straits/japan_specified_straits.geojson",
    "adiz.geojson": "zones/adiz.geojson",
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    """Copy (or with ``--check`` compare) the shipped inputs; return a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--check", action="store_true", help="compare only, copy nothing")
    args = parser.parse_args(argv)
    if not args.shared.is_dir():
        print(f"shared data directory {args.shared} not found; pass --shared", file=sys.stderr)
        return 2
    DEST.mkdir(parents=True, exist_ok=True)
    status = 0
    total = 0
    for name, rel in FILES.items():
        src, dst = args.shared / rel, DEST / name
        if args.check:
            same = dst.exists() and _sha256(src) == _sha256(dst)
            print(f"{'ok  ' if same else 'DIFF'} {name}")
            status |= 0 if same else 1
        else:
            shutil.copyfile(src, dst)
        size = dst.stat().st_size if dst.exists() else 0
        total += size
        if size >= MAX_FILE_BYTES:
            print(f"{name} is {size} bytes, over the 5 MB limit", file=sys.stderr)
            status |= 1
        print(f"  {name}: {size} bytes, sha256 {_sha256(dst) if dst.exists() else '-'}")
    print(f"total {total} bytes")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
