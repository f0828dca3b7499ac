// One typed codec for every message: raw bytes travel as they are (zero-copy into MPI),
// small structured messages as UTF-8 JSON. The kind byte rides in front of the body.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export const KIND_BYTES = 0;
export const KIND_JSON = 1;
export type Kind = typeof KIND_BYTES | typeof KIND_JSON;

/** What callers send: bytes, or a JSON-serialisable value. */
export type Payload = Uint8Array | JsonValue;

export interface Encoded {
  kind: Kind;
  body: Uint8Array;
}

export function encode(payload: Payload): Encoded {
  if (payload instanceof Uint8Array) return { kind: KIND_BYTES, body: payload };
  if (ArrayBuffer.isView(payload))
    throw new TypeError('codec: only Uint8Array/Buffer byte payloads are supported (got ' + (payload as object).constructor.name + ')');
  const text = JSON.stringify(payload);
  if (text === undefined) throw new TypeError('codec: payload is not JSON-serialisable');
  return { kind: KIND_JSON, body: Buffer.from(text, 'utf8') };
}

export type Decoded = { kind: 'bytes'; payload: Buffer } | { kind: 'json'; payload: JsonValue };

export function decode(kind: number, body: Buffer): Decoded {
  if (kind === KIND_BYTES) return { kind: 'bytes', payload: body };
  if (kind === KIND_JSON) return { kind: 'json', payload: JSON.parse(body.toString('utf8')) as JsonValue };
  throw new Error(`codec: unknown payload kind ${kind} (message not sent by hierimpute?)`);
}
