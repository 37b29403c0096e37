"""`python -m fangfan`, how `make run` starts itself and its children.

Importing the commands takes seconds (polars, the models); a Ctrl-C or SIGTERM in that time
must not print a traceback. Until the commands are loaded, either signal ends the process at
once with the one line the command would say when stopped."""

import os
import signal
import sys

STOPPED = {"serve": "网页服务已停止。", "worker": "后台已停止。", "run": "fangfan 已全部停止。"}


def _early(_signum: int, _frame: object) -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    print(STOPPED.get(command, "已取消。"), file=sys.stderr, flush=True)
    os._exit(0 if command in STOPPED else 1)  # nothing of ours has started: nothing to undo


before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
for signum, handler in before.items():
    if handler is not signal.SIG_IGN:  # a shell's background job keeps ignoring Ctrl-C
        signal.signal(signum, _early)

from fangfan.cli import main  # noqa: E402  # after the handlers, on purpose

for signum, handler in before.items():  # the commands' own (serve, worker, run put theirs)
    signal.signal(signum, handler)
main()
