# mpi4py side of the ping-pong benchmark, the Python reference for the Node binding:
#   mpiexec -n 2 python3 bench/pingpong_mpi4py.py <bytes> <iterations> <buffer|pickle>
# buffer: comm.Send/comm.Recv on preallocated numpy arrays (mpi4py's fast path, no pickling);
# pickle: comm.send/comm.recv of a bytes object (pickled, a new object per receive).
# Prints the same JSON line as the C baseline (rank 0 only), with the same warm-up and timing:
# half_rtt_us over the whole timed loop, block_half_rtt_us the median over 20 blocks of rounds
# (see native/bench/pingpong.c).
import json
import sys
import time

import numpy as np
from mpi4py import MPI

BLOCKS = 20


def main():
    nbytes = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    iters = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    mode = sys.argv[3] if len(sys.argv) > 3 else "buffer"
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()
    peer = 1 - rank
    tag = 1

    if mode == "buffer":
        buf = np.full(nbytes, 7, dtype=np.uint8)
        send, recv = comm.Send, comm.Recv

        def rounds(n):
            if rank == 0:
                for _ in range(n):
                    send(buf, dest=peer, tag=tag)
                    recv(buf, source=peer, tag=tag)
            else:
                for _ in range(n):
                    recv(buf, source=peer, tag=tag)
                    send(buf, dest=peer, tag=tag)
    elif mode == "pickle":
        state = [bytes(nbytes)]
        send, recv = comm.send, comm.recv

        def rounds(n):
            obj = state[0]
            if rank == 0:
                for _ in range(n):
                    send(obj, dest=peer, tag=tag)
                    obj = recv(source=peer, tag=tag)
            else:
                for _ in range(n):
                    obj = recv(source=peer, tag=tag)
                    send(obj, dest=peer, tag=tag)
            state[0] = obj
    else:
        raise SystemExit(f"unknown mode {mode!r} (buffer|pickle)")

    block = max(1, iters // BLOCKS)
    rounds(iters // 10 + 1)  # warm-up
    times = []
    t0 = time.perf_counter()
    tb = t0
    for _ in range(BLOCKS):
        rounds(block)
        t = time.perf_counter()
        times.append(t - tb)
        tb = t
    if rank == 0:
        done = block * BLOCKS
        half = (tb - t0) / done / 2
        times.sort()
        bmed = (times[BLOCKS // 2 - 1] + times[BLOCKS // 2]) / 2
        print(json.dumps({"bytes": nbytes, "iterations": done, "mode": mode,
                          "half_rtt_us": half * 1e6, "bandwidth_Bps": nbytes / half,
                          "block_half_rtt_us": bmed / block / 2 * 1e6}), flush=True)


if __name__ == "__main__":
    main()
