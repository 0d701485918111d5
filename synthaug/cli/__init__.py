"""Command-line interface: parses arguments, calls the library, prints. No logic of its own.

Exit codes: 0 success; 2 a synthaug error (bad input, arguments, files or spec: one line that names
the problem) or an argparse usage error; 1 anything else, an unexpected failure (a bug: the traceback
is printed); 130 interrupted (SIGINT), 143 terminated (SIGTERM). Either way the temporary files of
unfinished outputs are removed.
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .common import CLIError
from .parser import build_parser

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that ``finally`` blocks remove temporary files."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While the command runs, SIGTERM unwinds the stack like Ctrl-C (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``synthaug ARGS`` and return its exit code (argparse exits itself on a usage error)."""
    from ..exceptions import SynthaugError

    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # to start the same command in each process (--nproc)
    try:
        with _sigterm_unwinds():
            return int(args.func(args))
    except SynthaugError as exc:
        print(f"synthaug {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception:  # a bug, not bad input: show where it happened
        traceback.print_exc()
        print(f"synthaug {args.command}: unexpected error; please report it with the traceback above", file=sys.stderr)
        return EXIT_FAILURE


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).splitlines()) or type(exc).__name__


__all__ = ["CLIError", "EXIT_FAILURE", "EXIT_USAGE", "build_parser", "main"]
