"""`python -m pulse.quality [--quick] [--seed N] [--no-cost]`: print the markdown quality report."""

from __future__ import annotations

import argparse

from pulse.quality.evaluate import report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pulse.quality", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, a few seconds (the unit test)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-cost", action="store_true", help="skip the assess() timing and state-size measure")
    args = parser.parse_args(argv)
    print(report(quick=args.quick, seed=args.seed, cost=not args.no_cost))


if __name__ == "__main__":
    main()
