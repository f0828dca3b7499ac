// Method options, declared once per method as a schema: each option's name, type, default, allowed
// range or choices and a one-line description. Everything else is derived from it: the options'
// TypeScript type (OptionsOf), the defaults object, the checks `impute()` runs on an options object,
// the parsing of `--param key=value` strings and config objects (options.ts) and the `--help` text.
import type { Matrix } from '../tables/matrix.js';
import { checkContext } from './context.js';
import type { ImputeContext, Imputer, MethodName } from './types.js';

interface SpecBase {
  /** One line for `--help`; the type, range and default are printed from the other fields. */
  readonly description: string;
}
/** An integer in [min, max] (max absent: no upper bound beyond Number.MAX_SAFE_INTEGER). */
export interface IntSpec extends SpecBase {
  readonly type: 'int';
  readonly default: number;
  readonly min: number;
  readonly max?: number;
}
/** A finite number in [min, max] ((min, max] with exclusiveMin); absent bounds are open. */
export interface NumberSpec extends SpecBase {
  readonly type: 'number';
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
  readonly exclusiveMin?: boolean;
}
export interface BoolSpec extends SpecBase {
  readonly type: 'bool';
  readonly default: boolean;
}
export interface ChoiceSpec extends SpecBase {
  readonly type: 'choice';
  readonly default: string;
  readonly choices: readonly string[];
}
export interface StringSpec extends SpecBase {
  readonly type: 'string';
  readonly default: string;
}
export type OptionSpec = IntSpec | NumberSpec | BoolSpec | ChoiceSpec | StringSpec;
export type OptionType = OptionSpec['type'];
export const OPTION_TYPES: readonly OptionType[] = ['int', 'number', 'bool', 'choice', 'string'];

/** A method's options by name. */
export type OptionSchema = { readonly [key: string]: OptionSpec };

/** The TypeScript type of one option's value (a choice is the union of its choices). */
export type OptionValue<S extends OptionSpec> = S extends { readonly type: 'int' | 'number' }
  ? number
  : S extends { readonly type: 'bool' }
    ? boolean
    : S extends { readonly type: 'choice'; readonly choices: readonly (infer C)[] }
      ? C
      : string;

/** The options object a schema describes. */
export type OptionsOf<S extends OptionSchema> = { -readonly [K in keyof S]: OptionValue<S[K]> };

/** What a value of `spec` may be, in words ("an integer >= 1", "one of error, zero"). */
export function allowedValues(spec: OptionSpec): string {
  switch (spec.type) {
    case 'int':
      return spec.max === undefined ? `an integer >= ${spec.min}` : `an integer in [${spec.min}, ${spec.max}]`;
    case 'number': {
      const { min, max } = spec;
      if (min !== undefined && max !== undefined) return `a number in ${spec.exclusiveMin ? '(' : '['}${min}, ${max}]`;
      if (min !== undefined) return `a number ${spec.exclusiveMin ? '>' : '>='} ${min}`;
      if (max !== undefined) return `a number <= ${max}`;
      return 'a finite number';
    }
    case 'bool':
      return 'true or false';
    case 'choice':
      return `one of ${spec.choices.join(', ')}`;
    case 'string':
      return 'a string';
  }
}

/** The `<...>` of `key=<...>` in `--help`: choices, or the type with its range. */
export function valueLabel(spec: OptionSpec): string {
  switch (spec.type) {
    case 'choice':
      return spec.choices.join('|');
    case 'bool':
      return 'true|false';
    case 'string':
      return 'string';
    case 'int':
      return spec.max === undefined ? `int >= ${spec.min}` : `int in [${spec.min}, ${spec.max}]`;
    case 'number':
      return allowedValues(spec).replace(/^a (finite )?/, '');
  }
}

/** Whether `value` (already of JavaScript type) is an allowed value of `spec`. */
export function isAllowed(spec: OptionSpec, value: unknown): boolean {
  switch (spec.type) {
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value) && value >= spec.min && (spec.max === undefined || value <= spec.max);
    case 'number':
      return (
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (spec.min === undefined || (spec.exclusiveMin ? value > spec.min : value >= spec.min)) &&
        (spec.max === undefined || value <= spec.max)
      );
    case 'bool':
      return typeof value === 'boolean';
    case 'choice':
      return typeof value === 'string' && spec.choices.includes(value);
    case 'string':
      return typeof value === 'string';
  }
}

/**
 * A schema, checked once at load: every default must be an allowed value (so a default can never
 * disagree with its own range). `const` keeps the literal choices for OptionsOf.
 */
export function defineOptions<const S extends OptionSchema>(schema: S): S {
  for (const [key, spec] of Object.entries(schema))
    if (!isAllowed(spec, spec.default))
      throw new Error(`option schema: the default of ${key} (${String(spec.default)}) is not ${allowedValues(spec)}`);
  return Object.freeze(schema);
}

/** The defaults object of a schema. */
export function defaultsOf<S extends OptionSchema>(schema: S): Readonly<OptionsOf<S>> {
  return Object.freeze(Object.fromEntries(Object.entries(schema).map(([k, spec]) => [k, spec.default]))) as Readonly<OptionsOf<S>>;
}

/**
 * The options object `impute()` runs on: every key of the schema, taken from `options` or its
 * default when absent (keys outside the schema are ignored). A value that is not allowed is a
 * RangeError naming the method, the option, the allowed values and the value.
 */
export function checkOptions<S extends OptionSchema>(method: string, schema: S, options: object): OptionsOf<S> {
  const given = options as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = given[key] === undefined ? spec.default : given[key];
    if (!isAllowed(spec, value)) throw new RangeError(`${method}: option ${key} must be ${allowedValues(spec)} (got ${String(value)})`);
    out[key] = value;
  }
  return out as OptionsOf<S>;
}

/** An imputer as declared: its schema and the imputation on checked options and context. */
export interface ImputerDefinition<S extends OptionSchema> {
  readonly name: MethodName;
  readonly summary: string;
  readonly options: S;
  /** Runs with options already checked against `options` and a context checked by checkContext. */
  run(data: Matrix, targetStart: number, options: Readonly<OptionsOf<S>>, ctx: ImputeContext): Promise<Matrix>;
}

/** An Imputer whose `options` is its schema. */
export type SchemaImputer<S extends OptionSchema> = Imputer<OptionsOf<S>> & { readonly options: S };

/** The Imputer of a definition: defaults from the schema; impute() checks options and context first. */
export function defineImputer<S extends OptionSchema>(def: ImputerDefinition<S>): SchemaImputer<S> {
  const { name, summary, options: schema, run } = def;
  return {
    name,
    summary,
    options: schema,
    defaults: defaultsOf(schema),
    async impute(data, targetStart, options, ctx) {
      const o = checkOptions(name, schema, options);
      return run(data, targetStart, o, checkContext(name, ctx));
    },
  };
}
