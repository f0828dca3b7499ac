// Files a sweep writes. Per (sequence, dataset), in OUT/sequences/<label>/: the final table
// `<dataset>.csv` (input rows in input order, same header), `<dataset>.methods.csv` (per input row:
// missing fraction, band, method), `<dataset>.bands.svg`, and `methods_manifest.json`. Per run:
// imputation_sequence_index.csv, sequence_description.txt, run-summary.json and plots/.
// Everything is written atomically; an unchanged output is not rewritten.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { log } from '../log/logger.js';
import { writeMatrix } from '../tables/io.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { bandEdges } from './bands.js';
import { methodParams, type RunConfig } from './config.js';
import type { DatasetState } from './dataset.js';
import { sequenceNodes, stitchTable } from './group.js';
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

/**
 * What the rank that writes a finished (sequence, dataset)'s files found:
 *   written  the table, methods table and figure are written (and complete) now;
 *   current  they were already there for exactly these nodes (nothing written);
 *   stale    the manifest still lists an older entry for this dataset (input or configuration
 *            changed, or a file is missing): nothing written; the manifest's owner must drop that
 *            entry first, so that a kill while the files are replaced never leaves an entry that
 *            claims them, and then have them written.
 */
export type OutputStatus = 'written' | 'current' | 'stale';

export interface DatasetOutputs {
  status: OutputStatus;
  entry: ManifestEntry;
}

/** The manifest entry of a finished (sequence, dataset). */
export function manifestEntry(ds: DatasetState, seq: Sequence, config: RunConfig): ManifestEntry {
  return { input: ds.source, input_hash: ds.hash, nodes: sequenceNodes(ds, config, seq.methods).map((n) => n.key) };
}

/**
 * Writes the files of a finished (sequence, dataset) — `<dataset>.csv`, `<dataset>.methods.csv`,
 * `<dataset>.bands.svg`, each atomically — but never its manifest entry: the caller hands the
 * returned entry to the one ManifestWriter of the run once this resolves (status 'written' or
 * 'current'). Any rank that holds the dataset and reads the node store can call it.
 */
export async function writeDatasetOutputs(
  outDir: string,
  ds: DatasetState,
  seq: Sequence,
  config: RunConfig,
  store: NodeStore,
): Promise<DatasetOutputs> {
  const dir = sequenceDir(outDir, seq);
  const nodes = sequenceNodes(ds, config, seq.methods);
  const entry: ManifestEntry = { input: ds.source, input_hash: ds.hash, nodes: nodes.map((n) => n.key) };
  const csvPath = join(dir, `${ds.name}.csv`);
  const methodsPath = join(dir, `${ds.name}.methods.csv`);
  const previous = readManifest(join(dir, 'methods_manifest.json'))?.datasets[ds.name];
  if (previous) {
    if (previous.nodes.join() === entry.nodes.join() && existsSync(csvPath) && existsSync(methodsPath)) return { status: 'current', entry };
    const first = entry.nodes.findIndex((k, b) => previous.nodes[b] !== k);
    log.info(
      first < 0
        ? `${seq.label} / ${ds.name}: an output file is missing; outputs rewritten`
        : `${seq.label} / ${ds.name}: input or configuration changed from band ${first} on; outputs replaced`,
    );
    return { status: 'stale', entry };
  }
  mkdirSync(dir, { recursive: true });
  const table = await stitchTable(ds, store, nodes);
  await writeMatrix(table, csvPath);
  await writeFileAtomic(methodsPath, methodsCsv(ds, seq));
  const { bandRowsSpec, writeSvg } = await import('../report/plots.js');
  await writeSvg(
    join(dir, `${ds.name}.bands.svg`),
    bandRowsSpec(
      `${seq.label} — ${ds.name}`,
      ds.bands.rows.map((r, b) => ({ band: b, rows: r.length, method: seq.methods[b]!, upper: ds.edges[b]! })),
    ),
  );
  return { status: 'written', entry };
}

/**
 * The manifests of a run (`methods_manifest.json`, one per sequence), owned by one rank. Entries
 * are recorded only once their files are complete (writeDatasetOutputs resolved on some rank);
 * writes of one manifest are serialised and coalesced (entries recorded while a write runs go
 * out together in the next one), atomic, sorted by dataset (the file never depends on which
 * dataset finished first) and skipped when the text is unchanged.
 */
export class ManifestWriter {
  /** By sequence label (a beam search's sequences get their ids only at the end). */
  private readonly states = new Map<string, ManifestState>();
  /** Milliseconds of this process's own work on manifests (building and comparing their text). */
  cpuMs = 0;
  /** Milliseconds manifest writes took, waiting for the disk included (asynchronous: other work goes on meanwhile). */
  ioMs = 0;

  constructor(
    private readonly outDir: string,
    private readonly config: RunConfig,
    private readonly edges: readonly number[],
  ) {}

  /** Adds (or replaces) a dataset's entry; resolves once a manifest holding it is on disk. */
  record(seq: Sequence, dataset: string, entry: ManifestEntry): Promise<void> {
    const st = this.state(seq);
    st.seq = seq;
    st.datasets.set(dataset, entry);
    st.full = true;
    return this.persist(st);
  }

