/* Ranks agree on an outcome: the one primitive every stage boundary and every module uses.
 *
 * ath_agree is collective: each rank brings its local status (and, when it failed, the message
 * in err); every rank leaves with the same result: the worst status of all ranks (the highest
 * code: 3 beats 2 beats 1 beats 0), and — when it is not ATH_OK — the message of the
 * lowest-numbered rank with that status, prefixed with "[rank N] " when the communicator has
 * several ranks. A failure of MPI itself comes back as ATH_ERR with MPI_Error_string's text.
 *
 * The rule that keeps error paths from skipping a collective: a rank that failed locally goes
 * on calling the same collectives as the others (with empty contributions) until the next
 * ath_agree, or agrees before the next collective. Every collective's return code goes through
 * ath_mpi (or ATH_MPI), so an MPI error is a status like any other. */
#ifndef ATHLETE_CORE_AGREE_H
#define ATHLETE_CORE_AGREE_H

#include <mpi.h>

#include "core/status.h"

/* Collective over comm (see above). `err` may be NULL. */
int ath_agree(MPI_Comm comm, int status, ath_error *err);

/* ATH_OK when mpi_rc is MPI_SUCCESS; otherwise records "<what>: <MPI_Error_string>" in err and
 * returns ATH_ERR. */
int ath_mpi(int mpi_rc, const char *what, ath_error *err);

/* Checks an MPI call: rc = ATH_MPI(MPI_Allreduce(...), err); names the call in the message. */
#define ATH_MPI(call, err) ath_mpi((call), #call, (err))

#endif
