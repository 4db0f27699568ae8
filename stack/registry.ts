/**
 * The registry of backing services and of everything `install` provides. Adding a service is
 * one definition file and one entry here; install, start order, stop order, status and the
 * port checks all follow from the definitions.
 */
import { collectorService } from './collector.ts';
import { jaegerService } from './jaeger.ts';
import { kafkaService } from './kafka.ts';
import { prometheusService } from './prometheus.ts';
import { pythonTools } from './python-tools.ts';
import { SERVICE_NAMES } from './types.ts';
import type { Installable, ServiceDefinition, ServiceName } from './types.ts';
import { victoriaLogsService } from './victorialogs.ts';

export const SERVICES: Record<ServiceName, ServiceDefinition> = {
  kafka: kafkaService,
  collector: collectorService,
  victorialogs: victoriaLogsService,
  prometheus: prometheusService,
  jaeger: jaegerService,
};

/** Every service's program, then the test tools (k6, Schemathesis), in install order. */
export const INSTALLABLES: readonly Installable[] = [
  ...SERVICE_NAMES.map((name) => SERVICES[name]),
  pythonTools,
];

/**
 * Stop order: a service stops before the ones it starts after (the Collector flushes its queue
 * while Kafka is still up).
 */
export function stopOrder(): ServiceName[] {
  const order: ServiceName[] = [];
  const visit = (name: ServiceName): void => {
    if (order.includes(name)) return;
    for (const other of SERVICE_NAMES) if (SERVICES[other].startsAfter.includes(name)) visit(other);
    order.push(name);
  };
  for (const name of SERVICE_NAMES) visit(name);
  return order;
}
