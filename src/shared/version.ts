import { createRequire } from 'node:module';

const packageJson = createRequire(import.meta.url)('../../package.json') as { version: string };

/** The project's version (package.json): `service.version` of the API, the consumer and the canary. */
export const PACKAGE_VERSION = packageJson.version;
