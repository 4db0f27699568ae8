/**
 * Memory gauges for every Node component, read from `process.memoryUsage()` at scrape time.
 *
 * RSS alone cannot tell a leak from an allocator or a lazy garbage collector: the split into V8
 * heap (used vs. reserved) and memory outside it (Buffers, ArrayBuffers) says which one grows.
 */
import type { Meter } from '@opentelemetry/api';

const HEAP_AND_EXTERNAL = {
  heap_used: 'heapUsed',
  heap_total: 'heapTotal',
  external: 'external',
  array_buffers: 'arrayBuffers',
} as const;

export function observeProcessMemory(meter: Meter): void {
  // The OTel semantic convention's name for resident memory.
  meter
    .createObservableUpDownCounter('process.memory.usage', {
      description: 'Resident set size of the process.',
      unit: 'By',
    })
    .addCallback((result) => result.observe(process.memoryUsage.rss()));

  meter
    .createObservableGauge('nodejs.memory.usage', {
      description:
        'process.memoryUsage(): V8 heap used and reserved, and memory held outside the heap ' +
        '(external includes array_buffers).',
      unit: 'By',
    })
    .addCallback((result) => {
      const usage = process.memoryUsage();
      for (const [type, key] of Object.entries(HEAP_AND_EXTERNAL)) {
        result.observe(usage[key], { 'nodejs.memory.type': type });
      }
    });
}
