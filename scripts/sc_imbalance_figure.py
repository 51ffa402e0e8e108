"""Draw the class-mean cosines of graf2021's batch-summed SC optimum against the imbalance ratio.

Judges ``graf2021.sc.certified-imbalance`` (its evidence holds the certified sweep over R) and
draws it with the report's ``imbalance-angles`` figure:

    python scripts/sc_imbalance_figure.py [OUT.png] [--K 4 --n 5 --b 3 --batches multiset --rho 1]
"""

from __future__ import annotations

import argparse

from theorycheck.engine import Budget, judge
from theorycheck import figstyle as fs
from theorycheck.report.figures import figure_imbalance_angles


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/figures/sc-certified-imbalance.png")
    parser.add_argument("--K", type=int, default=4)
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--b", type=int, default=3)
    parser.add_argument("--batches", default="multiset")
    parser.add_argument("--rho", type=float, default=1.0)
    args = parser.parse_args(argv)
    params = {"K": args.K, "n": args.n, "b": args.b, "batches": args.batches, "rho": args.rho}
    res = judge("graf2021.sc.certified-imbalance", params, budget=Budget(seconds=5.0))
    fig = figure_imbalance_angles([{"id": "graf2021.sc.certified-imbalance", "params": params,
                                    "evidence": res.evidence}])
    fig.suptitle(fs.wrap(f"graf2021 SC over all {args.batches} batches (b={args.b}, K={args.K}, n_minor={args.n}, "
                         f"rho={args.rho:g}): certified optimum", fig.get_figwidth() - 0.1), fontsize=7.5)
    fs.save(fig, args.out, formats=("png",))  # 300 dpi, one column wide
    print(f"{res.verdict.value}: wrote {args.out}")
    return args.out


if __name__ == "__main__":
    main()
