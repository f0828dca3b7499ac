// Table layer: native CSV read/write, Arrow IPC, Matrix <-> Arrow, atomic writes, dataset discovery.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import * as arrow from 'apache-arrow';

import { matrixToTable, tableToMatrix } from '../dist/tables/arrow.js';
import { datasetName, discoverDatasets, findDataset } from '../dist/tables/datasets.js';
import { TableInputError } from '../dist/tables/errors.js';
import { coreAddon } from '../dist/bindings/core.js';
import { loadDataset } from '../dist/engine/dataset.js';
import { fileHash } from '../dist/engine/keys.js';
import { parseCsv } from '../dist/tables/csv.js';
import { readMatrix, readMatrixBytes, readTable, writeMatrix, writeTable } from '../dist/tables/io.js';
import { makeMatrix } from '../dist/tables/matrix.js';
import { writeFileAtomic, writeFileAtomicSync } from '../dist/util/atomic-write.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tables');
const fx = (name) => join(FIX, name);
const work = mkdtempSync(join(tmpdir(), 'hierimpute-tables-'));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;
const tmpFile = (name) => join(mkdtempSync(join(work, `t${seq++}-`)), name);

/** Writes text to a fresh temp .csv and returns its path. */
function csvFile(text, name = 'in.csv') {
  const p = tmpFile(name);
  writeFileSync(p, text);
  return p;
}

function sameBits(a, b) {
  assert.equal(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    // all NaNs are one missing marker; everything else must match bit for bit (incl. -0)
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    if (ua[i] !== ub[i]) assert.fail(`row ${i}: ${a[i]} vs ${b[i]}`);
  }
}

async function rejectsWith(promise, expect) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'expected an error');
  assert.ok(err instanceof TableInputError, `expected TableInputError, got ${err?.name}: ${err?.message}`);
  for (const [k, v] of Object.entries(expect)) {
    if (k === 'message') for (const part of v) assert.ok(err.message.includes(part), `message lacks ${JSON.stringify(part)}: ${err.message}`);
    else assert.deepEqual(err[k], v, `${k} of: ${err.message}`);
  }
  return err;
}

describe('CSV reading', () => {
  it('parses quoting, CRLF, BOM, spaces, blank lines, NA tokens, no final newline', async () => {
    const m = await readMatrix(fx('mixed.csv'));
    assert.deepEqual(m.names, ['id', 'name, with comma', 'say "hi"', 'plain']);
    assert.equal(m.nRows, 4);
    assert.deepEqual(Array.from(m.columns[0]), [1, 4, 7, -0.5]);
    assert.deepEqual(Array.from(m.columns[1]), [2.5, 5, NaN, NaN]);
    assert.deepEqual(Array.from(m.columns[2]), [NaN, NaN, Math.fround(1e-5), NaN]);
    assert.deepEqual(Array.from(m.columns[3]), [-3, NaN, 8, 1000]);
    for (const c of m.columns) assert.ok(c instanceof Float32Array);
  });

  it('treats empty, NA, NaN and the other pandas NA tokens as missing (NaN), and keeps row/column order', async () => {
    const tokens = ['', 'NA', 'NaN', 'nan', '-nan', 'N/A', 'n/a', 'NULL', 'null', 'None', '<NA>', '#N/A', '""', '  '];
    const text = 'z,a,m\n' + tokens.map((t, i) => `${i},${t},${100 - i}`).join('\n') + '\n';
    const m = await readMatrix(csvFile(text));
    assert.deepEqual(m.names, ['z', 'a', 'm']);
    assert.deepEqual(
      Array.from(m.columns[0]),
      tokens.map((_, i) => i),
    );
    assert.ok(Array.from(m.columns[1]).every(Number.isNaN));
    assert.deepEqual(
      Array.from(m.columns[2]),
      tokens.map((_, i) => 100 - i),
    );
  });

  it('parses as float64 then casts to float32 (pandas read_csv + astype(float32))', async () => {
    const m = await readMatrix(csvFile('v\n0.1\n16777217\n1e39\n-1e400\n1e-400\ninf\n-Infinity\n3.14159265358979\n'));
    const want = [0.1, 16777217, 1e39, -Infinity, 0, Infinity, -Infinity, 3.14159265358979].map(Math.fround);
    assert.deepEqual(Array.from(m.columns[0]), want);
    // Double rounding: just above the midpoint between 1 and the next float32. float64 rounds it to
    // the midpoint, the cast then ties to even -> 1 (numpy: np.float64(s).astype(np.float32) == 1.0);
    // parsing straight to float32 would give 1.0000001.
    const dr = await readMatrix(csvFile('v\n1.00000005960464477539062501\n'));
    assert.equal(dr.columns[0][0], 1);
  });

  it('leaves the input file byte-for-byte unchanged', async () => {
    const p = fx('mixed.csv');
    const before = createHash('sha256').update(readFileSync(p)).digest('hex');
    const mtime = statSync(p).mtimeMs;
    await readMatrix(p);
    await readTable(p);
    assert.equal(createHash('sha256').update(readFileSync(p)).digest('hex'), before);
    assert.equal(statSync(p).mtimeMs, mtime);
  });

  it('accepts old-Mac line ends (lone CR) and LF/CRLF mixed in one file', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `${i},${i / 4}`);
    const m = await readMatrix(csvFile('a,b\r' + rows.join('\r') + '\r'));
    assert.equal(m.nRows, 3000);
    assert.equal(m.columns[1][2999], 2999 / 4);
    const mixed = await readMatrix(csvFile('a,b\r1,2\n3,4\r\n5,6'));
    assert.deepEqual(Array.from(mixed.columns[0]), [1, 3, 5]);
  });

  it('the first line is always the header, even when every field is a number (names, as pandas reads them)', async () => {
    const m = await readMatrix(fx('numeric-header.csv'));
    assert.deepEqual(m.names, ['1856', '1860', '1864']);
    assert.equal(m.nRows, 2);
    assert.deepEqual(Array.from(m.columns[0]), [4, 7]);
    assert.deepEqual(Array.from(m.columns[1]), [5, NaN]);
    // a name is the text as written, never a parsed value
    const odd = await readMatrix(csvFile('1.50,-0,1e3,inf,NA\n1,2,3,4,5\n'));
    assert.deepEqual(odd.names, ['1.50', '-0', '1e3', 'inf', 'NA']);
    assert.deepEqual(Array.from(odd.columns[4]), [5]);
    // written back unquoted: the same header line as the input
    const out = tmpFile('years-out.csv');
    await writeMatrix(m, out);
    assert.equal(readFileSync(out, 'utf8'), '1856,1860,1864\n4,5,6\n7,,9\n');
  });

  it('reads a header-only file as zero rows', async () => {
    const m = await readMatrix(csvFile('a,b\n'));
    assert.deepEqual(m.names, ['a', 'b']);
    assert.equal(m.nRows, 0);
  });
});

