// The fit data of the prefix-tree branches a worker continues.
//
// Band b of a sequence is fitted on the results of its earlier bands (in band order) followed by
// band b's own rows. Rebuilding that from the node store for every node reads and copies every
// earlier band's result, so a branch of B bands copies O(B × rows) in all. Here a branch keeps its
// rows in preallocated columns (capacity: the dataset's rows): a node writes its band's rows after
// its parent's, and once done its result takes their place, so the next band of the same branch
// starts from there. A node then copies only its own band's rows, plus its parent's rows once when
// the parent is not cached or its columns are taken by another continuation (a sibling method).
//
// Columns are shared: a prefix through band j and its continuation through band b occupy the first
// rows of the same columns, each entry knowing its own row count. An entry stays valid as long as
// nothing is written below its rows; a node writes after its parent's rows in place only when no
// other entry of those columns reaches past them and no other node is using them, otherwise it
// copies its parent's rows into fresh columns. The fit data is the same values in the same order as
// a rebuild from the store, so results never depend on what was cached.

/** Columns of one branch (capacity rows each) and the entries that use their first rows. */
interface Columns {
  readonly columns: Float32Array[];
  readonly bytes: number;
  readonly entries: Set<Entry>;
  /** A node is fitting on these columns (and may write after its parent's rows). */
  busy: boolean;
}

interface Entry {
  readonly key: string;
  readonly cols: Columns;
  readonly rows: number;
}

/** The fit data of one node, from FitCache.acquire. */
export interface FitData {
  /** Its parent's rows, then the band's rows: views of the branch's columns. */
  readonly columns: Float32Array[];
  /** Where the band's rows start (the parent's row count). */
  readonly targetStart: number;
  /** True when the parent's rows came from the cache (no store read). */
  readonly cached: boolean;
  /**
   * The band is done: its result (one column per column, its rows) replaces the band's rows and the
   * branch is kept as `key`'s prefix (null: nothing continues it). Ends the use of the columns.
   */
  commit(key: string | null, result: readonly Float32Array[]): void;
  /** Ends the use of the columns without a result (the band failed). Idempotent. */
  release(): void;
}

/** Default budget of one worker's cache: the columns of a few dozen branches of a 20,000 × 20 table. */
export const FIT_CACHE_BYTES = 256 * 2 ** 20;

export class FitCache {
  /** Entries by node key, least recently used first. */
  private readonly entries = new Map<string, Entry>();
  /** Columns held (by an entry, or in use), and their bytes. */
  private readonly held = new Set<Columns>();
  private heldBytes = 0;
  /** Nodes that found their parent's rows cached (in place, or copied from other columns), and rebuilt ones. */
  hits = 0;
  copies = 0;
  rebuilds = 0;

  constructor(readonly maxBytes: number = FIT_CACHE_BYTES) {}

  get bytes(): number {
    return this.heldBytes;
  }
  get size(): number {
    return this.entries.size;
  }

  /**
   * The fit data of a node whose parent prefix is `parentKey` (null: no earlier rows) with
   * `parentRows` rows, and whose band has `band` (one column per column). `capacity`: the most
   * rows a branch of this dataset can reach. `rebuild` gives the parent's rows as parts in band
   * order (each one column per column) when they are not cached.
   */
  async acquire(
    parentKey: string | null,
    parentRows: number,
    band: readonly Float32Array[],
    capacity: number,
    rebuild: () => Promise<readonly (readonly Float32Array[])[]>,
  ): Promise<FitData> {
    const k = band.length;
    const bandRows = band[0]?.length ?? 0;
    const need = parentRows + bandRows;
    if (need > capacity) throw new RangeError(`fit cache: ${need} fit rows exceed the capacity of ${capacity}`);
    let entry = parentKey === null ? undefined : this.entries.get(parentKey);
    if (entry && (entry.rows !== parentRows || entry.cols.columns.length !== k)) {
      this.drop(entry);
      entry = undefined;
    }
    let cols: Columns;
    if (entry) {
      this.touch(entry);
      const taken = entry.cols.busy || [...entry.cols.entries].some((e) => e.rows > parentRows);
      if (!taken && entry.cols.columns[0]!.length >= need) {
        cols = entry.cols;
        this.hits++;
      } else {
        cols = this.fresh(k, capacity);
        const from = entry.cols.columns;
        cols.columns.forEach((c, j) => c.set(from[j]!.subarray(0, parentRows)));
        this.copies++;
      }
    } else {
      const parts = parentRows > 0 ? await rebuild() : [];
      cols = this.fresh(k, capacity);
      let at = 0;
      for (const part of parts) {
        const rows = part[0]?.length ?? 0;
        cols.columns.forEach((c, j) => c.set(part[j]!, at));
        at += rows;
      }
      if (at !== parentRows) throw new Error(`fit cache: the earlier bands hold ${at} rows, expected ${parentRows}`);
      this.rebuilds++;
    }
    cols.busy = true;
    this.hold(cols);
    cols.columns.forEach((c, j) => c.set(band[j]!, parentRows));
    let open = true;
    const end = (): void => {
      if (!open) return;
      open = false;
      cols.busy = false;
      if (cols.entries.size === 0) this.unhold(cols);
      this.evict();
    };
    return {
      columns: cols.columns.map((c) => c.subarray(0, need)),
      targetStart: parentRows,
      cached: entry !== undefined,
      commit: (key, result) => {
        if (!open) throw new Error('fit cache: the fit data was already released');
        if (key !== null) {
          if (result.length !== k || result.some((c) => c.length !== bandRows))
            throw new RangeError(`fit cache: a result of ${result[0]?.length ?? 0}×${result.length} cells for a band of ${bandRows}×${k}`);
          cols.columns.forEach((c, j) => c.set(result[j]!, parentRows));
          const old = this.entries.get(key);
          if (old) this.drop(old);
          const e: Entry = { key, cols, rows: need };
          cols.entries.add(e);
          this.entries.set(key, e);
        }
        end();
      },
      release: end,
    };
  }

  /** Forgets every entry (columns in use stay with their node until it ends). */
  clear(): void {
    for (const e of [...this.entries.values()]) this.drop(e);
  }

  private fresh(k: number, capacity: number): Columns {
    const columns = Array.from({ length: k }, () => new Float32Array(capacity));
    return { columns, bytes: k * capacity * Float32Array.BYTES_PER_ELEMENT, entries: new Set(), busy: false };
  }

  private touch(e: Entry): void {
    this.entries.delete(e.key);
    this.entries.set(e.key, e);
  }

  private drop(e: Entry): void {
    if (this.entries.get(e.key) === e) this.entries.delete(e.key);
    e.cols.entries.delete(e);
    if (e.cols.entries.size === 0 && !e.cols.busy) this.unhold(e.cols);
  }

  private hold(c: Columns): void {
    if (this.held.has(c)) return;
    this.held.add(c);
    this.heldBytes += c.bytes;
  }

  private unhold(c: Columns): void {
    if (!this.held.delete(c)) return;
    this.heldBytes -= c.bytes;
  }

  /** Drops least recently used entries while the columns held exceed the budget. */
  private evict(): void {
    for (const e of this.entries.values()) {
      if (this.heldBytes <= this.maxBytes) return;
      this.drop(e);
    }
  }
}
