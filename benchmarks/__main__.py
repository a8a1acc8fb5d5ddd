"""python -m benchmarks all | --only NAME [--only NAME …] | --list"""

from __future__ import annotations

import argparse
import sys

from .regenerate import SECTIONS, main

parser = argparse.ArgumentParser(
    prog="python -m benchmarks",
    description="Regenerate benchmarks/RESULTS.md: every section (all), or the named ones (--only).",
)
parser.add_argument("all", nargs="?", choices=["all"], help="every section, in order")
parser.add_argument("--only", action="append", choices=[s.name for s in SECTIONS], default=[], metavar="SECTION")
parser.add_argument("--list", action="store_true", help="list the sections and what they answer")
args = parser.parse_args()
if args.list:
    print("\n".join(f"{s.name}: {s.question}" for s in SECTIONS))
    sys.exit(0)
if bool(args.all) == bool(args.only):
    parser.error("give either 'all' or --only SECTION")
sys.exit(main([s.name for s in SECTIONS] if args.all else args.only))
