/**
 * Writes the API's OpenAPI document (the one GET /openapi.json serves) to the file given as the
 * only argument, or to stdout, so tools can read it without a running server:
 *   node src/api/openapi-document.ts .cache/openapi.json
 * `npm run lint:openapi` lints that file with Redocly's recommended-strict rules.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildOpenApiDocument } from './openapi.ts';
import { SERVICE } from './telemetry/service.ts';

const text = `${JSON.stringify(buildOpenApiDocument(SERVICE.version), null, 2)}\n`;
const [target] = process.argv.slice(2);
if (target) {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
} else {
  process.stdout.write(text);
}
