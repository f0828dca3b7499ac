// Parses `--param key=value` strings, and config objects, against a method's option schema into a
// typed options object merged over the method's defaults. Errors name the method and the key, and
// list the valid keys (unknown key) or the allowed values (bad value) with the value given.
import { allowedValues, isAllowed, type OptionSchema, type OptionSpec } from './schema.js';
import type { Imputer } from './types.js';

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

/** `text` read as the type of `spec` (NaN / undefined when it is not one); range not checked. */
function fromText(spec: OptionSpec, text: string): unknown {
  switch (spec.type) {
    case 'number':
      return text.trim() === '' ? NaN : Number(text);
    case 'int':
      return /^\s*[+-]?\d+\s*$/.test(text) ? Number(text) : NaN;
    case 'bool': {
      const t = text.trim().toLowerCase();
      return TRUE.has(t) ? true : FALSE.has(t) ? false : undefined;
    }
    case 'choice':
    case 'string':
      return text;
  }
}

/**
 * The value of option `key` of `method` from `given`: a string is read as `spec`'s type (as on the
 * command line); any other value must already have that type. Throws OptionError naming the method,
 * the key, the allowed values and the value.
 */
export function parseOptionValue(method: string, key: string, spec: OptionSpec, given: unknown): string | number | boolean {
  const value = typeof given === 'string' ? fromText(spec, given) : given;
  if (!isAllowed(spec, value))
    throw new OptionError(`method '${method}': parameter ${key} expects ${allowedValues(spec)}, got '${String(given)}'`, method, key);
  return value as string | number | boolean;
}

function schemaOf(imputer: Imputer<object>): OptionSchema {
  return imputer.options as OptionSchema;
}

function specFor(imputer: Imputer<object>, key: string): OptionSpec {
  const schema = schemaOf(imputer);
  const spec = Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : undefined;
  if (spec) return spec;
  const keys = Object.keys(schema);
  throw new OptionError(
    `method '${imputer.name}': unknown parameter '${key}' (valid keys: ${keys.join(', ') || 'none, it takes no parameters'})`,
    imputer.name,
    key,
  );
}

/**
 * Options for `imputer` from `key=value` strings, merged over its defaults. A key given twice is an
 * error (so a typo in a script cannot silently override an earlier value).
 */
export function parseParams<O extends object>(imputer: Imputer<O>, params: readonly string[] = []): O {
  const out: Record<string, unknown> = { ...(imputer.defaults as Record<string, unknown>) };
  const seen = new Set<string>();
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq <= 0)
      throw new OptionError(
        `method '${imputer.name}': parameter '${param}' is not key=value (valid keys: ${Object.keys(schemaOf(imputer)).join(', ') || 'none'})`,
        imputer.name,
      );
    const key = param.slice(0, eq).trim();
    const spec = specFor(imputer, key);
    if (seen.has(key)) throw new OptionError(`method '${imputer.name}': parameter ${key} is given twice`, imputer.name, key);
    seen.add(key);
    out[key] = parseOptionValue(imputer.name, key, spec, param.slice(eq + 1));
  }
  return out as O;
}

/**
 * Options for `imputer` from an object (a config file's `params.<method>`), merged over its
 * defaults. Values may have the option's type or be strings read as on the command line.
 */
export function parseOptions<O extends object>(imputer: Imputer<O>, given: Readonly<Record<string, unknown>>): O {
  const out: Record<string, unknown> = { ...(imputer.defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given)) out[key] = parseOptionValue(imputer.name, key, specFor(imputer, key), value);
  return out as O;
}
