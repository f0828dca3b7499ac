// `npm run bench`: runs every bench/*.bench.js in turn (or those named on the command line).
// Speed goals are printed as ratios against a baseline measured in the same run.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
for (const f of files) {
  process.stdout.write(`\n=== ${f} ===\n`);
  const mod = await import(pathToFileURL(join(here, f)).href);
  if (typeof mod.main === 'function') await mod.main();
}
