// Argument checking of every function of the core addon (native/core/args.h): a wrong typed array
// (Float64Array for Float32Array, Int8Array for Int32Array, ...), a non-array, a wrong count or
// length, or a value out of range throws a TypeError / RangeError whose message starts with the
// function's name, synchronously (async functions too, before any work is queued). Never a crash,
// never a read past the end of a buffer.
//
// The functions come from the declaration (src/bindings/core.ts, coreFunctionNames): a function
// added there or to the addon without a case here fails the test.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { coreAddon, coreFunctionNames } from '../dist/bindings/core.js';
import { loadAddon } from '../dist/bindings/load.js';

const f32 = (n) => new Float32Array(n);
const f64 = (n) => new Float64Array(n);
const i32 = (...v) => Int32Array.from(v);
const col3 = () => [f32(3)];
// A path that is never created: arguments are rejected before any file is touched.
const nowhere = join(tmpdir(), 'hierimpute-bindings-test-never-created', 'x');

const recurrent = {
  cell: 'lstm',
  objective: 'observed',
  d: 2,
  features: 1,
  units: 2,
  latent: 1,
  epochs: 1,
  batchSize: 2,
  learningRate: 0.01,
  maskRate: 0,
  visibleWeight: 1,
  patience: 1,
  refineIterations: 0,
  initSeeds: [1, 2, 3, 4, 5, 6],
  streamSeeds: [1, 2],
  threads: 1,
};
const recurrentRun = { ...recurrent, n: 3, targetStart: 0, trainRows: i32(0, 1, 2) };
const gain = {
  d: 2,
  hidden: 2,
  iterations: 1,
  batchSize: 2,
  hintRate: 0.9,
  alpha: 10,
  learningRate: 0.001,
  initSeedsG: [1, 2, 3],
  initSeedsD: [4, 5, 6],
  streamSeeds: [7, 8, 9],
};
const gainRun = { ...gain, n: 3, targetStart: 0 };

