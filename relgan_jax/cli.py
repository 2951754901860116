"""One way for every command line to meet bad input: one line, a status.

A problem the user can fix (a missing file, a flag that cannot work, a
workdir in use) ends the command with ONE line on stderr,

  <prog>: error: <what is wrong and what to do>

and exit status 2 when the command line itself cannot be used (unknown or
missing flag, bad flag value, missing config file, misspelt config field) or
1 when something found after parsing is wrong (a config value, data, a
workdir). Ctrl-C is one line too, with status 130 (128 + SIGINT, what a
shell reports for it). An internal error (a bug) keeps its traceback.
`RELGAN_TRACEBACK=1` shows the traceback of user errors too.

Entry points: relgan_jax.main, relgan_jax.predict, relgan_jax.reenact,
data_prep.prepare, data_prep.synthetic, and the benchmarks/ scripts
(`absl_run`).
"""

import os
import signal
import sys
from typing import Any, Callable, NoReturn, Optional, Sequence, Type

from absl import flags

USAGE = 2  # The command line cannot be used as given.
RUNTIME = 1  # Something found after parsing is wrong.
INTERRUPTED = 128 + signal.SIGINT  # 130: stopped with Ctrl-C.


class UserError(Exception):
  """A problem the user can fix; reported in one line, exit status 1."""
  exit_code = RUNTIME


class ConfigError(ValueError, UserError):
  """A config value that cannot work; the message names the field."""


class UsageError(UserError):
  """The command line cannot be used as given; exit status 2."""
  exit_code = USAGE


def show_tracebacks() -> bool:
  """RELGAN_TRACEBACK=1: user errors keep their traceback too."""
  return os.environ.get('RELGAN_TRACEBACK', '') not in ('', '0')


def one_line(message: Any) -> str:
  """`message` as one line (its lines joined, blank ones dropped)."""
  lines = [line.strip() for line in str(message).splitlines()]
  return ' '.join(line for line in lines if line) or type(message).__name__


def error_line(prog: str, message: Any) -> str:
  return f'{prog}: error: {one_line(message)}'


def report(prog: str, message: Any) -> None:
  """Prints the error line (flushing stdout first, so it comes last)."""
  sys.stdout.flush()
  print(error_line(prog, message), file=sys.stderr, flush=True)


def fail(prog: str, message: Any, exit_code: int = RUNTIME) -> NoReturn:
  """Prints the error line and exits with `exit_code`."""
  report(prog, message)
  sys.exit(exit_code)


def run(prog: str, body: Callable[[], Any], *,
        user_errors: Sequence[Type[BaseException]] = (),
        usage_errors: Sequence[Type[BaseException]] = ()) -> int:
  """Calls `body()`; returns its status (None = 0), or the status of a user
  error or Ctrl-C after printing its one line. Other exceptions propagate
  (traceback).

  Args:
    prog: the name before ': error:'.
    body: the command.
    user_errors: exception types reported with status 1 (UserError always).
    usage_errors: exception types reported with status 2 (UsageError always).
  """
  try:
    status = body()
    return 0 if status is None else int(status)
  except tuple(usage_errors) + (UsageError,) as e:
    if show_tracebacks():
      raise
    report(prog, e)
    return USAGE
  except tuple(user_errors) + (UserError,) as e:
    if show_tracebacks():
      raise
    report(prog, e)
    return getattr(e, 'exit_code', RUNTIME)
  except KeyboardInterrupt:
    if show_tracebacks():
      raise
    report(prog, 'interrupted (Ctrl-C).')
    return INTERRUPTED


HELP = ('-h', '--help', '--helpshort', '--helpfull')


def check_new_output(flag: str, path: str, overwrite: bool) -> None:
  """Raises UsageError when output file `path` (given as --`flag`) is a
  folder, or exists and `overwrite` (an --overwrite flag) is off: nothing is
  replaced silently."""
  if os.path.isdir(path):
    raise UsageError(f'--{flag}={path} is a folder; give a file.')
  if os.path.exists(path) and not overwrite:
    raise UsageError(f'--{flag}={path} exists; give another path, or '
                     '--overwrite to replace it.')


def parse_flags(prog: str, flag_values: flags.FlagValues,
                argv: Optional[Sequence[str]], *, required: Sequence[str] = (),
                positional: str = '') -> list[str]:
  """Parses a command's absl flags (as main's), one line on error.

  Each command defines its flags on its own `flag_values` (not absl's global
  FLAGS), so that several commands -- and main's flags -- can be imported and
  run in one process (tests, notebooks); every call starts from the defaults.

  Args:
    prog: the command (`python -m <prog>` in the usage line).
    flag_values: the command's flags.
    argv: the arguments after the program name (None: sys.argv[1:]).
    required: flags that must be given.
    positional: how the usage line names positional arguments; '' = none
      allowed.

  Returns:
    The positional arguments.

  Raises:
    UsageError: unknown flag, bad value, missing required flag, unexpected
      arguments. --help prints the flags and exits with status 0.
  """
  argv = list(sys.argv[1:] if argv is None else argv)
  if any(a in HELP for a in argv):
    print(f'usage: python -m {prog} [--flag=value ...] {positional}'.rstrip()
          + '\n\n' + flag_values.get_help())
    raise SystemExit(0)
  flag_values.unparse_flags()
  try:
    rest = flag_values([prog] + argv)[1:]
  except flags.Error as e:
    raise UsageError(f'{e} (see --help)') from None
  missing = [f'--{name}' for name in required
             if flag_values[name].value is None]
  if missing:
    raise UsageError(f'{", ".join(missing)} '
                     f'{"is" if len(missing) == 1 else "are"} required '
                     '(see --help).')
  if rest and not positional:
    raise UsageError(f'unexpected arguments {rest}: every setting is a '
                     '--flag (see --help).')
  return rest


def absl_flags_parser(prog: str) -> Callable[[Sequence[str]], list[str]]:
  """A `flags_parser` for absl's app.run: flag errors (unknown or missing
  flag, bad value) and leftover arguments are one line, status 2."""

  def parse(argv: Sequence[str]) -> list[str]:
    try:
      rest = flags.FLAGS(list(argv))
    except flags.Error as e:
      if show_tracebacks():
        raise
      fail(prog, f'{e} (see --helpshort)', USAGE)
    if len(rest) > 1:
      fail(prog, f'unexpected arguments {rest[1:]}: every setting is a '
           '--flag (see --helpshort).', USAGE)
    return rest

  return parse



def absl_run(prog: str, main: Callable[[Sequence[str]], Any], *,
             user_errors: Sequence[Type[BaseException]] = ()) -> NoReturn:
  """absl's app.run(main) on this module's error path: flag errors and
  app.UsageError are one line with status 2, `user_errors` (and UserError)
  one line with status 1."""
  from absl import app  # pylint: disable=g-import-not-at-top

  def wrapped(argv):
    sys.exit(run(prog, lambda: main(argv), user_errors=user_errors,
                 usage_errors=(app.UsageError,)))

  app.run(wrapped, flags_parser=absl_flags_parser(prog))
