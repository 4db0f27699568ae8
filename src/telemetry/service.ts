import { createRequire } from 'node:module';

const packageJson = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Identity of the API service; `service.name` can be overridden with OTEL_SERVICE_NAME. */
export const SERVICE = { name: 'shop-api', version: packageJson.version } as const;
