/** Load generator settings, from the command line or the environment (flags win). */
import { parseArgs } from 'node:util';
import { ConfigError, readInteger, readString } from '../shared/env.ts';
import { OPERATIONS, type OperationName } from './operations.ts';
import { DEFAULT_PORTS } from '../shared/topology.ts';

export interface LoadgenConfig {
  target: string;
  /** Requests started per second (open loop: the rate does not slow down with the API). */
  rate: number;
  /** 0 runs until interrupted. */
  durationSeconds: number;
  /** Requests in flight at most; beyond that a tick is skipped and counted. */
  concurrency: number;
  /** Share of requests (0-1) that are deliberately bad: invalid bodies, unknown ids and routes. */
  badShare: number;
  mix: Record<OperationName, number>;
}

const DEFAULT_MIX =
  'list_users:2,get_user:3,create_user:1,list_products:3,get_product:4,create_product:1,list_orders:1,get_order:2,create_order:3,analytics:1,health:1';

function parseMix(text: string): Record<OperationName, number> {
  const mix = Object.fromEntries(OPERATIONS.map((name) => [name, 0])) as Record<
    OperationName,
    number
  >;
  for (const part of text.split(',')) {
    const [name = '', weight = ''] = part.split(':').map((piece) => piece.trim());
    if (!(OPERATIONS as readonly string[]).includes(name)) {
      throw new ConfigError(
        `LOADGEN_MIX: unknown operation "${name}" (known: ${OPERATIONS.join(', ')})`,
      );
    }
    const value = Number(weight);
    if (!Number.isFinite(value) || value < 0) {
      throw new ConfigError(
        `LOADGEN_MIX: weight of ${name} must be a number >= 0, got "${weight}"`,
      );
    }
    mix[name as OperationName] = value;
  }
  if (Object.values(mix).every((weight) => weight === 0)) {
    throw new ConfigError('LOADGEN_MIX: at least one operation needs a weight above 0');
  }
  return mix;
}

export function readLoadgenConfig(argv: string[], env: NodeJS.ProcessEnv): LoadgenConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      concurrency: { type: 'string' },
      'bad-share': { type: 'string' },
      mix: { type: 'string' },
    },
  });
  const merged = {
    ...env,
    ...(values.target && { LOADGEN_TARGET: values.target }),
    ...(values.rate && { LOADGEN_RATE: values.rate }),
    ...(values.duration && { LOADGEN_DURATION_S: values.duration }),
    ...(values.concurrency && { LOADGEN_CONCURRENCY: values.concurrency }),
    ...(values['bad-share'] && { LOADGEN_BAD_SHARE: values['bad-share'] }),
    ...(values.mix && { LOADGEN_MIX: values.mix }),
  };
  const badShare = Number(readString(merged, 'LOADGEN_BAD_SHARE', '0.05'));
  if (!(badShare >= 0 && badShare <= 1)) {
    throw new ConfigError(
      `LOADGEN_BAD_SHARE must be between 0 and 1, got "${merged.LOADGEN_BAD_SHARE}"`,
    );
  }
  const target = readString(
    merged,
    'LOADGEN_TARGET',
    `http://127.0.0.1:${DEFAULT_PORTS.api}`,
  ).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(target)) {
    throw new ConfigError(`LOADGEN_TARGET must be an http(s) base URL, got "${target}"`);
  }
  return {
    target,
    rate: readInteger(merged, 'LOADGEN_RATE', 10, { min: 1, max: 100_000 }),
    durationSeconds: readInteger(merged, 'LOADGEN_DURATION_S', 0, { min: 0 }),
    concurrency: readInteger(merged, 'LOADGEN_CONCURRENCY', 20, { min: 1, max: 10_000 }),
    badShare,
    mix: parseMix(readString(merged, 'LOADGEN_MIX', DEFAULT_MIX)),
  };
}
