#!/usr/bin/env bash
# mpirun with the flags this machine needs: as root (CI, containers) Open MPI refuses to start
# without --allow-run-as-root, and --oversubscribe lets -np exceed the core count (the tests run
# -np 4 on 2 cores). Any further arguments go to mpirun unchanged.
flags=(--oversubscribe)
[ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
# Shared-memory transport without ptrace-based single copy: works inside containers too.
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
exec mpirun "${flags[@]}" "$@"
