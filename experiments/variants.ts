/**
 * Pipeline variants as data: every folder under experiments/ that holds a `variant.yaml` is a
 * variant, named by its folder. The file says how the API exports its logs, whether the
 * Collector runs and which configuration files are merged over otel-collector/config.yaml, and
 * what ships Kafka's records to the store. Adding a variant is adding a folder.
 *
 * Everything is checked here, before anything starts: an unknown key, a missing overlay file
 * or an unknown `${...}` placeholder stops the run with the file and the key named.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { Endpoints } from '../stack/index.ts';

export const EXPERIMENTS_DIR = import.meta.dirname;
export const VARIANT_FILE = 'variant.yaml';

/**
 * Placeholders a variant's environment values may use, resolved from the running stack's
 * addresses (the ports move with the environment, so a variant cannot state them).
 */
const PLACEHOLDERS: Record<string, (endpoints: Endpoints) => string> = {
  OTLP_HTTP_URL: (endpoints) => endpoints.otlpHttp,
  OTLP_GRPC_URL: (endpoints) => `http://${endpoints.otlpGrpc}`,
  KAFKA_BROKERS: (endpoints) => endpoints.kafkaBrokers.join(','),
  STORE_URL: (endpoints) => endpoints.victoriaLogs,
};
const PLACEHOLDER = /\$\{([A-Z_]+)\}/g;

const envSchema = z
  .record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name'), z.string())
  .default({})
  .superRefine((env, issues) => {
    for (const [name, value] of Object.entries(env)) {
      for (const [, placeholder] of value.matchAll(PLACEHOLDER)) {
        if (placeholder === undefined || !(placeholder in PLACEHOLDERS)) {
          issues.addIssue({
            code: 'custom',
            path: [name],
            message: `unknown placeholder \${${placeholder}}; known: ${Object.keys(PLACEHOLDERS).join(', ')}`,
          });
        }
      }
    }
  });

const variantSchema = z.strictObject({
  /** One line: what the variant changes. */
  description: z.string().min(1),
  /** What it teaches, for docs/experiments.md and the results. */
  teaches: z.string().min(1).optional(),
  api: z.strictObject({ env: envSchema }).default({ env: {} }),
  collector: z
    .strictObject({
      /** false: the Collector is stopped for this variant (the API writes Kafka itself). */
      run: z.boolean().default(true),
      /** Files in the variant's folder merged, in order, over otel-collector/config.yaml. */
      overlays: z.array(z.string().min(1)).default([]),
    })
    .default({ run: true, overlays: [] }),
  /** Whether records pass through Kafka (false: a broker fault does not apply). */
  kafka: z.boolean().default(true),
  /** What moves records from Kafka to the store: the TypeScript consumer, or nothing here. */
  shipper: z
    .strictObject({
      kind: z.enum(['consumer', 'none']),
      env: envSchema,
    })
    .default({ kind: 'consumer', env: {} }),
});

export type VariantSpec = z.infer<typeof variantSchema>;

export interface Variant extends VariantSpec {
  name: string;
  dir: string;
  file: string;
  /** Absolute paths of the Collector overlays. */
  collectorOverlays: string[];
}

export class VariantError extends Error {
  override name = 'VariantError';
}

/** Every variant folder's name, sorted. */
export function variantNames(root = EXPERIMENTS_DIR): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(root, entry.name, VARIANT_FILE)))
    .map((entry) => entry.name)
    .sort();
}

function formatIssues(file: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.join('.');
      const unknown = issue.code === 'unrecognized_keys' ? issue.keys : [];
      if (unknown.length > 0) {
        const where = key ? `${key}.` : '';
        return `${file}: unknown key ${unknown.map((name) => `"${where}${name}"`).join(', ')}`;
      }
      return `${file}: ${key || '(top level)'}: ${issue.message}`;
    })
    .join('\n');
}

/** Reads and checks one variant folder; throws a VariantError naming the file and the key. */
export function loadVariant(name: string, root = EXPERIMENTS_DIR): Variant {
  const dir = path.join(root, name);
  const file = path.join(dir, VARIANT_FILE);
  const shown = path.relative(process.cwd(), file) || file;
  if (!existsSync(file)) {
    throw new VariantError(
      `no variant "${name}" (${shown} does not exist); known: ${variantNames(root).join(', ')}`,
    );
  }
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new VariantError(`${shown}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = variantSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new VariantError(formatIssues(shown, parsed.error));
  const spec = parsed.data;
  const collectorOverlays = spec.collector.overlays.map((overlay, index) => {
    const resolved = path.resolve(dir, overlay);
    if (!existsSync(resolved)) {
      throw new VariantError(`${shown}: collector.overlays.${index}: ${overlay} does not exist`);
    }
    return resolved;
  });
  if (!spec.collector.run && collectorOverlays.length > 0) {
    throw new VariantError(`${shown}: collector.overlays: given, but collector.run is false`);
  }
  return { ...spec, name, dir, file: shown, collectorOverlays };
}

/** Replaces `${PLACEHOLDER}`s in a variant's environment with the running stack's addresses. */
export function resolveEnv(
  env: Record<string, string>,
  endpoints: Endpoints,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [
      name,
      value.replace(PLACEHOLDER, (_, placeholder: string) => {
        const resolve = PLACEHOLDERS[placeholder];
        if (!resolve) throw new VariantError(`${name}: unknown placeholder \${${placeholder}}`);
        return resolve(endpoints);
      }),
    ]),
  );
}
