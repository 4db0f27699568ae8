// The three-node option of the native stack: how many nodes, on which ports, with which
// replication, as read from the environment. The cluster itself runs in test/cluster/.
import { expect } from 'chai';
import { ConfigError, endpointsOf, kafkaNodes, loadConfig } from '../../stack/config.ts';
import { replicationOf } from '../../stack/kafka.ts';
import { SERVICES } from '../../stack/registry.ts';

describe('Kafka cluster option of the native stack', () => {
  it('runs one node with one replica by default', () => {
    const config = loadConfig({});
    expect(config.kafkaBrokers).to.equal(1);
    expect(endpointsOf(config).kafkaBrokers).to.deep.equal(['127.0.0.1:9092']);
    expect(replicationOf(config)).to.deep.equal({ factor: 1, minInsync: 1 });
  });

  it('runs three nodes, each broker given to clients, writes needing two replicas', () => {
    const config = loadConfig({ KAFKA_BROKERS_COUNT: '3', KAFKA_3_PORT: '19096' });
    expect(endpointsOf(config).kafkaBrokers).to.deep.equal([
      '127.0.0.1:9092',
      '127.0.0.1:9094',
      '127.0.0.1:19096',
    ]);
    expect(kafkaNodes(config).map(({ controller }) => controller)).to.deep.equal([
      9093, 9095, 9097,
    ]);
    expect(replicationOf(config)).to.deep.equal({ factor: 3, minInsync: 2 });
    const ctx = { config, log: () => undefined };
    expect(SERVICES.kafka.instances?.(ctx)).to.equal(3);
    expect(SERVICES.kafka.ports(ctx, 3)).to.deep.equal([
      { port: 19096, env: 'KAFKA_3_PORT' },
      { port: 9097, env: 'KAFKA_3_CONTROLLER_PORT' },
    ]);
  });

  it('refuses a size it has no ports for, and ports that collide', () => {
    expect(() => loadConfig({ KAFKA_BROKERS_COUNT: '4' })).to.throw(ConfigError);
    expect(() => loadConfig({ KAFKA_BROKERS_COUNT: '0' })).to.throw(ConfigError);
    expect(() => loadConfig({ KAFKA_2_PORT: '9092' })).to.throw(ConfigError, /KAFKA_2_PORT/);
  });
});