describe('CSV errors name file, line and column', () => {
  it('non-numeric cell: quotes the cell, 1-based line (blank lines counted) and column name + index', async () => {
    const p = fx('not-a-number.csv');
    await rejectsWith(readMatrix(p), {
      kind: 'not_a_number',
      file: p,
      line: 4,
      column: 2,
      columnName: 'y',
      message: [p, 'line 4', "column 'y' (#2)", '"abc" is not a number'],
    });
  });

  it('ragged row: expected N fields, got M', async () => {
    const p = fx('ragged.csv');
    await rejectsWith(readMatrix(p), { kind: 'ragged_row', file: p, line: 3, message: [p, 'line 3', 'expected 3 fields', 'got 2'] });
    const q = csvFile('a,b\n1,2,3\n');
    await rejectsWith(readMatrix(q), { kind: 'ragged_row', line: 2, message: ['expected 2 fields', 'got 3'] });
  });

  it('empty file (0 bytes, or only blank lines)', async () => {
    const p = fx('empty.csv');
    await rejectsWith(readMatrix(p), { kind: 'empty_file', file: p, message: [p, 'empty file'] });
    await rejectsWith(readMatrix(csvFile('\n  \r\n\n')), { kind: 'empty_file', message: ['empty file'] });
  });

  it('duplicate header names: both positions', async () => {
    const p = fx('duplicate-header.csv');
    await rejectsWith(readMatrix(p), {
      kind: 'duplicate_header',
      line: 1,
      column: 4,
      columnName: 'b',
      message: [p, 'line 1', "duplicate column name 'b'", 'columns #2 and #4'],
    });
  });

  it('empty header name', async () => {
    const p = fx('empty-header.csv');
    await rejectsWith(readMatrix(p), { kind: 'empty_header_name', line: 1, column: 2, message: [p, 'line 1', 'column #2', 'empty column name'] });
    await rejectsWith(readMatrix(csvFile('a,b,\n1,2,3\n')), { kind: 'empty_header_name', column: 3, message: ['trailing'] });
  });

  it('counts physical lines inside quoted fields', async () => {
    const p = fx('multiline-header.csv'); // header spans lines 1-2; bad cell on line 4
    await rejectsWith(readMatrix(p), { kind: 'not_a_number', line: 4, column: 2, columnName: 'b\nc', message: ['line 4', '"x"'] });
    const q = fx('multiline-header-cell.csv');
    await rejectsWith(readMatrix(q), { kind: 'not_a_number', line: 2, column: 1, columnName: 'note', message: ['"multi\nline" is not a number'] });
  });

  it('finite: a cell that reads as ±inf is an error at its line and column (tables to impute)', async () => {
    // by default ±inf is a value, as pandas reads it
    const text = 'a,b,c\n1,2,3\n\n4,inf,6\n7,8,9\n';
    assert.deepEqual(Array.from((await readMatrix(csvFile(text))).columns[1]), [2, Infinity, 8]);
    const p = csvFile(text);
    await rejectsWith(readMatrix(p, { finite: true }), {
      kind: 'not_imputable',
      file: p,
      line: 4,
      column: 2,
      columnName: 'b',
      message: [p, "line 4, column 'b' (#2)", '"inf" is an infinite value', 'empty / NA / NaN when missing'],
    });
    // the general path (quotes) and the fast path (plain numbers) agree; beyond float32 says why
    await rejectsWith(readMatrix(csvFile('a,b\n1,"-Infinity"\n'), { finite: true }), {
      kind: 'not_imputable',
      line: 2,
      column: 2,
      message: ['"-Infinity" is an infinite value'],
    });
    await rejectsWith(readMatrix(csvFile('a,b\n1,2\n-1e39,3\n'), { finite: true }), {
      kind: 'not_imputable',
      line: 3,
      column: 1,
      columnName: 'a',
      message: ['"-1e39" is beyond the float32 range', 'reads as -inf'],
    });
    // the first one in file order wins (row-major), and an earlier text error still comes first
    await rejectsWith(readMatrix(csvFile('a,b\n1,inf\ninf,2\n'), { finite: true }), { line: 2, column: 2 });
    await rejectsWith(readMatrix(csvFile('a,b\nx,inf\n'), { finite: true }), { kind: 'not_a_number', line: 2, column: 1 });
    // finite values at the float32 limits pass
    const ok = await readMatrix(csvFile('a\n3.4028234e38\n-3.4028234e38\n1e-50\nNaN\n'), { finite: true });
    assert.deepEqual(Array.from(ok.columns[0]), [3.4028234e38, -3.4028234e38, 0, NaN].map(Math.fround));
  });

  it('hints at another separator', async () => {
    await rejectsWith(readMatrix(csvFile('a;b\n1;2\n')), {
      kind: 'not_a_number',
      line: 2,
      column: 1,
      columnName: 'a;b',
      message: ['"1;2"', "';'- or tab-separated"],
    });
  });

  it('quoting errors', async () => {
    await rejectsWith(readMatrix(csvFile('a,b\n1,"2\n3,4\n')), {
      kind: 'unterminated_quote',
      line: 2,
      column: 2,
      message: ['line 2', 'never closed'],
    });
    await rejectsWith(readMatrix(csvFile('a,b\n1,"2"x\n')), { kind: 'bad_quote', line: 2, message: ['line 2', 'after a closing quote'] });
  });

  it('missing file and unsupported extension', async () => {
    const p = join(work, 'nope.csv');
    await rejectsWith(readMatrix(p), { kind: 'io', errno: 2, message: [p, 'No such file'] });
    await rejectsWith(readMatrix(join(work, 'x.parquet')), { kind: 'unsupported_format', message: ['.parquet', '.csv', '.arrow'] });
    await rejectsWith(readMatrix(join(work, 'nope.arrow')), { kind: 'io', message: ['nope.arrow'] });
  });
});

