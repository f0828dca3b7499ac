// Cache keys of prefix-tree nodes and the seeds derived from them. A node is (dataset, band b,
// methods of bands 0..b); its key hashes everything its result depends on, so a changed input,
// width, method or parameter never reuses a stale result, and equal prefixes share one result.
// What enters a key, and why rank 0's dispatcher names nodes without one: see docs/design.md.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { methodParams, type MethodRef, type RunConfig } from './config.js';

/** Stable JSON: object keys sorted, so equal values always hash equally. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Content hash of an input file (its bytes, whatever its name or location). */
export function fileHash(path: string): string {
  return sha256(readFileSync(path));
}

/** Everything about node (band b, methods[0..b]) except the input: the configuration part. */
function nodeConfig(config: RunConfig, edges: readonly number[], methods: readonly MethodRef[], b: number): string {
  const prefix = methods.slice(0, b + 1);
  return canonicalJson({
    v: 1,
    edges: edges.slice(0, b + 1),
    methods: prefix,
    params: prefix.map((m) => methodParams(config, m)),
    seed: config.seed,
    band_all_missing: config.band_all_missing,
  });
}

/** Key of node (band b, methods[0..b]) of a dataset with content hash `inputHash`. */
export function nodeKey(inputHash: string, config: RunConfig, edges: readonly number[], methods: readonly MethodRef[], b: number): string {
  return sha256(`${inputHash}\n${nodeConfig(config, edges, methods, b)}`).slice(0, 32);
}

/**
 * The seed node (band b, methods[0..b]) runs its method with: from the run seed and the node's
 * place in the prefix tree — never the rank, the timing, or where the table came from.
 */
export function nodeSeed(config: RunConfig, edges: readonly number[], methods: readonly MethodRef[], b: number): number {
  return Number.parseInt(sha256(nodeConfig(config, edges, methods, b)).slice(0, 8), 16) >>> 0;
}
