"""Run a command and write its peak resident set size (ru_maxrss, KiB) to a JSON file.

Usage: python -S rss_exec.py OUT.json CMD [ARGS...]

Kept free of imports beyond the standard library's smallest modules: a forked child starts with
its parent's resident set, so the launcher must be small for the child's peak to be its own.
The command's stdin/stdout/stderr and exit code pass through unchanged."""

import json
import os
import sys


def main() -> int:
    out, cmd = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    with open(out, "w") as f:
        json.dump({"maxrss_kb": ru.ru_maxrss, "user_s": ru.ru_utime, "sys_s": ru.ru_stime}, f)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
