"""onterminal.py PROGRAM ARGS...: run PROGRAM with a terminal as its stdin, stdout
and stderr, as at an operator's shell, pass its output on and exit with
its status. openstack image create reads image data from a stdin that is
not a terminal, and with a closed stdin it can mistake a descriptor it
opened itself (with Keystone auth) for stdin; a terminal is its one
reliable "no data" case."""
import os
import pty
import sys

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = sys.stdout.buffer
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO once the program has closed the terminal
        break
    if not data:
        break
    out.write(data)
out.flush()
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
