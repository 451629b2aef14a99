#include "core/agree.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int ath_mpi(int mpi_rc, const char *what, ath_error *err) {
  if (mpi_rc == MPI_SUCCESS) return ATH_OK;
  char text[MPI_MAX_ERROR_STRING] = "";
  int len = 0;
  if (MPI_Error_string(mpi_rc, text, &len) != MPI_SUCCESS)
    snprintf(text, sizeof text, "code %d", mpi_rc);
  /* Name the MPI function, not the whole call text. */
  int n = (int)strcspn(what, "(");
  return ath_fail(err, ATH_ERR, "MPI error in %.*s: %s", n, what, text);
}

int ath_agree(MPI_Comm comm, int status, ath_error *err) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  /* One reduction finds both the worst status and the lowest rank that has it. */
  int64_t base = (int64_t)size + 1, mine = status != ATH_OK ? status * base + (size - rank) : 0;
  int64_t all = 0;
  ath_error local = {0};
  if (ath_mpi(MPI_Allreduce(&mine, &all, 1, MPI_INT64_T, MPI_MAX, comm), "MPI_Allreduce", &local)) {
    if (err) *err = local;
    return ATH_ERR;
  }
  if (all == 0) return ATH_OK;
  int code = (int)(all / base), who = size - (int)(all % base);
  char msg[ATH_ERRMSG_MAX] = "";
  if (rank == who)
    snprintf(msg, sizeof msg, "%s", err && err->code != ATH_OK ? err->msg : "failed");
  if (ath_mpi(MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, who, comm), "MPI_Bcast", &local)) {
    if (err) *err = local;
    return ATH_ERR;
  }
  if (err) {
    err->code = code;
    if (size > 1 && strncmp(msg, "[rank ", 6) != 0)
      snprintf(err->msg, sizeof err->msg, "[rank %d] %.1000s", who, msg);
    else
      snprintf(err->msg, sizeof err->msg, "%s", msg);
  }
  return code;
}
