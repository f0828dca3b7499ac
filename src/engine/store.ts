// Where prefix-tree node results live. DiskStore: one Arrow IPC file per node under
// OUT/cache/<dataset>/, written atomically, claimed through native lock files (separate jobs
// sharing an output folder never compute a node twice; claims of a killed job go stale and are
// taken over). MemoryStore: the same contract in memory, for hierarchicalImpute on one table.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { tryClaim, type LockHandle } from '../locks/index.js';
import { readArrowFile, writeArrowFile } from '../tables/ipc.js';
import { matrixToTable, tableToMatrix } from '../tables/arrow.js';
import type { Matrix } from '../tables/matrix.js';

export interface NodeRef {
  readonly dataset: string;
  readonly band: number;
  readonly key: string;
}

export interface Claim {
  release(): void;
}

export interface NodeStore {
  has(node: NodeRef): boolean;
  read(node: NodeRef): Promise<Matrix>;
  write(node: NodeRef, m: Matrix): Promise<void>;
  /** Exclusive right to compute `node`, or null while someone else holds it. */
  claim(node: NodeRef): Claim | null;
}

export interface DiskStoreOptions {
  rank?: number;
  /** Lease of node claims (ms): a claim not refreshed for this long is stale. */
  leaseMs?: number;
  /** Results kept in memory (most recently used). */
  cacheEntries?: number;
}

export class DiskStore implements NodeStore {
  private readonly memo = new Map<string, Matrix>();
  /** Node results read from disk, and reads served from memory. */
  diskReads = 0;
  memoHits = 0;

  constructor(
    readonly root: string,
    private readonly opts: DiskStoreOptions = {},
  ) {}

  folder(dataset: string): string {
    return join(this.root, 'cache', dataset);
  }
  path(node: NodeRef): string {
    return join(this.folder(node.dataset), `band${String(node.band).padStart(2, '0')}-${node.key}.arrow`);
  }
  has(node: NodeRef): boolean {
    return this.memo.has(node.key) || existsSync(this.path(node));
  }
  async read(node: NodeRef): Promise<Matrix> {
    const hit = this.memo.get(node.key);
    if (hit) {
      this.memo.delete(node.key);
      this.memo.set(node.key, hit);
      this.memoHits++;
      return hit;
    }
    this.diskReads++;
    const m = tableToMatrix(await readArrowFile(this.path(node)), this.path(node));
    this.remember(node.key, m);
    return m;
  }
  async write(node: NodeRef, m: Matrix): Promise<void> {
    mkdirSync(this.folder(node.dataset), { recursive: true });
    await writeArrowFile(matrixToTable(m), this.path(node));
    this.remember(node.key, m);
  }
  claim(node: NodeRef): Claim | null {
    mkdirSync(this.folder(node.dataset), { recursive: true });
    const lock: LockHandle | null = tryClaim(this.path(node).replace(/\.arrow$/, '.lock'), {
      rank: this.opts.rank ?? null,
      leaseMs: this.opts.leaseMs,
    });
    return lock;
  }
  private remember(key: string, m: Matrix): void {
    this.memo.set(key, m);
    const max = this.opts.cacheEntries ?? 64;
    while (this.memo.size > max) this.memo.delete(this.memo.keys().next().value as string);
  }
}

export class MemoryStore implements NodeStore {
  private readonly nodes = new Map<string, Matrix>();
  has(node: NodeRef): boolean {
    return this.nodes.has(node.key);
  }
  async read(node: NodeRef): Promise<Matrix> {
    const m = this.nodes.get(node.key);
    if (!m) throw new Error(`node ${node.dataset}/band ${node.band} is not in the store`);
    return m;
  }
  async write(node: NodeRef, m: Matrix): Promise<void> {
    this.nodes.set(node.key, m);
  }
  claim(): Claim {
    return { release: () => undefined };
  }
}
