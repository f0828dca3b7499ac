// Parses `--param key=value` strings against a method's option docs into a typed options object
// merged over the method's defaults. Errors name the method and the key, and list the valid keys
// (unknown key) or the accepted values (bad value).
import type { Imputer, OptionDoc } from './types.js';

export class OptionError extends Error {
  override readonly name = 'OptionError';
  constructor(
    message: string,
    readonly method: string,
    readonly key?: string,
  ) {
    super(message);
  }
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** The value `text` as the type `doc` documents; throws OptionError naming method and key. */
export function parseOptionValue(method: string, key: string, doc: OptionDoc, text: string): string | number | boolean {
  const bad = (expected: string): OptionError =>
    new OptionError(`method '${method}': parameter ${key} expects ${expected}, got '${text}'`, method, key);
  switch (doc.type) {
    case 'number': {
      const v = text.trim() === '' ? NaN : Number(text);
      if (!Number.isFinite(v)) throw bad('a finite number');
      return v;
    }
    case 'integer': {
      const v = /^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(v)) throw bad('an integer');
      return v;
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (TRUE.has(t)) return true;
      if (FALSE.has(t)) return false;
      throw bad('true or false');
    }
    case 'string': {
      if (doc.choices && !doc.choices.includes(text)) throw bad(`one of ${doc.choices.join(', ')}`);
      return text;
    }
  }
}

/**
 * Options for `imputer` from `key=value` strings, merged over its defaults. A key given twice is an
 * error (so a typo in a script cannot silently override an earlier value).
 */
export function parseParams<O extends object>(imputer: Imputer<O>, params: readonly string[] = []): O {
  const docs = imputer.options as Readonly<Record<string, OptionDoc>>;
  const keys = Object.keys(docs);
  const out: Record<string, unknown> = { ...(imputer.defaults as Record<string, unknown>) };
  const seen = new Set<string>();
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq <= 0)
      throw new OptionError(
        `method '${imputer.name}': parameter '${param}' is not key=value (valid keys: ${keys.join(', ') || 'none'})`,
        imputer.name,
      );
    const key = param.slice(0, eq).trim();
    const text = param.slice(eq + 1);
    const doc = Object.prototype.hasOwnProperty.call(docs, key) ? docs[key] : undefined;
    if (!doc)
      throw new OptionError(
        `method '${imputer.name}': unknown parameter '${key}' (valid keys: ${keys.join(', ') || 'none, it takes no parameters'})`,
        imputer.name,
        key,
      );
    if (seen.has(key)) throw new OptionError(`method '${imputer.name}': parameter ${key} is given twice`, imputer.name, key);
    seen.add(key);
    out[key] = parseOptionValue(imputer.name, key, doc, text);
  }
  return out as O;
}
