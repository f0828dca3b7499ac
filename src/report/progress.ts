// Rank 0's progress: a bar on a terminal, a plain log line every 10 s otherwise.
import cliProgress from 'cli-progress';

import { log } from '../log/logger.js';

export interface ProgressPoint {
  itemsDone: number;
  items: number;
  slotsDone: number;
  slots: number;
  computed: number;
}

export interface Progress {
  update(p: ProgressPoint): void;
  stop(): void;
}

function eta(start: number, done: number, total: number): string {
  if (done <= 0) return '?';
  const s = ((Date.now() - start) / 1000 / done) * (total - done);
  return s < 60 ? `${Math.round(s)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

export function createProgress(enabled: boolean): Progress {
  const start = Date.now();
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: 'bands {bar} {value}/{total} | computed {computed} reused {reused} | sequences×datasets {items} | ETA {eta_formatted}',
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const payload = { computed: p.computed, reused: Math.max(0, p.slotsDone - p.computed), items: `${p.itemsDone}/${p.items}` };
        if (!started) {
          bar.start(p.slots, p.slotsDone, payload);
          started = true;
        } else bar.update(p.slotsDone, payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 10_000 && p.itemsDone < p.items) return;
      last = now;
      log.info(
        `progress: band groups ${p.slotsDone}/${p.slots} (computed ${p.computed}, reused ${Math.max(0, p.slotsDone - p.computed)}), sequences×datasets ${p.itemsDone}/${p.items}, ETA ${eta(start, p.slotsDone, p.slots)}`,
      );
    },
    stop: () => undefined,
  };
}
