/* Plain-C MPI ping-pong: the baseline that `npm run bench` compares the Node binding with.
 * Usage: mpiexec -n 2 mpi_pingpong_c <bytes> <iterations> [hugepages]
 * Prints one JSON line from rank 0: {"bytes":..,"iterations":..,"half_rtt_us":..,"bandwidth_Bps":..,
 * "block_half_rtt_us":..,"hugepages":..}. half_rtt_us is the whole timed loop; block_half_rtt_us the
 * median over NBLOCKS blocks of iterations/NBLOCKS rounds, which leaves out the blocks in which a
 * rank was descheduled (a shared machine). pingpong-node.js and pingpong_mpi4py.py report the same
 * numbers.
 * The buffer comes from malloc, like a Node Buffer's memory. With `hugepages` it is 2 MiB aligned
 * and advised MADV_HUGEPAGE (transparent huge pages, as numpy does for arrays of 4 MiB and more):
 * a large message between two processes on one host is copied once by the kernel (CMA), which pins
 * the sender's pages one by one, so the page size alone changes the bandwidth several times.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#define NBLOCKS 20

static void rounds(int rank, char *buf, int bytes, int n) {
  for (int i = 0; i < n; i++) {
    if (rank == 0) {
      MPI_Send(buf, bytes, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
      MPI_Recv(buf, bytes, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(buf, bytes, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buf, bytes, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
    }
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  long bytes = argc > 1 ? atol(argv[1]) : 8;
  int iters = argc > 2 ? atoi(argv[2]) : 10000;
  int huge = argc > 3 && strcmp(argv[3], "hugepages") == 0;
  size_t size = bytes > 0 ? (size_t)bytes : 1;
  char *buf = NULL;
  if (huge) {
    const size_t align = (size_t)2 << 20;
    if (posix_memalign((void **)&buf, align, (size + align - 1) / align * align) != 0) buf = NULL;
#ifdef MADV_HUGEPAGE
    if (buf != NULL) madvise(buf, (size + align - 1) / align * align, MADV_HUGEPAGE);
#endif
  } else {
    buf = malloc(size);
  }
  if (buf == NULL) {
    fprintf(stderr, "mpi_pingpong_c: cannot allocate %zu bytes\n", size);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  for (long i = 0; i < bytes; i++) buf[i] = (char)i;
  int block = iters / NBLOCKS > 0 ? iters / NBLOCKS : 1;
  rounds(rank, buf, (int)bytes, iters / 10 + 1); /* warm-up */
  double times[NBLOCKS];
  double t0 = MPI_Wtime(), tb = t0;
  for (int b = 0; b < NBLOCKS; b++) {
    rounds(rank, buf, (int)bytes, block);
    double t = MPI_Wtime();
    times[b] = t - tb;
    tb = t;
  }
  iters = block * NBLOCKS;
  double dt = tb - t0;
  if (rank == 0) {
    double half = dt / iters / 2.0;
    qsort(times, NBLOCKS, sizeof times[0], cmp_double);
    double bhalf = (times[NBLOCKS / 2 - 1] + times[NBLOCKS / 2]) / 2 / block / 2.0;
    printf(
        "{\"bytes\":%ld,\"iterations\":%d,\"half_rtt_us\":%.4f,\"bandwidth_Bps\":%.1f,\"block_half_rtt_us\":%.4f,"
        "\"hugepages\":%s}\n",
        bytes, iters, half * 1e6, bytes / half, bhalf * 1e6, huge ? "true" : "false");
  }
  free(buf);
  MPI_Finalize();
  return 0;
}
