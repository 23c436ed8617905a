"""`make bench`: every figure as a `name value` line, then a table, then docs/PERFORMANCE.md.

.venv/bin/python -m bench                    # everything; rewrites docs/PERFORMANCE.md
.venv/bin/python -m bench --only accept,e2e  # some sections; leaves the doc alone
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
import warnings
from collections.abc import Callable

from bench.figures import Section

SECTIONS: dict[str, tuple[str, Callable[[], Section]]] = {}


def _register() -> None:
    from bench import accept_dialects, aws_calls, baseline, cold_import, growth, latency, local_stack, scaling

    SECTIONS.update(
        {
            "accept": ("ApiFunction calls", aws_calls.accept_section),
            "dialects": ("ApiFunction calls per dialect", accept_dialects.dialects_section),
            "results": ("ResultsFunction writes", aws_calls.results_section),
            "e2e": ("end to end and cost", aws_calls.e2e_section),
            "growth": ("cost growth", growth.growth_section),
            "baseline": ("side by side with Powertools", baseline.baseline_section),
            "scaling": ("scale on paper (docs/SCALING.md)", scaling.scaling_section),
            "cold": ("cold import", cold_import.cold_import_section),
            "latency": ("accept latency", latency.latency_section),
            "local": ("local stack throughput", local_stack.local_stack_section),
        }
    )


def main(argv: list[str] | None = None) -> int:
    _register()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    chosen = list(SECTIONS)
    if args.only:
        chosen = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in chosen if name not in SECTIONS]
        if unknown:
            parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    warnings.simplefilter("ignore")  # Powertools' "no metrics to publish", moto's deprecations

    from bench import report
    from bench.cloud import ROOT

    started = time.monotonic()
    sections: list[Section] = []
    for name in chosen:
        title, run = SECTIONS[name]
        print(f"# running {name}: {title} ...", file=sys.stderr, flush=True)
        section_started = time.monotonic()
        try:
            section = run()
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            section = Section(name, title, error=f"{type(error).__name__}: {error}")
        section.seconds = time.monotonic() - section_started
        print(f"# {name} took {section.seconds:.1f}s", file=sys.stderr, flush=True)
        for detail in section.details:
            print(f"#   {detail}", file=sys.stderr, flush=True)
        sections.append(section)
    seconds = time.monotonic() - started

    for line in report.lines(sections):
        print(line)
    for line in report.notes(sections):
        print(line)
    print()
    report.print_table(sections)
    if not args.only and not args.no_doc:
        path = report.write_doc(sections, seconds)
        print(f"\nwrote {path.relative_to(ROOT)} ({seconds:.0f} s)")
    return 1 if any(s.error for s in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
