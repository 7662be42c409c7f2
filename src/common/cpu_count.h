#pragma once

namespace causeway {

// The number of CPUs this process may run on: its affinity mask (taskset,
// cgroup cpusets as Kubernetes applies them), not every CPU of the machine,
// so that "one thread per core" defaults do not oversubscribe a process that
// was given fewer. At least 1.
int UsableCpuCount();

}  // namespace causeway
