// Atomic file writes: the target is either its old content or the complete new content, never a
// partial file, even if the process dies mid-write.
//   temp file in the same folder (unique name, O_EXCL) -> write -> fsync -> rename onto the
//   target -> fsync the folder (so the rename itself survives a crash).
// On failure the temp file is removed and the error names the target (and the missing folder).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Unique temp path next to `path` (hidden, so folder scans for *.csv never pick it up). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Writes `data` to `path` atomically. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  let fh;
  try {
    fh = await open(tmp, 'wx', 0o666);
  } catch (err) {
    throw await describeFailure(path, err);
  }
  try {
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw await describeFailure(path, err);
  }
  await fsyncFolder(dirname(path));
}

/** Synchronous twin of writeFileAtomic (for exit paths and small metadata files). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o666);
  } catch (err) {
    throw describeFailureSync(path, err);
  }
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined)
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    try {
      unlinkSync(tmp);
    } catch {
      /* may not exist */
    }
    throw describeFailureSync(path, err);
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* best effort: some file systems refuse to fsync a folder */
  }
}

async function fsyncFolder(dir: string): Promise<void> {
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* best effort: some file systems refuse to fsync a folder */
  }
}

async function describeFailure(path: string, err: unknown): Promise<Error> {
  const dir = dirname(path);
  const missing =
    (err as NodeJS.ErrnoException).code === 'ENOENT' &&
    !(await stat(dir).then(
      () => true,
      () => false,
    ));
  return failure(path, dir, err, missing);
}

function describeFailureSync(path: string, err: unknown): Error {
  const dir = dirname(path);
  let missing = false;
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    try {
      statSync(dir);
    } catch {
      missing = true;
    }
  }
  return failure(path, dir, err, missing);
}

function failure(path: string, dir: string, err: unknown, folderMissing: boolean): Error {
  const e = err as NodeJS.ErrnoException;
  const why = folderMissing ? `the folder '${dir}' does not exist` : e.message;
  const out = new Error(`cannot write '${path}': ${why}`, { cause: err }) as NodeJS.ErrnoException;
  if (e.code) out.code = e.code;
  return out;
}
