/**
 * Resource attributes become the labels of `target_info` on GET /metrics. The Prometheus
 * exporter maps each key to a label name by replacing every character outside `[a-zA-Z0-9_]`
 * with `_` and collapsing runs of `_`, and does nothing about keys that then collide or are not
 * label names at all. Prometheus refuses the whole page for either (`label name "team_name" is
 * not unique`), so one environment variable would silently take every API series down.
 *
 * This module refuses such a resource at start instead, naming the keys: a configuration error
 * stops the process (exit 78) before any page is served. Refusing rather than renaming keeps
 * label names predictable: a query written against `team_name` never finds the other value.
 */
import { ConfigError } from '../../shared/env.ts';

/** Prometheus' label name syntax (classic, as `promtool check metrics` and scrapes apply it). */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/**
 * What promtool's lint (client_golang's promlint) calls camelCase: it fails
 * `promtool check metrics`, though a scrape would still accept it.
 */
const CAMEL_CASE = /[a-z][A-Z]/;

/**
 * The label name the Prometheus exporter (`@opentelemetry/exporter-prometheus`
 * PrometheusSerializer) writes for attribute `key`.
 */
export function prometheusLabelName(key: string): string {
  return key.replace(/[^a-z0-9_]/gi, '_').replace(/_{2,}/g, '_');
}

/**
 * Throws a ConfigError naming OTEL_RESOURCE_ATTRIBUTES and the offending keys when `attributes`
 * (the final resource: defaults, detectors and the environment merged) would not make a valid
 * `target_info` sample: two keys mapping to one label name, a key whose label name is not
 * valid (it starts with a digit, or is reserved: `__` prefix), or one that promtool's lint
 * refuses (camelCase, e.g. `teamName`).
 */
export function checkResourceLabels(attributes: Readonly<Record<string, unknown>>): void {
  const keysByLabel = new Map<string, string[]>();
  const problems: string[] = [];
  for (const key of Object.keys(attributes)) {
    const label = prometheusLabelName(key);
    if (!LABEL_NAME.test(label) || label.startsWith('__')) {
      problems.push(`"${key}" becomes "${label}", which is not a valid label name`);
      continue;
    }
    if (CAMEL_CASE.test(label)) {
      problems.push(`"${key}" becomes the camelCase label "${label}" (use snake_case)`);
      continue;
    }
    keysByLabel.set(label, [...(keysByLabel.get(label) ?? []), key]);
  }
  for (const [label, keys] of keysByLabel) {
    if (keys.length > 1) {
      problems.push(`${keys.map((key) => `"${key}"`).join(', ')} become the same label "${label}"`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(
      `OTEL_RESOURCE_ATTRIBUTES: resource attributes that would make target_info unreadable ` +
        `to Prometheus: ${problems.join('; ')}. Rename or remove them.`,
    );
  }
}

/**
 * Validates OTEL_RESOURCE_ATTRIBUTES as the specification defines it (comma-separated
 * `key=value` pairs, `,` and `=` percent-encoded, non-empty keys). The SDK's env detector
 * ignores the whole variable, silently, when one entry is malformed; here it is an error.
 * Returns the decoded attributes.
 */
export function parseResourceAttributesEnv(raw: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (raw === undefined || raw.trim() === '') return attributes;
  for (const entry of raw.split(',')) {
    if (entry.trim() === '') continue;
    const parts = entry.split('=');
    const [key, value] = parts.map((part) => part.trim());
    if (parts.length !== 2 || !key || value === undefined) {
      throw new ConfigError(
        `OTEL_RESOURCE_ATTRIBUTES: "${entry}" is not key=value (percent-encode "," and "=")`,
      );
    }
    try {
      const decodedKey = decodeURIComponent(key);
      const decodedValue = decodeURIComponent(value);
      // The SDK's detector refuses longer keys and values (and with them the whole variable).
      if (decodedKey.length > 255 || decodedValue.length > 255) {
        throw new ConfigError(
          `OTEL_RESOURCE_ATTRIBUTES: "${decodedKey.slice(0, 40)}…" is longer than 255 characters`,
        );
      }
      attributes[decodedKey] = decodedValue;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`OTEL_RESOURCE_ATTRIBUTES: "${entry}" is not valid percent-encoding`);
    }
  }
  return attributes;
}
