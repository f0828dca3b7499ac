// Prints whether libmpi is mapped into this process after creating the world.
import { readFileSync } from 'node:fs';
import { getWorld } from '../../dist/mpi/world.js';

const w = getWorld();
const maps = readFileSync('/proc/self/maps', 'utf8');
process.stdout.write(JSON.stringify({ rank: w.rank, size: w.size, isMpi: w.isMpi, libmpi: /libmpi/.test(maps) }) + '\n');
w.finalize();
