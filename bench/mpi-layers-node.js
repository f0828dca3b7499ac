// Where the binding's µs go: per-call costs on each rank, then an 8-byte ping-pong through each
// layer of the binding, interleaved in one job so that machine load hits every layer alike.
//   mpiexec -n 2 node bench/mpi-layers-node.js [rounds per layer run]
// Prints a table from rank 0: ns per call, and half-round-trip µs per layer (median over blocks
// of rounds and over 3 runs per layer; see native/bench/pingpong.c for the block median).
// Works with older builds of the addon too (layers that need newer calls are skipped).
import { withWorld } from '../dist/cli/lifecycle.js';
import { loadAddon } from '../dist/bindings/load.js';
import { TAG_TASK } from '../dist/mpi/tags.js';

const roundsPerRun = Number(process.argv[2] ?? 20000);
const BLOCKS = 20;
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** ns per call of fn, median of 5 batches after a warm-up batch. */
function perCall(n, fn) {
  const runs = [];
  for (let r = 0; r < 6; r++) {
    const t0 = process.hrtime.bigint();
    fn(n);
    runs.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return median(runs.slice(1));
}

await withWorld({}, async (w) => {
  const a = loadAddon('hierimpute_mpi');
  const out = Buffer.alloc(8, 7);
  const into = Buffer.alloc(8);
  const peer = 1 - w.rank;
  const opts = { source: peer, tag: TAG_TASK, into };
  const status = new Int32Array([peer, TAG_TASK, 0, 8]);
  const calls = [
    [
      'N-API call without MPI (addon.wtime)',
      () =>
        perCall(200000, (n) => {
          for (let i = 0; i < n; i++) a.wtime();
        }),
    ],
    [
      'addon.tryRecv, nothing there (1 MPI_Improbe)',
      () =>
        perCall(200000, (n) => {
          for (let i = 0; i < n; i++) a.tryRecv(peer, TAG_TASK, 0, into);
        }),
    ],
    [
      'JS: encode + Message via spread + Buffer.from view',
      () =>
        perCall(200000, (n) => {
          let k = 0;
          for (let i = 0; i < n; i++) {
            const enc = out instanceof Uint8Array ? { kind: 0, body: out } : null;
            const [source, tag, kind, length] = status;
            const body = Buffer.from(into.buffer, into.byteOffset, length);
            const m = { source, tag, length, ...{ kind: kind === 0 ? 'bytes' : 'json', payload: body } };
            k += m.length + enc.kind;
          }
          return k;
        }),
    ],
    [
      'JS: encode + Message literal, `into` as the payload',
      () =>
        perCall(200000, (n) => {
          let k = 0;
          for (let i = 0; i < n; i++) {
            const enc = out instanceof Uint8Array ? { kind: 0, body: out } : null;
            const length = status[3];
            const body = Buffer.isBuffer(into) && into.length === length ? into : Buffer.from(into.buffer, into.byteOffset, length);
            const m = { source: status[0], tag: status[1], length, kind: status[2] === 0 ? 'bytes' : 'json', payload: body };
            k += m.length + enc.kind;
          }
          return k;
        }),
    ],
  ];
  const callRows = calls.map(([label, f]) => [label, f()]);
  // The probe loop above must not take the peer's first ping-pong message.
  await w.barrier();

  const layers = {
    // Floor of the addon: two N-API calls per round and rank, no JS layer.
    native: async (n) => {
      for (let i = 0; i < n; i++) {
        if (w.rank === 0) {
          a.send(peer, TAG_TASK, 0, out);
          while (!a.tryRecv(peer, TAG_TASK, 1e6, into));
        } else {
          while (!a.tryRecv(peer, TAG_TASK, 1e6, into));
          a.send(peer, TAG_TASK, 0, out);
        }
      }
    },
    // recvSync, and send() without awaiting its (already resolved) promise.
    'recvSync, send not awaited': async (n) => {
      for (let i = 0; i < n; i++) {
        if (w.rank === 0) {
          void w.send(peer, TAG_TASK, out);
          w.recvSync(opts) || (await w.recv(opts));
        } else {
          const m = w.recvSync(opts) || (await w.recv(opts));
          void w.send(peer, TAG_TASK, m.payload);
        }
      }
    },
    // What bench/pingpong-node.js runs by default.
    'recvSync + await send': async (n) => {
      for (let i = 0; i < n; i++) {
        if (w.rank === 0) {
          await w.send(peer, TAG_TASK, out);
          w.recvSync(opts) || (await w.recv(opts));
        } else {
          const m = w.recvSync(opts) || (await w.recv(opts));
          await w.send(peer, TAG_TASK, m.payload);
        }
      }
    },
    'await recv + await send': async (n) => {
      for (let i = 0; i < n; i++) {
        if (w.rank === 0) {
          await w.send(peer, TAG_TASK, out);
          await w.recv(opts);
        } else {
          const m = await w.recv(opts);
          await w.send(peer, TAG_TASK, m.payload);
        }
      }
    },
  };
  if (typeof w.recvSync !== 'function') {
    delete layers['recvSync, send not awaited'];
    delete layers['recvSync + await send'];
  }
  const block = Math.max(1, Math.floor(roundsPerRun / BLOCKS));
  const samples = Object.fromEntries(Object.keys(layers).map((k) => [k, []]));
  for (let run = 0; run < 3; run++) {
    for (const [name, rounds] of Object.entries(layers)) {
      await rounds(Math.floor(roundsPerRun / 10) + 1);
      const times = [];
      let tb = process.hrtime.bigint();
      for (let b = 0; b < BLOCKS; b++) {
        await rounds(block);
        const t = process.hrtime.bigint();
        times.push(Number(t - tb) / 1e3 / block / 2);
        tb = t;
      }
      samples[name].push(median(times));
    }
  }
  if (w.rank === 0) {
    const rows = [
      ...callRows.map(([l, ns]) => [l, `${ns.toFixed(0)} ns`]),
      ...Object.entries(samples).map(([l, v]) => [`ping-pong 8 B: ${l}`, `${median(v).toFixed(3)} µs`]),
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    for (const [l, v] of rows) process.stdout.write(`${l.padEnd(width)}  ${v}\n`);
  }
});
