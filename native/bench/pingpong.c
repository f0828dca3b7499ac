/* Plain-C MPI ping-pong: the baseline that `npm run bench` compares the Node binding with.
 * Usage: mpiexec -n 2 mpi_pingpong_c <bytes> <iterations>
 * Prints one JSON line from rank 0: {"bytes":..,"iterations":..,"half_rtt_us":..,"bandwidth_Bps":..}
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  long bytes = argc > 1 ? atol(argv[1]) : 8;
  int iters = argc > 2 ? atoi(argv[2]) : 10000;
  char *buf = malloc(bytes > 0 ? (size_t)bytes : 1);
  for (long i = 0; i < bytes; i++) buf[i] = (char)i;
  int warm = iters / 10 + 1;
  double t0 = 0;
  for (int i = 0; i < iters + warm; i++) {
    if (i == warm) t0 = MPI_Wtime();
    if (rank == 0) {
      MPI_Send(buf, (int)bytes, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
      MPI_Recv(buf, (int)bytes, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(buf, (int)bytes, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buf, (int)bytes, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
    }
  }
  double dt = MPI_Wtime() - t0;
  if (rank == 0) {
    double half = dt / iters / 2.0;
    printf("{\"bytes\":%ld,\"iterations\":%d,\"half_rtt_us\":%.4f,\"bandwidth_Bps\":%.1f}\n", bytes, iters,
           half * 1e6, bytes / half);
  }
  free(buf);
  MPI_Finalize();
  return 0;
}