/** Per function: [what the case breaks, arguments, expected error class]. */
const CASES = {
  // Takes no argument: nothing to get wrong (extra arguments are ignored).
  xgboostVersion: null,

  lockTryClaim: [
    ['path not a string', [123, 1000, 0, 'job', 0], TypeError],
    ['missing arguments', [nowhere], TypeError],
    ['leaseMs a Float64Array', [nowhere, f64(1), 0, 'job', 0], TypeError],
    ['jobId not a string', [nowhere, 1000, 0, 7, 0], TypeError],
    ['rank out of range', [nowhere, 1000, 0, 'job', -2], RangeError],
    ['leaseMs not an integer', [nowhere, 1.5, 0, 'job', 0], RangeError],
  ],
  lockReadOwner: [
    ['no argument', [], TypeError],
    ['path a Uint8Array', [new Uint8Array(3)], TypeError],
  ],
  lockIsStale: [
    ['missing leaseMs', [nowhere], TypeError],
    ['leaseMs negative', [nowhere, -1], RangeError],
    ['path a Float32Array', [f32(1), 1000], TypeError],
  ],

  readCsv: [
    ['no argument', [], TypeError],
    ['path a Uint8Array', [new Uint8Array(2)], TypeError],
    ['threads negative', [nowhere, -1], RangeError],
    ['threads a string', [nowhere, '2'], TypeError],
    ['finite not a boolean', [nowhere, 1, 'yes'], TypeError],
  ],
  parseCsv: [
    ['no argument', [], TypeError],
    ['data a string', ['a\n1\n', 'x.csv'], TypeError],
    ['data a Uint8ClampedArray', [new Uint8ClampedArray(4), 'x.csv'], TypeError],
    ['data a Float32Array', [f32(1), 'x.csv'], TypeError],
    ['data an ArrayBuffer', [new ArrayBuffer(4), 'x.csv'], TypeError],
    ['file not a string', [new Uint8Array(4), 7], TypeError],
    ['threads negative', [new Uint8Array(4), 'x.csv', -1], RangeError],
    ['finite not a boolean', [new Uint8Array(4), 'x.csv', 1, 'yes'], TypeError],
  ],
  writeCsv: [
    ['a Float64Array column', [nowhere, ['a'], [f64(3)], 3], TypeError],
    ['columns not an array', [nowhere, ['a'], f32(3), 3], TypeError],
    ['names not an array', [nowhere, 'a', [f32(3)], 3], TypeError],
    ['more names than columns', [nowhere, ['a', 'b'], [f32(3)], 3], RangeError],
    ['nRows differs from the columns', [nowhere, ['a'], [f32(3)], 4], RangeError],
    ['columns of different lengths', [nowhere, ['a', 'b'], [f32(3), f32(2)], 3], RangeError],
    ['missing nRows', [nowhere, ['a'], [f32(3)]], TypeError],
  ],

  knnImpute: [
    ['a Float64Array fit column', [[f64(3)], col3(), ['a']], TypeError],
    ['fitColumns not an array', [f32(3), col3(), ['a']], TypeError],
    ['fit and target column counts differ', [col3(), [f32(3), f32(3)], ['a']], RangeError],
    [
      'fit columns of different lengths',
      [
        [f32(3), f32(2)],
        [f32(1), f32(1)],
        ['a', 'b'],
      ],
      RangeError,
    ],
    ['names of the wrong count', [col3(), col3(), ['a', 'b']], RangeError],
    ['nNeighbors 0', [col3(), col3(), ['a'], { nNeighbors: 0 }], RangeError],
    ['unknown weights', [col3(), col3(), ['a'], { weights: 'cosine' }], RangeError],
    ['options not an object', [col3(), col3(), ['a'], 5], TypeError],
    ['no argument', [], TypeError],
  ],
  simpleImpute: [
    ['unknown statistic', ['mode', col3(), col3(), ['a']], RangeError],
    ['a Float64Array target column', ['mean', col3(), [f64(3)], ['a']], TypeError],
    ['an Int8Array fit column', ['median', [new Int8Array(3)], col3(), ['a']], TypeError],
    ['names of the wrong count', ['mean', col3(), col3(), ['a', 'b']], RangeError],
    ['threads negative', ['mean', col3(), col3(), ['a'], { threads: -1 }], RangeError],
    ['missing columns', ['mean'], TypeError],
  ],

  miceImpute: [
    ['a Float64Array column', [[f64(3)], 0, ['a'], {}], TypeError],
    ['columns not an array', [f32(3), 0, ['a'], {}], TypeError],
    ['names of the wrong count', [col3(), 0, ['a', 'b'], {}], RangeError],
    ['targetStart past the rows', [col3(), 4, ['a'], {}], RangeError],
    ['missing params', [col3(), 0, ['a']], TypeError],
    ['unknown estimator', [col3(), 0, ['a'], { estimator: 'forest' }], RangeError],
    ['no column', [[], 0, [], {}], RangeError],
    ['no argument', [], TypeError],
  ],
  xgboostImpute: [
    ['a Float64Array column', [[f64(3)], 0, ['a'], {}], TypeError],
    ['columns not an array', [{ length: 1 }, 0, ['a'], {}], TypeError],
    ['columns of different lengths', [[f32(3), f32(4)], 0, ['a', 'b'], {}], RangeError],
    ['targetStart not a number', [col3(), '0', ['a'], {}], TypeError],
    ['nEstimators negative', [col3(), 0, ['a'], { nEstimators: -1 }], RangeError],
    ['missing params', [col3(), 0, ['a']], TypeError],
  ],
  bayesianRidgeFit: [
    ['a Float32Array column', [[f32(2)], f64(2)], TypeError],
    ['y a Float32Array', [[f64(2)], f32(2)], TypeError],
    ['columns not an array', [f64(2), f64(2)], TypeError],
    ['a column longer than y', [[f64(3)], f64(2)], RangeError],
    ['no argument', [], TypeError],
  ],

  rowMissingCounts: [
    ['a Float64Array column', [[f64(3)]], TypeError],
    ['a Float32Array, not an array of them', [f32(3)], TypeError],
    ['columns of different lengths', [[f32(3), f32(2)]], RangeError],
    ['no argument', [], TypeError],
  ],
  takeRows: [
    ['rows an Int8Array', [col3(), new Int8Array(2)], TypeError],
    ['rows a plain array', [col3(), [0, 1]], TypeError],
    ['rows a Uint32Array', [col3(), new Uint32Array(1)], TypeError],
    ['a row past the end', [col3(), i32(5)], RangeError],
    ['a Float64Array column', [[f64(3)], i32(0)], TypeError],
    ['missing rows', [col3()], TypeError],
  ],
  scatterRows: [
    ['a Float64Array source column', [col3(), i32(0), [f64(1)]], TypeError],
    ['rows a Uint32Array', [col3(), new Uint32Array(1), [f32(1)]], TypeError],
    ['more rows than source rows', [col3(), i32(0, 1), [f32(1)]], RangeError],
    ['column counts differ', [col3(), i32(0), [f32(1), f32(1)]], RangeError],
    ['a row past the end', [col3(), i32(7), [f32(1)]], RangeError],
    ['missing source', [col3(), i32(0)], TypeError],
  ],
  columnStats: [
    ['a Float64Array column', [[f64(3)]], TypeError],
    ['a string', ['x'], TypeError],
    ['no argument', [], TypeError],
  ],
  finishBand: [
    ['min a Float32Array', [col3(), col3(), f32(1), f64(1)], TypeError],
    ['min of the wrong length', [col3(), col3(), f64(2), f64(1)], RangeError],
    ['original of another length', [col3(), [f32(2)], f64(1), f64(1)], RangeError],
    ['original not an array', [col3(), {}, f64(1), f64(1)], TypeError],
    ['missing max', [col3(), col3(), f64(1)], TypeError],
  ],
  fillColumns: [
    ['which an Int8Array', [col3(), new Int8Array(1), f64(1)], TypeError],
    ['which a Uint8ClampedArray', [col3(), new Uint8ClampedArray(1), f64(1)], TypeError],
    ['which of the wrong length', [col3(), new Uint8Array(2), f64(1)], RangeError],
    ['values a Float32Array', [col3(), new Uint8Array(1), f32(1)], TypeError],
    ['missing values', [col3(), new Uint8Array(1)], TypeError],
  ],
  firstInfinite: [
    ['a Float64Array column', [[f64(3)]], TypeError],
    ['null', [null], TypeError],
    ['no argument', [], TypeError],
  ],

  holdoutMask: [
    ['a Float64Array column', [[f64(3)], 0.5, 0, 0, 0], TypeError],
    ['share out of range', [col3(), 1.5, 0, 0, 0], RangeError],
    ['seedHi negative', [col3(), 0.5, -1, 0, 0], RangeError],
    ['share a string', [col3(), '0.5', 0, 0, 0], TypeError],
    ['missing seeds', [col3(), 0.5], TypeError],
  ],
  scoreCells: [
    ['rows an Int8Array', [col3(), new Int8Array(1), i32(0), f32(1), i32(0, 0, 0), 1], TypeError],
    ['values a Float64Array', [col3(), i32(0), i32(0), f64(1), i32(0, 0, 0), 1], TypeError],
    ['cols longer than rows', [col3(), i32(0), i32(0, 0), f32(1), i32(0, 0, 0), 1], RangeError],
    ['rowBand not one per row', [col3(), i32(0), i32(0), f32(1), i32(0, 0), 1], RangeError],
    ['a hidden cell outside the table', [col3(), i32(5), i32(0), f32(1), i32(0, 0, 0), 1], RangeError],
    ['missing nBands', [col3(), i32(0), i32(0), f32(1), i32(0, 0, 0)], TypeError],
  ],
  observedStd: [
    ['a Float64Array column', [[f64(3)]], TypeError],
    ['a Float32Array, not an array of them', [f32(3)], TypeError],
    ['no argument', [], TypeError],
  ],

  nnRecurrent: [
    ['x a Float64Array', [f64(6), f32(6), recurrentRun], TypeError],
    ['mask of the wrong length', [f32(6), f32(5), recurrentRun], RangeError],
    ['missing options', [f32(6), f32(6)], TypeError],
    ['trainRows an Int8Array', [f32(6), f32(6), { ...recurrentRun, trainRows: new Int8Array(3) }], TypeError],
    ['a train row past the end', [f32(6), f32(6), { ...recurrentRun, trainRows: i32(9) }], RangeError],
    ['two init seeds for six', [f32(6), f32(6), { ...recurrentRun, initSeeds: [1, 2] }], RangeError],
    ['unknown cell', [f32(6), f32(6), { ...recurrentRun, cell: 'rnn' }], RangeError],
    ['x a plain array', [[0, 0, 0, 0, 0, 0], f32(6), recurrentRun], TypeError],
  ],
  nnGain: [
    ['x a Float64Array', [f64(6), f32(6), gainRun], TypeError],
    ['mask of the wrong length', [f32(6), f32(7), gainRun], RangeError],
    ['x a plain array', [[0, 0, 0, 0, 0, 0], f32(6), gainRun], TypeError],
    ['missing options', [f32(6), f32(6)], TypeError],
    ['targetStart past n', [f32(6), f32(6), { ...gainRun, targetStart: 4 }], RangeError],
  ],
  nnRecurrentCheck: [
    ['inputs a Float32Array', [recurrent, null, f32(2), f64(2), f64(2), 1], TypeError],
    ['weight of the wrong length', [recurrent, null, f64(2), f64(2), f64(3), 1], RangeError],
    ['params of the wrong count', [recurrent, f64(1), f64(2), f64(2), f64(2), 1], RangeError],
    ['missing rows', [recurrent, null, f64(2), f64(2), f64(2)], TypeError],
    ['rows 0', [recurrent, null, f64(2), f64(2), f64(2), 0], RangeError],
    ['options null', [null, null, f64(2), f64(2), f64(2), 1], TypeError],
  ],
  nnGainCheck: [
    ['paramsG a Float32Array', [gain, 0, f32(1), f64(1), f64(2), f64(2), f64(2), f64(2), 1], TypeError],
    ['which 2', [gain, 2, f64(1), f64(1), f64(2), f64(2), f64(2), f64(2), 1], RangeError],
    ['params of the wrong count', [gain, 0, f64(1), f64(1), f64(2), f64(2), f64(2), f64(2), 1], RangeError],
    ['missing arrays', [gain, 0], TypeError],
    ['options a number', [3, 0, f64(1), f64(1), f64(2), f64(2), f64(2), f64(2), 1], TypeError],
  ],
};

