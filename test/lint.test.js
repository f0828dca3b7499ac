// Lint and formatting: ESLint, Prettier (TypeScript and JavaScript) and clang-format (native/) all
// pass, so that `npm run format` leaves nothing to change. The same checks as `npm run lint`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `npm run <script>` and asserts it exits 0, showing the first findings otherwise. */
function check(script) {
  const r = spawnSync('npm', ['run', '--silent', script], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  const out = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  const first = out.slice(0, 40).join('\n');
  assert.equal(
    r.status,
    0,
    `npm run ${script} failed (npm run format fixes formatting):\n${first}${out.length > 40 ? `\n... (${out.length - 40} more lines)` : ''}`,
  );
}

const clangFormat = spawnSync('clang-format', ['--version'], { encoding: 'utf8' });

test('eslint: no findings', () => check('lint:eslint'));

test('prettier: the TypeScript and JavaScript sources are formatted', () => check('lint:prettier'));

test(
  'clang-format: the native sources are formatted',
  { skip: clangFormat.error ? 'clang-format is not installed (npm run setup installs it on Debian)' : false },
  () => check('lint:clang-format'),
);