  /** Drops a dataset's entry; resolves once the manifest on disk no longer lists it. */
  forget(seq: Sequence, dataset: string): Promise<void> {
    const st = this.state(seq);
    st.datasets.delete(dataset);
    return this.persist(st);
  }

  /** Resolves when every write asked for so far is done (rejects with the first failure). */
  async flush(): Promise<void> {
    await Promise.all([...this.states.values()].map((st) => st.chain));
  }

  private state(seq: Sequence): ManifestState {
    let st = this.states.get(seq.label);
    if (!st) {
      const path = join(sequenceDir(this.outDir, seq), 'methods_manifest.json');
      const old = readManifest(path);
      st = {
        seq,
        path,
        old,
        diskText: existsSync(path) ? readFileSync(path, 'utf8') : undefined,
        datasets: new Map(Object.entries(old?.datasets ?? {})),
        full: false,
        chain: Promise.resolve(),
      };
      this.states.set(seq.label, st);
    }
    return st;
  }

  private persist(st: ManifestState): Promise<void> {
    if (!st.queued) {
      st.queued = st.chain = st.chain.then(async () => {
        st.queued = undefined;
        const t0 = performance.now();
        const text = this.text(st);
        this.cpuMs += performance.now() - t0;
        if (text === st.diskText) return;
        const t1 = performance.now();
        try {
          mkdirSync(dirname(st.path), { recursive: true });
          await writeFileAtomic(st.path, text);
          st.diskText = text;
        } finally {
          this.ioMs += performance.now() - t1;
        }
      });
    }
    return st.queued;
  }

  private text(st: ManifestState): string {
    const datasets = Object.fromEntries([...st.datasets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    // Before any entry of this run is recorded (only forgets so far), the rest of an existing
    // manifest is kept as it was.
    if (!st.full && st.old) return JSON.stringify({ ...st.old, datasets }, null, 2) + '\n';
    const { seq } = st;
    // A baseline is its one method over the whole table: one band of width 1.
    const manifest: Manifest = {
      sequence: seq.id,
      label: seq.label,
      methods: seq.baseline ? seq.methods.slice(0, 1) : [...seq.methods],
      widths: seq.baseline ? [1] : this.config.bands.map((b) => b.width),
      edges: seq.baseline ? [1] : [...this.edges],
      seed: this.config.seed,
      band_all_missing: this.config.band_all_missing,
      params: Object.fromEntries(seq.methods.map((m) => [m, methodParams(this.config, m)])),
      datasets,
    };
    return JSON.stringify(manifest, null, 2) + '\n';
  }
}

interface ManifestState {
  /** The sequence as last recorded (a beam search's sequences get their ids only when recorded). */
  seq: Sequence;
  readonly path: string;
  readonly old: Manifest | undefined;
  /** The manifest's text on disk, as last read or written. */
  diskText: string | undefined;
  readonly datasets: Map<string, ManifestEntry>;
  /** An entry of this run was recorded: the header is written from this run's configuration. */
  full: boolean;
  /** The last write asked for. */
  chain: Promise<void>;
  /** A write asked for and not started yet (later changes join it). */
  queued?: Promise<void>;
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
  // The edges the bands are assigned with (bandEdges, the one rule: see docs/design.md).
  const edges = bandEdges(config.bands.map((b) => b.width));
  const desc = [
    `${sequences.length} sequences × ${datasets.length} datasets (${datasets.join(', ')})`,
    `bands (width → cumulative upper edge): ${config.bands.map((b, i) => `${i}: ${b.width} → ${edges[i]}`).join('; ')}`,
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
  /** MPI runs: share of the dispatch phase's wall time the workers spent on tasks. */
  worker_busy_share?: number;
  /** Rank 0's own work per finished (sequence, dataset): handling replies and building manifests. */
  rank0_ms_per_item?: number;
  /** Wall time of rank 0's manifest writes per finished item (asynchronous, beside dispatching). */
  rank0_manifest_io_ms_per_item?: number;
  /** Rank 0's time from receiving a reply to having fed the freed worker. */
  rank0_ms_per_reply?: number;
  /** Per worker rank: datasets read from file, and tasks served from a dataset it already held. */
  dataset_loads?: Record<string, number>;
  dataset_cache_hits?: Record<string, number>;
  /** Per worker rank: node results read from disk, and served from its in-memory cache. */
  node_disk_reads?: Record<string, number>;
  node_cache_hits?: Record<string, number>;
  /** A beam search (src/eval/beam.ts): its width and the complete sequences it swept. */
  beam?: { width: number; sequences: number };
}

export async function writeRunSummary(outDir: string, summary: RunSummary): Promise<void> {
  await writeFileAtomic(join(outDir, 'run-summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const { groupsSpec, timePerMethodSpec, writeSvg } = await import('../report/plots.js');
  mkdirSync(join(outDir, 'plots'), { recursive: true });
  await writeSvg(join(outDir, 'plots', 'time_per_method.svg'), timePerMethodSpec(summary.seconds_per_method));
  await writeSvg(
    join(outDir, 'plots', 'groups.svg'),
    groupsSpec({ computed: summary.groups_computed, reused: summary.groups_reused, empty: summary.groups_empty }),
  );
}
