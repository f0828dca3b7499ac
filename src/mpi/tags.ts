// The only message tags hierimpute uses. Ids (sequence, dataset, band) travel in payloads,
// never in tags: the MPI standard only guarantees tags up to 32767.
export const TAG_TASK = 1;
export const TAG_DONE = 2;
export const TAG_STOP = 3;
export const TAG_ERROR = 4;
/** A worker's first message to rank 0: its host name (so rank 0 can say where its tasks run). */
export const TAG_HELLO = 5;

export type Tag = typeof TAG_TASK | typeof TAG_DONE | typeof TAG_STOP | typeof TAG_ERROR | typeof TAG_HELLO;

export function isTag(t: number): t is Tag {
  return t === TAG_TASK || t === TAG_DONE || t === TAG_STOP || t === TAG_ERROR || t === TAG_HELLO;
}

/** Wildcards for recv/probe filters. */
export const ANY_SOURCE = -1;
export const ANY_TAG = -1;
