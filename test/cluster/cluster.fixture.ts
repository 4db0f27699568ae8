// Mocha global fixture of the cluster suite: the same native services as the integration
// suite, with Kafka as a three-node KRaft cluster (KAFKA_BROKERS_COUNT=3, unless the
// environment asks otherwise). The variable is set before the services fixture and the tests'
// support module read the configuration, hence the dynamic import.
process.env.KAFKA_BROKERS_COUNT ??= '3';

const fixture = await import('../integration/services.fixture.ts');

export const mochaGlobalSetup = fixture.mochaGlobalSetup;
export const mochaGlobalTeardown = fixture.mochaGlobalTeardown;
