// Files a sweep writes. Per (sequence, dataset), in OUT/sequences/<label>/: the final table
// `<dataset>.csv` (input rows in input order, same header), `<dataset>.methods.csv` (per input row:
// missing fraction, band, method), `<dataset>.bands.svg`, and `methods_manifest.json`. Per run:
// imputation_sequence_index.csv, sequence_description.txt, run-summary.json and plots/.
// Everything is written atomically; an unchanged output is not rewritten.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { log } from '../log/logger.js';
import { writeMatrix } from '../tables/io.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { RunConfig } from './config.js';
import type { DatasetState } from './dataset.js';
import { sequenceNodes, stitchTable } from './group.js';
import { bandRowsSpec, groupsSpec, timePerMethodSpec, writeSvg } from './plots.js';
import type { NodeStore } from './store.js';
import type { Sequence } from './sweep.js';

export interface ManifestEntry {
  input: string;
  input_hash: string;
  nodes: string[];
}

export interface Manifest {
  sequence: number;
  label: string;
  methods: string[];
  widths: number[];
  edges: number[];
  seed: number;
  band_all_missing: string;
  params: Record<string, unknown>;
  datasets: Record<string, ManifestEntry>;
}

export function sequenceDir(outDir: string, seq: Sequence): string {
  return join(outDir, 'sequences', seq.label);
}

function readManifest(path: string): Manifest | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** Writes the final outputs of a finished (sequence, dataset); returns false when they were already current. */
export async function writeSequenceOutputs(outDir: string, ds: DatasetState, seq: Sequence, config: RunConfig, store: NodeStore): Promise<boolean> {
  const dir = sequenceDir(outDir, seq);
  const manifestPath = join(dir, 'methods_manifest.json');
  const nodes = sequenceNodes(ds, config, seq.methods);
  const entry: ManifestEntry = { input: ds.source, input_hash: ds.hash, nodes: nodes.map((n) => n.key) };
  const csvPath = join(dir, `${ds.name}.csv`);
  const methodsPath = join(dir, `${ds.name}.methods.csv`);
  const old = readManifest(manifestPath);
  const previous = old?.datasets[ds.name];
  if (previous && previous.nodes.join() === entry.nodes.join() && existsSync(csvPath) && existsSync(methodsPath)) return false;
  if (previous) {
    const first = entry.nodes.findIndex((k, b) => previous.nodes[b] !== k);
    log.info(`${seq.label} / ${ds.name}: input or configuration changed from band ${first} on; outputs replaced`);
  }
  mkdirSync(dir, { recursive: true });
  if (previous && old) {
    // Forget the old entry first: if we are killed while replacing the files, the next run must
    // not mistake them for current.
    const { [ds.name]: _dropped, ...rest } = old.datasets;
    await writeFileAtomic(manifestPath, JSON.stringify({ ...old, datasets: rest }, null, 2) + '\n');
  }
  const table = await stitchTable(ds, store, nodes);
  await writeMatrix(table, csvPath);
  await writeFileAtomic(methodsPath, methodsCsv(ds, seq));
  await writeSvg(
    join(dir, `${ds.name}.bands.svg`),
    bandRowsSpec(
      `${seq.label} — ${ds.name}`,
      ds.bands.rows.map((r, b) => ({ band: b, rows: r.length, method: seq.methods[b]!, upper: ds.edges[b]! })),
    ),
  );
  const manifest: Manifest = {
    sequence: seq.id,
    label: seq.label,
    methods: [...seq.methods],
    widths: config.bands.map((b) => b.width),
    edges: [...ds.edges],
    seed: config.seed,
    band_all_missing: config.band_all_missing,
    params: Object.fromEntries(seq.methods.map((m) => [m, config.params[m] ?? {}])),
    // Sorted, so the file does not depend on which dataset finished first.
    datasets: Object.fromEntries(Object.entries({ ...(old?.datasets ?? {}), [ds.name]: entry }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
  await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return true;
}

function methodsCsv(ds: DatasetState, seq: Sequence): string {
  const lines = ['row,missing_fraction,band,method'];
  const { fraction, band } = ds.bands;
  for (let i = 0; i < band.length; i++) lines.push(`${i},${fraction[i]},${band[i]},${seq.methods[band[i]!]}`);
  return lines.join('\n') + '\n';
}

async function writeIfChanged(path: string, text: string): Promise<void> {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  await writeFileAtomic(path, text);
}

/** imputation_sequence_index.csv and sequence_description.txt. */
export async function writeSweepIndex(outDir: string, sequences: readonly Sequence[], datasets: readonly string[], config: RunConfig): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const nb = config.bands.length;
  const header = ['sequence', 'label', ...Array.from({ length: nb }, (_, b) => `band_${b}`)];
  const rows = sequences.map((s) => [String(s.id), s.label, ...s.methods].join(','));
  await writeIfChanged(join(outDir, 'imputation_sequence_index.csv'), [header.join(','), ...rows].join('\n') + '\n');
  const edges = config.bands.reduce<number[]>((a, b) => [...a, (a.at(-1) ?? 0) + b.width], []);
  const desc = [
    `${sequences.length} sequences × ${datasets.length} datasets (${datasets.join(', ')})`,
    `bands (width → cumulative upper edge): ${config.bands.map((b, i) => `${i}: ${b.width} → ${Math.round(edges[i]! * 1e12) / 1e12}`).join('; ')}`,
    `seed ${config.seed}; band_all_missing ${config.band_all_missing}`,
    '',
    ...sequences.map((s) => `${s.label}: ${s.methods.map((m, b) => `band ${b}=${m}`).join(', ')}`),
  ];
  await writeIfChanged(join(outDir, 'sequence_description.txt'), desc.join('\n') + '\n');
}

export interface RunSummary {
  groups_computed: number;
  groups_reused: number;
  groups_empty: number;
  requeues_without_progress: number;
  wall_s: number;
  seconds_per_method: Record<string, number>;
  sequences: number;
  datasets: number;
  ranks: number;
  failed_datasets: Record<string, string>;
  mean_filled_cells: number;
}

export async function writeRunSummary(outDir: string, summary: RunSummary): Promise<void> {
  await writeFileAtomic(join(outDir, 'run-summary.json'), JSON.stringify(summary, null, 2) + '\n');
  mkdirSync(join(outDir, 'plots'), { recursive: true });
  await writeSvg(join(outDir, 'plots', 'time_per_method.svg'), timePerMethodSpec(summary.seconds_per_method));
  await writeSvg(join(outDir, 'plots', 'groups.svg'), groupsSpec({ computed: summary.groups_computed, reused: summary.groups_reused, empty: summary.groups_empty }));
}