test('the declaration lists exactly the functions the core addon exports', () => {
  const raw = loadAddon('hierimpute_core');
  const exported = Object.keys(raw)
    .filter((k) => typeof raw[k] === 'function')
    .sort();
  assert.deepEqual([...coreFunctionNames].sort(), exported);
  assert.equal(coreAddon(), raw);
});

test('every declared function has argument cases, and no case names an undeclared one', () => {
  assert.deepEqual(Object.keys(CASES).sort(), [...coreFunctionNames].sort());
});

for (const name of coreFunctionNames) {
  const cases = CASES[name];
  if (cases === null || cases === undefined) {
    test(`${name}: takes no argument`, () => {
      assert.equal(CASES[name], null, `${name} has no argument cases in test/bindings.test.js`);
      assert.equal(coreAddon()[name].length, 0);
      assert.doesNotThrow(() => coreAddon()[name](f64(1), 'extra'));
    });
    continue;
  }
  test(`${name}: bad arguments throw a TypeError / RangeError naming ${name}`, () => {
    const fn = coreAddon()[name];
    assert.ok(
      cases.some(([, , type]) => type === TypeError),
      `${name}: needs a wrong-type case`,
    );
    for (const [what, args, type] of cases) {
      let result;
      assert.throws(
        () => {
          result = fn(...args);
        },
        (err) => {
          assert.ok(err instanceof type, `${name} (${what}): expected a ${type.name}, got ${err?.constructor?.name}: ${err?.message}`);
          assert.ok(err.message.startsWith(`${name}: `), `${name} (${what}): message does not name the function: ${err.message}`);
          return true;
        },
        `${name} (${what}) did not throw`,
      );
      // A call that wrongly went through must not leave an unhandled rejection behind.
      if (result && typeof result.then === 'function') result.catch(() => {});
    }
  });
}
