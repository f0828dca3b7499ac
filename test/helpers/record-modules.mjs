// Preloaded with `node --import ./test/helpers/record-modules.mjs ...`: at exit, writes every module
// the process loaded (ESM URLs seen by a resolve hook, and every CommonJS file in the require cache)
// to the file named by RECORD_MODULES, one per line. Tests use it to check what a command imports.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.RECORD_MODULES;
if (out) {
  writeFileSync(out, '');
  register(
    'data:text/javascript,' +
      encodeURIComponent(
        `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(out)}, r.url + '\\n');
  return r;
}`,
      ),
  );
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => appendFileSync(out, Object.keys(cache).join('\n') + '\n'));
}
