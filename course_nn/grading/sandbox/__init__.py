"""The sandbox: where a submission runs, as whom, and what the kernel lets it reach.

The trust boundary is drawn by the OS, not by Python. A submission runs in a child process that
holds nothing scoring depends on; the parent issues the cases, reads one framed result per case
and scores alone. Which layers apply is probed once per process by starting a child the real way
(modes.py) and written into the instructor notes of every result:

- modes.py        the modes (namespace, container, plain), the probe, the notes' containment line
- uids.py         one uid per grading, leased exclusively (as root)
- cleanup.py      everything a leased uid owns: processes, memory, files, IPC — and their end
- hidden.py       what a child must never read, and the refusal when it could
- box.py          the grading's folder (the uid's own, 0700)
- child.py        one child: its request, start, frames, memory watchdog, end and cause of death
- zygote_client.py the zygote that forks children from one torch import
- cgroups.py      a cgroup per child where the grader may make one
- strays.py       the subreaper and the child's process tree
- run.py          one grading from lease to clean-up (``Grading``)

The child's side of all this (namespaces, Landlock, seccomp, the uid) is grading/child/contain.py.
"""

from course_nn.grading.sandbox.box import Sandbox, child_env, prepare
from course_nn.grading.sandbox.cgroups import Cgroup, sweep_stale_cgroups
from course_nn.grading.sandbox.child import OUTPUT_CAP, Child, request
from course_nn.grading.sandbox.hidden import secret_paths
from course_nn.grading.sandbox.modes import Containment, allowed_paths, containment, ready, refusal
from course_nn.grading.sandbox.run import Grading
from course_nn.grading.sandbox.strays import (
    become_subreaper,
    descendants,
    kill_strays,
    own_children,
    protect_parent,
)
from course_nn.grading.sandbox.zygote_client import (
    Zygote,
    adopt_zygote,
    current_zygote,
    early_zygote,
    start_zygote,
    zygote_for,
)

__all__ = ["OUTPUT_CAP", "Cgroup", "Child", "Containment", "Grading", "Sandbox", "Zygote", "adopt_zygote",
           "allowed_paths", "become_subreaper", "child_env", "containment", "current_zygote", "descendants", "early_zygote",
           "kill_strays", "own_children", "prepare", "protect_parent", "ready", "refusal", "request", "secret_paths",
           "start_zygote", "sweep_stale_cgroups", "zygote_for"]
