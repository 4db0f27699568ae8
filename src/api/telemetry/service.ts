import { PACKAGE_VERSION } from '../../shared/version.ts';

/** Identity of the API service; `service.name` can be overridden with OTEL_SERVICE_NAME. */
export const SERVICE = { name: 'shop-api', version: PACKAGE_VERSION } as const;
