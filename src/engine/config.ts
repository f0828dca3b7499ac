// The run configuration: bands (width + alternative methods), seed, per-method parameters, named
// variants (a method with its own parameters, usable wherever a method name is) and the rule for
// columns a band never observes. Read from JSON or YAML, or a named preset; every violation is an
// error naming the band, key or variant at fault.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';

import yaml from 'js-yaml';

import { parseParams } from '../impute/options.js';
import { getImputer, listMethods } from '../impute/registry.js';
import type { MethodName } from '../impute/types.js';

export type BandAllMissing = 'impute' | 'global_mean';

/**
 * What a band lists: a registered method name, or the name of a variant of the configuration
 * (`variants:`), which stands for a method with its own parameters.
 */
export type MethodRef = string;

/** One band: its width (share of the missing-fraction range) and its alternative methods. */
export interface BandSpec {
  readonly width: number;
  readonly methods: readonly MethodRef[];
}

/** A named variant: a registered method with options merged over that method's defaults (validated). */
export interface VariantSpec {
  readonly method: MethodName;
  readonly params: Readonly<Record<string, unknown>>;
}

/** A validated run configuration (from validateConfig, readConfigFile or presetConfig). */
export interface RunConfig {
  readonly bands: readonly BandSpec[];
  readonly seed: number;
  /** Per method: its options (already merged over the method's defaults and validated). */
  readonly params: Readonly<Partial<Record<MethodName, Readonly<Record<string, unknown>>>>>;
  /**
   * Columns with no observed cell among a band's own rows:
   * - 'impute' (default): the method imputes them from the fit data (earlier bands + the band);
   *   only a column with no observed cell in the fit data at all gets the global column mean.
   * - 'global_mean': every such column is filled with the global column mean before the method
   *   runs, even where earlier bands observe it (kept so results can be compared with that rule).
   */
  readonly band_all_missing: BandAllMissing;
  /**
   * The variants the bands use, by name (absent when none is used, so a configuration without
   * variants is the same object, with the same node keys and outputs, as before variants existed).
   */
  readonly variants?: Readonly<Record<string, VariantSpec>>;
  /**
   * How an --evaluate run explores the sweep (absent: the full product). `beam: K` decides the
   * bands in order, keeping the K best prefixes by holdout score (src/eval/beam.ts). It never
   * enters node keys: a node's result does not depend on how it was reached.
   */
  readonly search?: SearchSpec;
}

export interface SearchSpec {
  /** Prefixes kept after each band (the beam width). */
  readonly beam: number;
}

/** Largest accepted beam width. */
export const MAX_BEAM = 10_000;

/** Checks a beam width (from the config's search.beam or --beam); `where` names the source in the error. */
export function checkBeam(beam: unknown, where: string): number {
  if (typeof beam !== 'number' || !Number.isSafeInteger(beam) || beam < 1 || beam > MAX_BEAM)
    throw new ConfigError(
      `${where} must be an integer in [1, ${MAX_BEAM}] (the prefixes kept after each band), got ${typeof beam === 'number' ? String(beam) : JSON.stringify(beam)}`,
    );
  return beam;
}

/**
 * The configuration a --beam flag asks for: undefined keeps the configuration's own search; 0 the
 * full product (search dropped); K >= 1 a beam of width K.
 */
export function withBeamFlag(config: RunConfig, beam: number | undefined): RunConfig {
  if (beam === undefined) return config;
  if (beam === 0) {
    const { search: _dropped, ...rest } = config;
    return rest;
  }
  if (!Number.isSafeInteger(beam) || beam < 0 || beam > MAX_BEAM)
    throw new ConfigError(`--beam must be 0 (the full product) or an integer in [1, ${MAX_BEAM}] (the prefixes kept after each band), got ${beam}`);
  return { ...config, search: { beam } };
}

