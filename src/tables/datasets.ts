// Dataset discovery: every *.csv file directly in a folder (not recursive),
// sorted by file name; the dataset name is the file stem with '-' replaced by '_'.
// Lazy: discovery lists the folder and reads no file contents.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { TableInputError } from './errors.js';

export interface Dataset {
  /** File stem with '-' -> '_' (e.g. "a-b.csv" -> "a_b"). */
  name: string;
  /** Absolute path of the file. */
  path: string;
}

/** The dataset name a file name maps to ("a-b.csv" -> "a_b"). */
export function datasetName(fileName: string): string {
  return fileName.replace(/\.csv$/, '').replace(/-/g, '_');
}

/**
 * Lists the datasets of a folder: regular files (or links to them) named *.csv, hidden files
 * excluded (like Python's glob), sorted by file name in code-unit order (locale-independent).
 * Two files mapping to the same name is an error naming both.
 */
export function discoverDatasets(dir: string): Dataset[] {
  const abs = resolve(dir);
  let entries;
  try {
    entries = readdirSync(abs, { withFileTypes: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'does not exist' : e.code === 'ENOTDIR' ? 'is not a folder' : e.message;
    throw new TableInputError(`dataset folder '${dir}' ${why}`, dir, { kind: e.code === 'ENOENT' ? 'not_found' : 'io', cause: err });
  }
  const files = entries
    .filter((d) => d.name.endsWith('.csv') && !d.name.startsWith('.'))
    .filter((d) => d.isFile() || (d.isSymbolicLink() && isFile(join(abs, d.name))))
    .map((d) => d.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const byName = new Map<string, string>();
  const out: Dataset[] = [];
  for (const file of files) {
    const name = datasetName(file);
    const other = byName.get(name);
    if (other !== undefined) {
      throw new TableInputError(
        `dataset folder '${dir}': '${other}' and '${file}' both map to the dataset name '${name}' ('-' becomes '_'); rename one of them`,
        join(abs, file),
        { kind: 'dataset_collision' },
      );
    }
    byName.set(name, file);
    out.push({ name, path: join(abs, file) });
  }
  return out;
}

/** Looks a dataset up by name; the error lists the names that exist. */
export function findDataset(datasets: readonly Dataset[], name: string): Dataset {
  const hit = datasets.find((d) => d.name === name);
  if (hit) return hit;
  const known = datasets.length ? datasets.map((d) => d.name).join(', ') : '(none)';
  throw new TableInputError(`unknown dataset '${name}'; known datasets: ${known}`, name, { kind: 'not_found' });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