/** Our float text, computed independently: shortest digits, Python repr layout, no ".0". */
function canonical(mantissa, exp10) {
  // value = mantissa * 10^exp10, mantissa an integer with <= 6 digits
  let digits = String(Math.abs(mantissa));
  let e = exp10;
  while (digits.length > 1 && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    e += 1;
  }
  const sci = e + digits.length - 1;
  const sign = mantissa < 0 ? '-' : '';
  if (sci < -4 || sci >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const x = Math.abs(sci) < 10 ? `0${Math.abs(sci)}` : String(Math.abs(sci));
    return `${sign}${m}e${sci < 0 ? '-' : '+'}${x}`;
  }
  if (sci >= 0) {
    const intLen = sci + 1;
    const ip = digits.length >= intLen ? digits.slice(0, intLen) : digits + '0'.repeat(intLen - digits.length);
    const fp = digits.slice(intLen);
    return sign + ip + (fp ? `.${fp}` : '');
  }
  return `${sign}0.${'0'.repeat(-sci - 1)}${digits}`;
}

describe('reading a file once: parsing bytes (loadDataset)', () => {
  const sameMatrix = (a, b) => {
    assert.deepEqual(a.names, b.names);
    assert.equal(a.nRows, b.nRows);
    a.columns.forEach((c, j) => sameBits(c, b.columns[j]));
  };

  it('parseCsv over a Buffer or a Uint8Array view gives exactly the path-based parse', async () => {
    for (const name of ['mixed.csv', 'numeric-header.csv', 'multiline-header-cell.csv']) {
      const p = fx(name);
      let byPath;
      try {
        byPath = await readMatrix(p);
      } catch (e) {
        await assert.rejects(parseCsv(readFileSync(p), p), (err) => err.message === e.message && err.kind === e.kind);
        continue;
      }
      sameMatrix(await parseCsv(readFileSync(p), p), byPath);
      // the bytes inside a larger buffer (a view with a byteOffset), as a plain Uint8Array
      const bytes = readFileSync(p);
      const big = new Uint8Array(bytes.length + 10);
      big.set(bytes, 7);
      sameMatrix(await parseCsv(big.subarray(7, 7 + bytes.length), p), byPath);
    }
    const { matrix, bytes } = await readMatrixBytes(fx('mixed.csv'));
    sameMatrix(matrix, await readMatrix(fx('mixed.csv')));
    assert.ok(Buffer.from(bytes).equals(readFileSync(fx('mixed.csv'))));
  });

  it('the binding rejects a wrong argument type at once, naming itself and the argument', () => {
    assert.throws(
      () => coreAddon().parseCsv('a\n1\n', 'x.csv'),
      (e) => e instanceof TypeError && /^parseCsv: data must be a Uint8Array, got a string/.test(e.message),
    );
    assert.throws(
      () => coreAddon().parseCsv(new Float32Array(2), 'x.csv'),
      (e) => e instanceof TypeError && /^parseCsv: data must be a Uint8Array, got Float32Array/.test(e.message),
    );
    assert.throws(
      () => coreAddon().parseCsv(Buffer.from('a\n1\n'), 3),
      (e) => e instanceof TypeError && /^parseCsv: file must be a string/.test(e.message),
    );
  });

  it('errors still name the file, line and column, exactly as the path-based reader does', async () => {
    const cases = [
      [csvFile('a,b\n1,2\n\n3,x\n'), {}],
      [csvFile('a,b\n1,2\n3,inf\n'), { finite: true }],
      [fx('ragged.csv'), {}],
      [fx('empty.csv'), {}],
      [fx('duplicate-header.csv'), {}],
    ];
    for (const [p, opts] of cases) {
      const byPath = await rejectsWith(readMatrix(p, opts), {});
      const byBytes = await rejectsWith(readMatrixBytes(p, opts), { kind: byPath.kind, file: p, line: byPath.line, column: byPath.column });
      assert.equal(byBytes.message, byPath.message);
      assert.equal(byBytes.columnName, byPath.columnName);
    }
    const missing = join(work, 'nope-bytes.csv');
    const byPath = await rejectsWith(readMatrix(missing), { kind: 'io', errno: 2 });
    const byBytes = await rejectsWith(readMatrixBytes(missing), { kind: 'io', errno: 2 });
    assert.equal(byBytes.message, byPath.message);
    await rejectsWith(readMatrixBytes(join(work, 'nope.arrow')), { kind: 'io', message: ['nope.arrow'] });
  });

  it('.arrow files read once too, with the same values and the finite check', async () => {
    const p = tmpFile('t.arrow');
    await writeMatrix(makeMatrix(['a', 'b'], [new Float32Array([1, NaN]), new Float32Array([Infinity, 2])]), p);
    const { matrix, bytes } = await readMatrixBytes(p);
    sameMatrix(matrix, await readMatrix(p));
    assert.ok(Buffer.from(bytes).equals(readFileSync(p)));
    await rejectsWith(readMatrixBytes(p, { finite: true }), { kind: 'not_imputable', line: undefined, column: 2 });
  });

  it('loadDataset hashes exactly the bytes it parsed (the same key as hashing the file)', async () => {
    const p = csvFile('a,b\n1,2\n,4\n5,\n');
    const ds = await loadDataset('d', p, [0.5, 1]);
    assert.equal(ds.hash, fileHash(p));
    assert.deepEqual(Array.from(ds.matrix.columns[0]), [1, NaN, 5]);
    const bad = csvFile('a,b\n1,2\n3,zz\n');
    await rejectsWith(loadDataset('d', bad, [1]), { kind: 'not_a_number', file: bad, line: 3, column: 2, columnName: 'b' });
  });
});

