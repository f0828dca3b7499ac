// Rank 0's dispatcher over a scripted fake pool, in virtual time: no MPI, no real timers. The fake
// workers keep a node store, a per-worker cache of 2 datasets (as the TaskRunner does) and can be
// told to meet nodes claimed elsewhere, to fail a dataset or to hold a reply back; the virtual
// clock only moves when the dispatcher has nothing else to do.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BUSY_RETRY_MS, dispatch } from '../dist/farm/dispatcher.js';

/** A clock whose time moves only when advance() is called. */
class VirtualClock {
  t = 0;
  timers = [];
  now() {
    return this.t;
  }
  sleep(ms) {
    return new Promise((resolve) => this.timers.push({ at: this.t + ms, resolve }));
  }
  /** Moves to the earliest pending timer and fires it; false when none is pending. */
  advance() {
    if (this.timers.length === 0) return false;
    this.timers.sort((a, b) => a.at - b.at);
    const first = this.timers.shift();
    this.t = Math.max(this.t, first.at);
    first.resolve();
    return true;
  }
}

const nodeOf = (dataset, methods, b) => `${dataset}/${methods.slice(0, b + 1).join(',')}`;

/**
 * Workers that compute one band per task. Replies wait in `ready` (delivered in order by next());
 * `hold(pred)` keeps matching replies back until release(). `busy` holds nodes claimed by another
 * job; `failing` datasets cannot be loaded.
 */
class FakePool {
  constructor(n, { bands = 4, keep = 2 } = {}) {
    this.workers = Array.from({ length: n }, (_, i) => i + 1);
    this.bands = bands;
    this.keep = keep;
    this.done = new Set();
    this.computed = new Map();
    this.busy = new Set();
    this.failing = new Set();
    this.cache = new Map(this.workers.map((w) => [w, []]));
    this.loads = 0;
    this.sent = [];
    this.stopped = [];
    this.ready = [];
    this.held = [];
    this.holdIf = () => false;
    this.waiter = null;
    this.inFlight = new Map();
  }
  send(worker, task) {
    assert.ok(!this.inFlight.has(worker), `worker ${worker} got a task while busy`);
    assert.ok(!this.stopped.includes(worker), `worker ${worker} got a task after TAG_STOP`);
    this.inFlight.set(worker, task);
    const reply = { worker, reply: this.run(worker, task) };
    this.sent.push({ worker, task, at: this.clock?.now() ?? 0, outcome: reply.reply.outcome });
    if (this.holdIf(worker, task, reply.reply)) this.held.push(reply);
    else this.deliver(reply);
    return Promise.resolve();
  }
  run(worker, task) {
    const base = { seq_idx: task.seq_idx, dataset: task.dataset };
    const cache = this.cache.get(worker);
    const at = cache.indexOf(task.dataset);
    const loaded = at < 0;
    if (loaded) this.loads++;
    else cache.splice(at, 1);
    cache.unshift(task.dataset);
    cache.splice(this.keep);
    if (this.failing.has(task.dataset))
      return { ...base, done: true, progressed: false, outcome: 'failed', band: -1, next: -1, error: `cannot read ${task.dataset}`, loaded };
    const first = () => task.methods.findIndex((_, b) => !this.done.has(nodeOf(task.dataset, task.methods, b)));
    const bandRows = task.methods.map(() => 10);
    const b = first();
    let outcome = 'done';
    if (b >= 0) {
      const node = nodeOf(task.dataset, task.methods, b);
      if (this.busy.has(node)) return { ...base, done: false, progressed: false, outcome: 'busy', band: b, next: b, bandRows, loaded };
      this.done.add(node);
      this.computed.set(node, (this.computed.get(node) ?? 0) + 1);
      outcome = 'computed';
    }
    const next = first();
    const fin = next < 0 ? { outputs: 'written', entry: { input: task.dataset, input_hash: 'h', nodes: [] } } : {};
    return {
      ...base,
      done: next < 0,
      progressed: b >= 0,
      outcome,
      band: b,
      next,
      method: b >= 0 ? task.methods[b] : undefined,
      seconds: 1,
      bandRows,
      loaded,
      ...fin,
    };
  }
  deliver(r) {
    this.ready.push(r);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w();
    }
  }
  /** Delivers every held reply. */
  release() {
    const n = this.held.length;
    for (const r of this.held.splice(0)) this.deliver(r);
    return n > 0;
  }
  async next() {
    while (this.ready.length === 0) {
      if (this.error) throw this.error;
      await new Promise((resolve) => (this.waiter = resolve));
    }
    const r = this.ready.shift();
    this.inFlight.delete(r.worker);
    return r;
  }
  /** Makes the pending next() fail, as a TAG_ERROR from a worker does. */
  fail(error) {
    this.error = error;
    this.waiter?.();
  }
  stop(worker) {
    this.stopped.push(worker);
    return Promise.resolve();
  }
}

