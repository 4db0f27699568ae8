import { expect } from 'chai';
import { CanaryTracker } from '../../src/canary/tracker.ts';

describe('CanaryTracker', () => {
  it('counts a record as missing only after the deadline, and clears it when it arrives late', () => {
    const tracker = new CanaryTracker(10_000);
    tracker.emit(0); // seq 0
    tracker.emit(1000); // seq 1
    expect(tracker.observe([1], 5000, 60_000)).to.deep.include({ missing: 0, newlyDuplicated: 0 });
    expect(tracker.observe([1], 10_500, 60_000).missing).to.equal(1);
    const late = tracker.observe([0, 1], 20_000, 60_000);
    expect(late.missing).to.equal(0);
    expect(late.arrived).to.deep.equal([{ seq: 0, latencySeconds: 20 }]);
  });

  it('reports latency once per record and each duplicated record once', () => {
    const tracker = new CanaryTracker(10_000);
    tracker.emit(0);
    tracker.emit(0);
    const first = tracker.observe([0, 1, 1], 2000, 60_000);
    expect(first.arrived.map((arrival) => arrival.seq)).to.deep.equal([0, 1]);
    expect(first.newlyDuplicated).to.equal(1);
    const again = tracker.observe([0, 0, 1, 1], 3000, 60_000);
    expect(again.arrived).to.deep.equal([]);
    expect(again.newlyDuplicated).to.equal(1);
    expect(tracker.observe([0, 0, 1, 1, 1], 4000, 60_000).newlyDuplicated).to.equal(0);
  });

  it('forgets old records so memory stays bounded, and bounds the query window', () => {
    const tracker = new CanaryTracker(1000);
    tracker.emit(0);
    tracker.observe([0], 500, 5000);
    expect(tracker.oldestEmitTime(4000)).to.equal(0);
    tracker.observe([], 6000, 5000);
    expect(tracker.oldestEmitTime(6000)).to.equal(6000);
  });
});