describe('CSV writing', () => {
  it('round-trips every float32 value bit for bit (random bit patterns, -0, denormals, inf, NaN)', async () => {
    const n = 20000;
    const bits = new Uint32Array(n);
    let s = 12345;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      bits[i] = (s ^ (s << 7)) >>> 0;
    }
    const a = new Float32Array(bits.buffer);
    a.set([0, -0, 1e-45, -1e-45, 3.4028234663852886e38, Infinity, -Infinity, NaN, 0.1, 1 / 3]);
    const b = new Float32Array(n).map((_, i) => (i % 7 === 0 ? NaN : i / 8));
    const m = makeMatrix(['bits', 'eighths'], [a, b]);
    const p = tmpFile('out.csv');
    await writeMatrix(m, p);
    const back = await readMatrix(p);
    assert.deepEqual(back.names, ['bits', 'eighths']);
    sameBits(back.columns[0], a);
    sameBits(back.columns[1], b);
    const lines = readFileSync(p, 'utf8').split('\n');
    assert.equal(lines[1].split(',')[1], '', 'NaN is an empty cell');
    assert.equal(lines.length, n + 2, 'header + n rows + final newline');
  });

  it('writes back the same text for inputs with <= 6 significant digits in canonical layout', async () => {
    const texts = ['0.1', '12.5', '-3', '1e-05', '0.0001', '100000', '123456', '-0.000123', '1e+16', '9999990000000000', '2.5e-07', '65504', '0'];
    let s = 7;
    for (let i = 0; i < 3000; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const mant = (s % 999999) + 1;
      const exp = ((s >>> 20) % 40) - 20;
      texts.push(canonical(s & 1 ? -mant : mant, exp));
    }
    const p = csvFile('v\n' + texts.join('\n') + '\n');
    const out = tmpFile('out.csv');
    await writeMatrix(await readMatrix(p), out);
    assert.deepEqual(readFileSync(out, 'utf8').split('\n').slice(1, -1), texts);
  });

  it('normalises other spellings of the same value (documented: value identical, text differs)', async () => {
    const pairs = [
      ['1.50', '1.5'],
      ['1e5', '100000'],
      ['1E-05', '1e-05'],
      ['0.00001', '1e-05'],
      ['1e-5', '1e-05'],
      ['+4', '4'],
      ['.5', '0.5'],
      ['007', '7'],
      ['5.', '5'],
      ['2.50e1', '25'],
      ['-0', '-0'],
      ['16777217', '16777216'],
      ['1e16', '1e+16'],
      ['inf', 'inf'],
      ['-Infinity', '-inf'],
    ];
    const p = csvFile('v\n' + pairs.map((x) => x[0]).join('\n') + '\n');
    const out = tmpFile('out.csv');
    await writeMatrix(await readMatrix(p), out);
    assert.deepEqual(
      readFileSync(out, 'utf8').split('\n').slice(1, -1),
      pairs.map((x) => x[1]),
    );
  });

  it('quotes header names only when needed, and they read back exactly', async () => {
    const names = ['plain', 'with space', 'a,b', 'say "hi"', ' pad ', '123', 'line\nbreak', 'NA'];
    const cols = names.map((_, i) => new Float32Array([i, i + 0.5]));
    const p = tmpFile('names.csv');
    await writeMatrix(makeMatrix(names, cols), p);
    const header = readFileSync(p, 'utf8').split('\n').slice(0, 2).join('\n');
    assert.equal(header, 'plain,with space,"a,b","say ""hi"""," pad ",123,"line\nbreak",NA');
    const back = await readMatrix(p);
    assert.deepEqual(back.names, names);
    back.columns.forEach((c, i) => assert.deepEqual(Array.from(c), [i, i + 0.5]));
  });

  it('a single column keeps its missing rows ("" instead of a blank line)', async () => {
    const p = tmpFile('one.csv');
    await writeMatrix(makeMatrix(['v'], [new Float32Array([1, NaN, NaN, 2])]), p);
    assert.equal(readFileSync(p, 'utf8'), 'v\n1\n""\n""\n2\n');
    const back = await readMatrix(p);
    assert.deepEqual(Array.from(back.columns[0]), [1, NaN, NaN, 2]);
  });

  it('keeps the columns alive while the native writer runs (gc during the write)', () => {
    const out = tmpFile('gc.csv');
    const script = `
      const { readMatrix } = await import(${JSON.stringify(new URL('../dist/tables/io.js', import.meta.url).href)});
      const { coreAddon } = await import(${JSON.stringify(new URL('../dist/bindings/core.js', import.meta.url).href)});
      const n = 300000;
      // straight to the addon, so that nothing on the JS side holds the arrays
      const p = coreAddon().writeCsv(${JSON.stringify(out)}, ['a', 'b'], [Float32Array.from({ length: n }, (_, i) => i), Float32Array.from({ length: n }, (_, i) => -i)], n);
      let spins = 0;
      let done = false;
      p.finally(() => { done = true; });
      while (!done && spins < 200) { globalThis.gc(); new Float32Array(1 << 20).fill(7); spins++; await new Promise((r) => setImmediate(r)); }
      await p;
      const m = await readMatrix(${JSON.stringify(out)});
      for (let i = 0; i < n; i += 997) if (m.columns[0][i] !== i || m.columns[1][i] !== -i) throw new Error('row ' + i + ' corrupted');
      console.log('ok', m.nRows);
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', env: process.env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ok 300000');
  });

  it('writes through column views with a byteOffset', async () => {
    const big = new Float32Array([9, 9, 1, 2, 3, 9]);
    const p = tmpFile('view.csv');
    await writeMatrix(makeMatrix(['x'], [big.subarray(2, 5)]), p);
    assert.equal(readFileSync(p, 'utf8'), 'x\n1\n2\n3\n');
  });
});

describe('threads never change results', () => {
  // 60,000 x 8 is ~4.5 MB: enough for the reader to split the body into several 1 MiB pieces.
  const rows = 60000;
  const cols = 8;
  const names = Array.from({ length: cols }, (_, c) => `c${c}`);
  let s = 99;
  const columns = names.map(() =>
    Float32Array.from({ length: rows }, () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % 11 === 0 ? NaN : (s / 4294967296 - 0.5) * 1000;
    }),
  );
  const m = makeMatrix(names, columns);

  it('same bytes written and same bits read with threads 1, 3 and 0 (all cores)', async () => {
    const paths = [1, 3, 0].map((t) => [t, tmpFile(`t${t}.csv`)]);
    for (const [t, p] of paths) await writeMatrix(m, p, { threads: t });
    const ref = readFileSync(paths[0][1]);
    assert.ok(ref.length > 3 << 20, `fixture should exceed 3 MiB, got ${ref.length}`);
    for (const [, p] of paths.slice(1)) assert.ok(readFileSync(p).equals(ref));
    for (const t of [1, 4, 0]) {
      const back = await readMatrix(paths[0][1], { threads: t });
      assert.equal(back.nRows, rows);
      back.columns.forEach((c, i) => sameBits(c, columns[i]));
    }
  });

  it('reports the first error in the file, with its exact line, whatever the thread count', async () => {
    const text = readFileSync(
      await (async () => {
        const p = tmpFile('src.csv');
        await writeMatrix(m, p);
        return p;
      })(),
      'utf8',
    );
    const lines = text.split('\n');
    lines[45001] = lines[45001].replace(/^[^,]*/, 'oops'); // line 45002, column c0
    lines[50001] = `${lines[50001]},9`; // a later ragged row
    lines.splice(30000, 0, '', '   '); // blank lines shift everything by 2
    const p = csvFile(lines.join('\n'));
    const errs = [];
    for (const t of [1, 4, 0]) errs.push(await rejectsWith(readMatrix(p, { threads: t }), { kind: 'not_a_number', line: 45004, column: 1 }));
    assert.ok(errs.every((e) => e.message === errs[0].message));
    await assert.rejects(readMatrix(p, { threads: -1 }), /threads must be an integer >= 0/);
  });

  it('finite: the first ±inf in the file, with its exact line, whatever the thread count', async () => {
    const text = readFileSync(
      await (async () => {
        const p = tmpFile('src.csv');
        await writeMatrix(m, p);
        return p;
      })(),
      'utf8',
    );
    const lines = text.split('\n');
    lines[40001] = lines[40001].replace(/,[^,]*$/, ',1e39'); // line 40002, column c7 (last)
    lines[52001] = lines[52001].replace(/^[^,]*/, 'inf'); // a later one, in another piece
    const p = csvFile(lines.join('\n'));
    const errs = [];
    for (const t of [1, 4, 0]) {
      errs.push(await rejectsWith(readMatrix(p, { threads: t, finite: true }), { kind: 'not_imputable', line: 40002, column: 8, columnName: 'c7' }));
    }
    assert.ok(errs.every((e) => e.message === errs[0].message));
    assert.equal((await readMatrix(p, { threads: 0 })).columns[7][40000], Infinity, 'without finite the value reads as inf');
  });
});

describe('atomic writes', () => {
  const tempsIn = (dir) => readdirSync(dir).filter((f) => f.includes('.tmp-'));

  it('replaces the target and leaves no temp file (csv, arrow, helper)', async () => {
    const dir = mkdtempSync(join(work, 'atomic-'));
    const m = makeMatrix(['a'], [new Float32Array([1, 2])]);
    writeFileSync(join(dir, 'out.csv'), 'old content');
    await writeMatrix(m, join(dir, 'out.csv'));
    await writeMatrix(m, join(dir, 'out.arrow'));
    await writeFileAtomic(join(dir, 'note.txt'), 'hello');
    writeFileAtomicSync(join(dir, 'note2.txt'), new Uint8Array([104, 105]));
    assert.equal(readFileSync(join(dir, 'out.csv'), 'utf8'), 'a\n1\n2\n');
    assert.equal(readFileSync(join(dir, 'note.txt'), 'utf8'), 'hello');
    assert.equal(readFileSync(join(dir, 'note2.txt'), 'utf8'), 'hi');
    assert.deepEqual(readdirSync(dir).sort(), ['note.txt', 'note2.txt', 'out.arrow', 'out.csv']);
  });

  it('missing target folder: clear error, nothing created', async () => {
    const dir = mkdtempSync(join(work, 'atomic-'));
    const m = makeMatrix(['a'], [new Float32Array([1])]);
    for (const name of ['x.csv', 'x.arrow']) {
      const target = join(dir, 'missing', name);
      let err;
      try {
        await writeMatrix(m, target);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof TableInputError && err.kind === 'io' && err.errno === 2, `${name}: ${err}`);
      assert.match(err.message, new RegExp(`cannot write '.*${name}': the folder '.*missing' does not exist`));
    }
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'y.txt'), 'x'), /the folder '.*missing' does not exist/);
    assert.throws(() => writeFileAtomicSync(join(dir, 'missing', 'y.txt'), 'x'), /the folder '.*missing' does not exist/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('a failed write leaves the old target intact and removes its temp file', async () => {
    const dir = mkdtempSync(join(work, 'atomic-'));
    // rename onto a non-empty folder fails after the temp file was fully written
    mkdirSync(join(dir, 'taken.csv'));
    writeFileSync(join(dir, 'taken.csv', 'keep'), 'x');
    await assert.rejects(writeMatrix(makeMatrix(['a'], [new Float32Array([1])]), join(dir, 'taken.csv')), /cannot rename|taken\.csv/);
    mkdirSync(join(dir, 'taken.arrow'));
    writeFileSync(join(dir, 'taken.arrow', 'keep'), 'x');
    await assert.rejects(writeMatrix(makeMatrix(['a'], [new Float32Array([1])]), join(dir, 'taken.arrow')), /cannot write '.*taken\.arrow'/);
    assert.deepEqual(tempsIn(dir), []);
    assert.equal(readFileSync(join(dir, 'taken.csv', 'keep'), 'utf8'), 'x');
    // an unwritable table (duplicate names) never touches the existing target
    writeFileSync(join(dir, 'old.csv'), 'a\n5\n');
    const dup = { names: ['a', 'a'], columns: [new Float32Array(1), new Float32Array(1)], nRows: 1 };
    await rejectsWith(writeMatrix(dup, join(dir, 'old.csv')), { kind: 'invalid_argument', message: ["duplicate column name 'a'", '#1 and #2'] });
    assert.equal(readFileSync(join(dir, 'old.csv'), 'utf8'), 'a\n5\n');
    assert.deepEqual(tempsIn(dir), []);
  });
});

describe('Arrow', () => {
  it('matrixToTable / tableToMatrix are zero-copy', () => {
    const m = makeMatrix(['x', 'y'], [new Float32Array([1, NaN, 3]), new Float32Array([4, 5, 6])]);
    const t = matrixToTable(m);
    assert.equal(t.numRows, 3);
    assert.equal(t.schema.fields[0].type.typeId, arrow.Type.Float);
    assert.equal(t.getChild('x').nullCount, 0, 'no null bitmap: NaN is the missing marker');
    const back = tableToMatrix(t);
    assert.deepEqual(back.names, ['x', 'y']);
    back.columns.forEach((c, i) => assert.equal(c, m.columns[i]));
    assert.ok(Number.isNaN(t.getChild('x').get(1)));
  });

  it('readTable(csv) gives Float32 columns; .arrow round trip keeps names and bits', async () => {
    const t = await readTable(fx('mixed.csv'));
    assert.deepEqual(
      t.schema.fields.map((f) => f.name),
      ['id', 'name, with comma', 'say "hi"', 'plain'],
    );
    assert.ok(t.schema.fields.every((f) => f.type instanceof arrow.Float32));
    const p = tmpFile('mixed.arrow');
    await writeTable(t, p);
    const t2 = await readTable(p);
    const a = tableToMatrix(t);
    const b = tableToMatrix(t2);
    assert.deepEqual(b.names, a.names);
    a.columns.forEach((c, i) => sameBits(b.columns[i], c));
    // and .arrow -> .csv -> Matrix
    const q = tmpFile('mixed.csv');
    await writeTable(t2, q);
    (await readMatrix(q)).columns.forEach((c, i) => sameBits(c, a.columns[i]));
  });

  it('an IPC file with several record batches is combined into one Float32Array per column', async () => {
    const b1 = matrixToTable(makeMatrix(['a', 'b'], [new Float32Array([1, 2]), new Float32Array([3, 4])]));
    const b2 = matrixToTable(makeMatrix(['a', 'b'], [new Float32Array([5]), new Float32Array([NaN])]));
    const t = new arrow.Table([...b1.batches, ...b2.batches]);
    assert.equal(t.batches.length, 2);
    const p = tmpFile('multi.arrow');
    writeFileSync(p, arrow.tableToIPC(t, 'file'));
    const back = await readTable(p);
    assert.equal(back.batches.length, 1);
    const m = tableToMatrix(back);
    assert.deepEqual(Array.from(m.columns[0]), [1, 2, 5]);
    assert.deepEqual(Array.from(m.columns[1]), [3, 4, NaN]);
  });

  it('finite: the first ±inf of an .arrow file is an error naming its data row and column', async () => {
    const p = tmpFile('inf.arrow');
    await writeMatrix(makeMatrix(['a', 'b'], [new Float32Array([1, 2, -Infinity]), new Float32Array([3, Infinity, 5])]), p);
    assert.equal((await readMatrix(p)).columns[1][1], Infinity, 'without finite the value reads as inf');
    await rejectsWith(readMatrix(p, { finite: true }), {
      kind: 'not_imputable',
      file: p,
      column: 2,
      columnName: 'b',
      message: [p, "data row 2, column 'b' (#2)", 'inf is an infinite value'],
    });
    const q = tmpFile('ok.arrow');
    await writeMatrix(makeMatrix(['a'], [new Float32Array([1, NaN, 3.4028234663852886e38])]), q);
    assert.equal((await readMatrix(q, { finite: true })).nRows, 3);
  });

  it('foreign tables: nulls become NaN, other numeric types are cast, text columns are refused', async () => {
    const t = arrow.tableFromArrays({
      f64: arrow.vectorFromArray([1.5, null, 3, null, 5, 6, 7, 8, 9, null], new arrow.Float64()),
      i32: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    });
    const m = tableToMatrix(t, 'foreign');
    assert.deepEqual(Array.from(m.columns[0]), [1.5, NaN, 3, NaN, 5, 6, 7, 8, 9, NaN]);
    assert.deepEqual(Array.from(m.columns[1]), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const s = arrow.tableFromArrays({ x: Float32Array.from([1]), label: ['a'] });
    const p = tmpFile('text.arrow');
    writeFileSync(p, arrow.tableToIPC(s, 'file'));
    await rejectsWith(readTable(p), { kind: 'bad_arrow', column: 2, columnName: 'label', message: [p, "column 'label' (#2)", 'not numeric'] });
    const junk = tmpFile('junk.arrow');
    writeFileSync(junk, 'not arrow at all');
    await rejectsWith(readTable(junk), { kind: 'bad_arrow', message: [junk, 'Arrow'] });
  });
});

describe('dataset discovery', () => {
  it('maps a-b.csv -> a_b, sorts by file name, ignores non-csv, hidden files and folders, reads nothing', () => {
    const dir = mkdtempSync(join(work, 'ds-'));
    for (const f of ['b-2.csv', 'a-b.csv', 'Z.csv', 'notes.txt', 'x.csv.bak', '.hidden.csv', 'UPPER.CSV'])
      writeFileSync(join(dir, f), 'not even csv');
    mkdirSync(join(dir, 'folder.csv'));
    writeFileSync(join(dir, 'folder.csv', 'inner.csv'), 'a\n1\n');
    symlinkSync(join(dir, 'Z.csv'), join(dir, 'link-z.csv'));
    const ds = discoverDatasets(dir);
    assert.deepEqual(
      ds.map((d) => d.name),
      ['Z', 'a_b', 'b_2', 'link_z'],
    );
    assert.equal(ds[1].path, join(dir, 'a-b.csv'));
    assert.equal(datasetName('x-y-z.csv'), 'x_y_z');
    assert.equal(findDataset(ds, 'b_2').path, join(dir, 'b-2.csv'));
    assert.throws(() => findDataset(ds, 'nope'), /unknown dataset 'nope'; known datasets: Z, a_b, b_2, link_z/);
  });

  it('two files mapping to one name is an error naming both', () => {
    const dir = mkdtempSync(join(work, 'ds-'));
    writeFileSync(join(dir, 'a-b.csv'), '');
    writeFileSync(join(dir, 'a_b.csv'), '');
    assert.throws(
      () => discoverDatasets(dir),
      (e) =>
        e instanceof TableInputError &&
        e.kind === 'dataset_collision' &&
        e.message.includes("'a-b.csv' and 'a_b.csv'") &&
        e.message.includes("'a_b'"),
    );
  });

  it('missing folder is a clear error', () => {
    assert.throws(() => discoverDatasets(join(work, 'no-such-dir')), /dataset folder '.*no-such-dir' does not exist/);
  });
});