/** Lets every pending promise callback run (event-loop turns, not time). */
async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs the dispatch to its end: whenever it is stuck, first `onStuck` (the test's next move), then
 * held replies, then the virtual clock's next timer. Throws if nothing can move it on.
 */
async function drive(run, pool, clock, onStuck = () => false) {
  let finished = false;
  let failure;
  const p = run.then(
    (v) => ((finished = true), v),
    (e) => ((finished = true), (failure = e)),
  );
  for (;;) {
    await settle();
    if (finished) break;
    if (onStuck()) continue;
    if (pool.release()) continue;
    if (!clock.advance()) throw new Error('the dispatcher waits for something that can never happen');
  }
  const v = await p;
  if (failure) throw failure;
  return v;
}

/** Sequences × datasets items of a quick-like sweep: band 0 shared, band 1 has two choices, etc. */
function makeItems(datasets, sequences) {
  const items = [];
  for (let s = 0; s < sequences.length; s++)
    for (const d of datasets) items.push({ seq_idx: s, dataset: d, widths: sequences[s].map(() => 1 / sequences[s].length), methods: sequences[s] });
  return items;
}

const QUICK = [
  ['knn', 'knn', 'xgboost', 'mean'],
  ['knn', 'knn', 'xgboost', 'knn'],
  ['knn', 'iterative_simple', 'xgboost', 'mean'],
  ['knn', 'iterative_simple', 'xgboost', 'knn'],
];

const recordAll = () => async () => false;

test('every item finishes, every node is computed once, nothing waits on a claim, every worker is stopped once', async () => {
  const pool = new FakePool(3);
  const clock = new VirtualClock();
  pool.clock = clock;
  const items = makeItems(['a', 'b', 'c'], QUICK);
  const finished = [];
  const stats = await drive(
    dispatch(pool, items, { onItemDone: async (item) => (finished.push(`${item.seq_idx}/${item.dataset}`), false) }, { clock }),
    pool,
    clock,
  );
  assert.equal(stats.itemsDone, items.length);
  assert.equal(new Set(finished).size, items.length);
  // 3 datasets × (1 + 2 + 2 + 4) distinct prefix nodes, each computed exactly once.
  assert.equal(pool.computed.size, 27);
  assert.ok(
    [...pool.computed.values()].every((n) => n === 1),
    'a node was computed twice',
  );
  assert.equal(stats.groupsComputed, 27);
  assert.equal(stats.requeuesWithoutProgress, 0);
  assert.deepEqual([...pool.stopped].sort(), [1, 2, 3]);
  assert.equal(clock.t, 0, 'no retry timer was needed');
});

test("a freed worker gets its next task before the finished item's outputs are recorded", async () => {
  const pool = new FakePool(1, { bands: 1 });
  const clock = new VirtualClock();
  const items = makeItems(['a', 'b', 'c'], [['mean']]);
  const gates = [];
  const run = dispatch(pool, items, { onItemDone: () => new Promise((resolve) => gates.push(() => resolve(false))) }, { clock });
  await settle();
  // Each item is done after one band; its onItemDone never resolved, yet the worker got them all.
  assert.equal(pool.sent.length, 3, "the worker waited for a finished item's outputs");
  assert.equal(gates.length, 3);
  assert.deepEqual(pool.stopped, [], 'no worker is stopped while finished items are still being recorded');
  for (const open of gates) open();
  const stats = await drive(run, pool, clock);
  assert.equal(stats.itemsDone, 3);
  assert.deepEqual(pool.stopped, [1]);
});

test('an item whose outputs cannot be written yet (onItemDone resolves true) runs once more, and its worker is not stopped meanwhile', async () => {
  const pool = new FakePool(2);
  const clock = new VirtualClock();
  const items = makeItems(['a'], [['mean', 'knn']]);
  let calls = 0;
  let release;
  const run = dispatch(
    pool,
    items,
    {
      onItemDone: () => {
        calls++;
        // The first time: the old manifest entry must go first (an asynchronous write).
        if (calls === 1) return new Promise((resolve) => (release = () => resolve(true)));
        return Promise.resolve(false);
      },
    },
    { clock },
  );
  await settle();
  assert.equal(calls, 1);
  // The other worker had nothing to do and may stop; the one that finished the item may not.
  assert.ok(!pool.stopped.includes(pool.sent[1].worker), 'the last worker was stopped while the item could still come back');
  release();
  const stats = await drive(run, pool, clock);
  assert.equal(calls, 2);
  assert.equal(stats.itemsDone, 1);
  assert.equal(pool.sent.length, 3, 'two bands, then the rerun of the finished item');
  assert.equal(pool.sent[2].task.seq_idx, 0);
  assert.deepEqual([...pool.stopped].sort(), [1, 2]);
});

test('a node claimed by another job: the item is offered again only after the retry delay (virtual time), and completes', async () => {
  const pool = new FakePool(2);
  const clock = new VirtualClock();
  pool.clock = clock;
  const items = makeItems(['a', 'b'], QUICK);
  pool.busy.add(nodeOf('b', QUICK[0], 0));
  const stats = await drive(dispatch(pool, items, { onItemDone: recordAll() }, { clock }), pool, clock, () => {
    // The other job releases its claim once the dispatcher has retried one of b's items.
    const tries = pool.sent.filter((s) => s.task.dataset === 'b' && s.task.seq_idx === 0).length;
    if (pool.busy.size && tries >= 2) {
      pool.busy.clear();
      return true;
    }
    return false;
  });
  assert.equal(stats.itemsDone, items.length);
  assert.ok(stats.requeuesWithoutProgress >= 1);
  for (let s = 0; s < QUICK.length; s++) {
    const tries = pool.sent.filter((x) => x.task.dataset === 'b' && x.task.seq_idx === s);
    // A try that met the claimed node delays the item's next try by the retry delay.
    for (let i = 1; i < tries.length; i++) {
      if (tries[i - 1].outcome === 'busy')
        assert.ok(tries[i].at - tries[i - 1].at >= BUSY_RETRY_MS, `item (${s}, b) was offered again before the retry delay`);
    }
  }
  assert.ok(
    pool.sent.some((x) => x.outcome === 'busy'),
    'the claimed node was met',
  );
  assert.ok(clock.t >= BUSY_RETRY_MS, 'the retry waited in virtual time');
  assert.ok([...pool.computed.values()].every((n) => n === 1));
});

test('a late reply (arriving while the dispatcher waits to retry a claimed item) is not lost', async () => {
  const pool = new FakePool(2);
  const clock = new VirtualClock();
  pool.clock = clock;
  // Dataset a's items run long (their replies are held), b's first node is claimed elsewhere.
  const items = makeItems(
    ['a', 'b'],
    [
      ['xgboost', 'mean'],
      ['mean', 'knn'],
    ],
  );
  pool.busy.add(nodeOf('b', ['mean', 'knn'], 0));
  let heldOnce = false;
  pool.holdIf = (_w, task) => {
    if (task.dataset === 'a' && !heldOnce) return (heldOnce = true);
    return false;
  };
  let timersFired = 0;
  const stats = await drive(dispatch(pool, items, { onItemDone: recordAll() }, { clock }), pool, clock, () => {
    // First let the retry timer fire with the reply still held: the dispatcher wakes for the
    // retry while a reply is due. Then the other job releases b, and the held reply arrives.
    if (timersFired === 0 && clock.timers.length) {
      clock.advance();
      timersFired++;
      return true;
    }
    if (timersFired === 1 && pool.busy.size) {
      pool.busy.clear();
      return false;
    }
    return false;
  });
  assert.equal(timersFired, 1);
  assert.equal(stats.itemsDone, items.length);
  assert.ok(stats.requeuesWithoutProgress >= 1);
  assert.ok([...pool.computed.values()].every((n) => n === 1));
  assert.equal(stats.replies, pool.sent.length, 'every task sent got its reply handled');
});

test('a worker error (TAG_ERROR) fails the dispatch with its message', async () => {
  const pool = new FakePool(2);
  const clock = new VirtualClock();
  const items = makeItems(['a'], QUICK);
  pool.holdIf = () => true;
  const run = dispatch(pool, items, { onItemDone: recordAll() }, { clock });
  await settle();
  pool.fail(new Error('worker rank 2 failed: boom'));
  await assert.rejects(run, /worker rank 2 failed: boom/);
});

test('a dataset that cannot be loaded is dropped once, its other items never sent again, the rest complete', async () => {
  const pool = new FakePool(2);
  const clock = new VirtualClock();
  const items = makeItems(['a', 'bad', 'c'], QUICK);
  pool.failing.add('bad');
  const finished = [];
  const stats = await drive(dispatch(pool, items, { onItemDone: async (item) => (finished.push(item.dataset), false) }, { clock }), pool, clock);
  assert.deepEqual([...stats.failedDatasets.keys()], ['bad']);
  assert.match(stats.failedDatasets.get('bad'), /cannot read bad/);
  assert.ok(pool.sent.filter((s) => s.task.dataset === 'bad').length <= pool.workers.length, 'items of a failed dataset were sent after its failure');
  assert.equal(finished.filter((d) => d === 'bad').length, 0);
  assert.equal(stats.itemsDone, items.length - QUICK.length);
  assert.equal(pool.computed.size, 18);
});

test('affinity: a worker gets items of the datasets it holds; each dataset is loaded about once', async () => {
  const datasets = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5'];
  // Sequences without shared prefixes, so no item ever waits on another's node.
  const seqs = Array.from({ length: 6 }, (_, s) => [`m${s}`, 'mean', 'knn']);
  const pool = new FakePool(3);
  const clock = new VirtualClock();
  const stats = await drive(dispatch(pool, makeItems(datasets, seqs), { onItemDone: recordAll() }, { clock, keepDatasets: 2 }), pool, clock);
  assert.equal(stats.itemsDone, datasets.length * seqs.length);
  const loads = [...stats.loads.values()].reduce((a, l) => a + l.loads, 0);
  const hits = [...stats.loads.values()].reduce((a, l) => a + l.hits, 0);
  assert.equal(loads, pool.loads, 'the dispatcher counts the loads the workers report');
  assert.equal(loads + hits, pool.sent.length);
  // Without affinity (items in sequence-major order, any worker) every task would reload: 108
  // tasks over 6 datasets and 3 workers. With it, a worker stays on a table until its items run out.
  assert.ok(loads <= datasets.length + pool.workers.length, `${loads} loads for ${datasets.length} datasets on ${pool.workers.length} workers`);
});

test('extend: work made possible by a finished item is dispatched, and no worker is stopped while an item in flight may bring more', async () => {
  const pool = new FakePool(3);
  const clock = new VirtualClock();
  pool.clock = clock;
  // One first item; its reply is held back so the other two workers wait idle meanwhile.
  const first = { seq_idx: -1, dataset: 'a', widths: [0.5, 0.5], methods: ['knn'] };
  pool.holdIf = (_w, task) => task.methods.length === 1;
  const finished = [];
  let stoppedWhileFirstInFlight = -1;
  const stats = await drive(
    dispatch(
      pool,
      [first],
      {
        onItemDone: async (item) => (finished.push(item.methods.join('+')), false),
        extend: (item) => (item.methods.length === 1 ? ['knn', 'mean', 'xgboost'].map((m) => ({ ...item, methods: [...item.methods, m] })) : []),
      },
      { clock },
    ),
    pool,
    clock,
    () => {
      if (stoppedWhileFirstInFlight < 0) stoppedWhileFirstInFlight = pool.stopped.length;
      return false;
    },
  );
  assert.equal(stoppedWhileFirstInFlight, 0, 'idle workers were stopped while the first item could still bring work');
  assert.deepEqual(finished.sort(), ['knn', 'knn+knn', 'knn+mean', 'knn+xgboost']);
  assert.equal(stats.itemsDone, 4);
  // The three extensions ran on three workers, and each worker was stopped once, at the end.
  assert.equal(new Set(pool.sent.filter((s) => s.task.methods.length === 2).map((s) => s.worker)).size, 3);
  assert.deepEqual(pool.stopped.sort(), [1, 2, 3]);
});

test('stopWorkers: false leaves every worker waiting; a second dispatch over the same pool runs its items, then the caller stops them', async () => {
  const pool = new FakePool(2);
  const clock = new VirtualClock();
  pool.clock = clock;
  const first = await drive(
    dispatch(pool, makeItems(['a'], QUICK.slice(0, 2)), { onItemDone: recordAll() }, { clock, stopWorkers: false }),
    pool,
    clock,
  );
  assert.equal(first.itemsDone, 2);
  assert.deepEqual(pool.stopped, [], 'no worker may be stopped while more work can come');
  const second = await drive(
    dispatch(pool, makeItems(['b'], QUICK.slice(2)), { onItemDone: recordAll() }, { clock, stopWorkers: false }),
    pool,
    clock,
  );
  assert.equal(second.itemsDone, 2);
  assert.deepEqual(pool.stopped, []);
  assert.ok(pool.sent.some((s) => s.task.dataset === 'b'));
  // Node visits and computed nodes of the second dispatch alone: 2 sequences × 4 bands with rows.
  assert.equal(second.nodeVisits, 8);
  for (const w of pool.workers) await pool.stop(w);
  assert.deepEqual(pool.stopped.sort(), [1, 2]);
});