/** Validates `search:`; errors name the key. */
function validateSearch(raw: unknown, fail: (msg: string) => never): SearchSpec | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('"search" must be an object, e.g. {beam: 4}');
  const { beam, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) fail(`search: unknown key "${extra}" (valid: beam)`);
  if (beam === undefined) fail('search: "beam" (the prefixes kept after each band) is required, e.g. {beam: 4}');
  try {
    return { beam: checkBeam(beam, 'search.beam') };
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** The method and options a band method name stands for (a variant, or a plain method with `params`). */
export function resolveMethod(
  config: RunConfig,
  name: MethodRef,
): { method: MethodName; params: Readonly<Record<string, unknown>>; variant: boolean } {
  const v = config.variants && Object.prototype.hasOwnProperty.call(config.variants, name) ? config.variants[name] : undefined;
  if (v) return { method: v.method, params: v.params, variant: true };
  const imputer = getImputer(name);
  return { method: imputer.name, params: config.params[imputer.name] ?? (imputer.defaults as Record<string, unknown>), variant: false };
}

/**
 * The parameters of a band method name as node keys and manifests record them: a plain method's
 * entry of `params` (unchanged from before variants, so its node keys stay the same), or for a
 * variant `{method, ...options}`, so two variants of one method never share a node.
 */
export function methodParams(config: RunConfig, name: MethodRef): Readonly<Record<string, unknown>> {
  const v = config.variants && Object.prototype.hasOwnProperty.call(config.variants, name) ? config.variants[name] : undefined;
  if (v) return { method: v.method, ...v.params };
  return config.params[name as MethodName] ?? {};
}

/** A variant name: a letter, then letters, digits or '_' (it becomes part of folder names). */
const VARIANT_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Validates `variants:` (name -> {method, ...options}); errors name the variant. */
function validateVariants(raw: unknown, fail: (msg: string) => never): Map<string, VariantSpec> {
  const out = new Map<string, VariantSpec>();
  if (raw === undefined) return out;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('"variants" must be an object: name -> {method, ...options}');
  const lower = new Map<string, string>();
  for (const [name, spec] of Object.entries(raw as Record<string, unknown>)) {
    const where = `variants.${name}`;
    if (!VARIANT_NAME.test(name)) fail(`${where}: a variant name is a letter followed by letters, digits or '_'`);
    let clash: string | undefined;
    try {
      clash = getImputer(name).name;
    } catch {
      // Not a method name: good.
    }
    clash ??= listMethods()
      .map((m) => m.name as string)
      .find((m) => m.toLowerCase() === name.toLowerCase());
    if (clash) fail(`${where}: the variant name clashes with the method '${clash}'; give the variant another name`);
    const other = lower.get(name.toLowerCase());
    if (other !== undefined) fail(`${where}: the variant name clashes with the variant '${other}' (names differ only in case; they name folders)`);
    lower.set(name.toLowerCase(), name);
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) fail(`${where}: expected {method: <method name>, ...options}`);
    const { method, ...opts } = spec as Record<string, unknown>;
    if (typeof method !== 'string') fail(`${where}: "method" (the base method's name) is required, e.g. {method: knn, n_neighbors: 10}`);
    let imputer;
    try {
      imputer = getImputer(method as string);
    } catch (err) {
      return fail(`${where}: ${(err as Error).message}`);
    }
    const pairs = Object.entries(opts).map(([k, v]) => `${k}=${String(v)}`);
    try {
      out.set(name, { method: imputer.name, params: parseParams(imputer, pairs) as Record<string, unknown> });
    } catch (err) {
      fail(`${where}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** A configuration that cannot be used; the message names the file or preset and the band or key at fault. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const WIDTH_TOLERANCE = 1e-6;

/** Validates a parsed config object (from a file, a preset or a test). `source` names it in errors. */
export function validateConfig(raw: unknown, source: string): RunConfig {
  const fail = (msg: string): never => {
    throw new ConfigError(`${source}: ${msg}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return fail('expected an object with a "bands" list');
  const obj = raw as Record<string, unknown>;
  const known = new Set(['bands', 'seed', 'params', 'band_all_missing', 'variants', 'search']);
  const variants = validateVariants(obj.variants, fail);
  const search = validateSearch(obj.search, fail);
  for (const k of Object.keys(obj)) if (!known.has(k)) fail(`unknown key "${k}" (valid keys: ${[...known].join(', ')})`);
  if (!Array.isArray(obj.bands) || obj.bands.length === 0) return fail('"bands" must be a non-empty list of {width, methods}');
  const bands: BandSpec[] = obj.bands.map((b: unknown, i: number) => {
    const where = `band ${i} (of ${(obj.bands as unknown[]).length})`;
    if (b === null || typeof b !== 'object') return fail(`${where}: expected {width, methods}`);
    const { width, methods, ...rest } = b as Record<string, unknown>;
    if (Object.keys(rest).length) fail(`${where}: unknown key "${Object.keys(rest)[0]}" (valid: width, methods)`);
    if (typeof width !== 'number' || !Number.isFinite(width) || width <= 0 || width > 1)
      fail(`${where}: width must be a number in (0, 1], got ${JSON.stringify(width)}`);
    const list = typeof methods === 'string' ? [methods] : methods;
    if (!Array.isArray(list) || list.length === 0) fail(`${where}: "methods" must be a non-empty list of method names`);
    const names = (list as unknown[]).map((m) => {
      if (typeof m !== 'string') return fail(`${where}: method names must be strings, got ${JSON.stringify(m)}`);
      if (variants.has(m)) return m;
      try {
        return getImputer(m).name;
      } catch (err) {
        return fail(`${where}: ${(err as Error).message}`);
      }
    });
    if (new Set(names).size !== names.length) fail(`${where}: a method is listed twice`);
    return { width: width as number, methods: names };
  });
  const sum = bands.reduce((a, b) => a + b.width, 0);
  if (Math.abs(sum - 1) > WIDTH_TOLERANCE) fail(`band widths sum to ${Number(sum.toPrecision(12))}, they must sum to 1 (±${WIDTH_TOLERANCE})`);
  const seed = obj.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff)
    fail(`"seed" must be an integer in [0, 2^32), got ${JSON.stringify(seed)}`);
  const bam = obj.band_all_missing ?? 'impute';
  if (bam !== 'impute' && bam !== 'global_mean') fail(`"band_all_missing" must be "impute" or "global_mean", got ${JSON.stringify(bam)}`);
  const params: Partial<Record<MethodName, Record<string, unknown>>> = {};
  const rawParams = obj.params ?? {};
  if (rawParams === null || typeof rawParams !== 'object' || Array.isArray(rawParams)) fail('"params" must be an object keyed by method name');
  const used = new Set(bands.flatMap((b) => b.methods));
  for (const [method, opts] of Object.entries(rawParams as Record<string, unknown>)) {
    if (variants.has(method)) fail(`params.${method}: '${method}' is a variant; give its options under variants.${method}`);
    let imputer;
    try {
      imputer = getImputer(method);
    } catch (err) {
      return fail(`params: ${(err as Error).message}`);
    }
    if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) fail(`params.${method} must be an object of options`);
    const pairs = Object.entries(opts as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`);
    try {
      params[imputer.name] = parseParams(imputer, pairs) as Record<string, unknown>;
    } catch (err) {
      fail(`params.${method}: ${(err as Error).message}`);
    }
  }
  for (const m of used) if (!variants.has(m)) params[m as MethodName] ??= { ...(getImputer(m).defaults as Record<string, unknown>) };
  for (const m of Object.keys(params) as MethodName[]) if (!used.has(m)) delete params[m];
  const usedVariants = [...variants].filter(([name]) => used.has(name));
  const config: RunConfig = {
    bands,
    seed: seed as number,
    params,
    band_all_missing: bam as BandAllMissing,
    ...(usedVariants.length ? { variants: Object.fromEntries(usedVariants) } : {}),
    ...(search ? { search } : {}),
  };
  return config;
}

/** Reads a JSON (.json) or YAML (.yaml/.yml) config file. */
export function readConfigFile(path: string): RunConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : yaml.load(text, { filename: path });
  } catch (err) {
    throw new ConfigError(`config ${path}: not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  return validateConfig(raw, `config ${path}`);
}

const repeat = <T>(n: number, v: T): T[] => Array.from({ length: n }, () => v);

/** Named presets. */
export const PRESETS: Readonly<Record<string, () => unknown>> = {
  /**
   * The full sweep: widths [0.05]*16 + [0.10]*2; bands A–F knn; G iterative_function;
   * H–L xgboost; M–P lstm|rnn; Q–R gan|rnn → 2^6 = 64 sequences.
   */
  seed: () => ({
    bands: [
      ...repeat(6, { width: 0.05, methods: ['knn'] }),
      { width: 0.05, methods: ['iterative_function'] },
      ...repeat(5, { width: 0.05, methods: ['xgboost'] }),
      ...repeat(4, { width: 0.05, methods: ['lstm', 'rnn'] }),
      ...repeat(2, { width: 0.1, methods: ['gan', 'rnn'] }),
    ],
    seed: 0,
  }),
  /** A small sweep of tabular methods for demos and tests: 4 bands, 2 × 2 = 4 sequences, 9 prefix-tree nodes. */
  quick: () => ({
    bands: [
      { width: 0.1, methods: ['knn'] },
      { width: 0.2, methods: ['knn', 'iterative_simple'] },
      { width: 0.3, methods: ['xgboost'] },
      { width: 0.4, methods: ['mean', 'knn'] },
    ],
    seed: 0,
    params: { xgboost: { n_estimators: 30 }, iterative_simple: { max_iter: 5 } },
  }),
};

/** A named preset (`seed` or `quick`, see PRESETS), validated. */
export function presetConfig(name: string): RunConfig {
  const make = PRESETS[name];
  if (!make) throw new ConfigError(`unknown preset '${name}' (presets: ${Object.keys(PRESETS).join(', ')})`);
  return validateConfig(make(), `preset ${name}`);
}
