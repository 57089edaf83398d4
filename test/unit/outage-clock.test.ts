import { describe, expect, it } from 'vitest';

import { OutageClock } from '../../core/wallet/outage';

/** A clock the test moves by hand. */
function at(start = 1_000_000) {
  let t = start;
  return { now: () => t, pass: (ms: number) => (t += ms) };
}

describe('the outage clock of the exit without the protocol node', () => {
  it('counts from the first drop while the node stays away', () => {
    const c = at();
    const clock = new OutageClock(30_000, c.now);
    expect(clock.state).toBeNull();
    expect(clock.answering).toBe(true);
    clock.lost();
    c.pass(10_000);
    clock.lost(); // a heartbeat timing out again changes nothing
    c.pass(25_000);
    expect(clock.answering).toBe(false);
    expect(clock.lastedMs).toBe(35_000);
  });

  it('does not restart when the node flaps back for less than the settle time', () => {
    const c = at();
    const clock = new OutageClock(30_000, c.now);
    const first = c.now();
    // Twenty cycles of 5 s down, 5 s up: each return is too short to end the outage.
    for (let i = 0; i < 20; i++) {
      clock.lost();
      c.pass(5_000);
      clock.back();
      expect(clock.answering).toBe(true);
      c.pass(5_000);
    }
    clock.lost();
    expect(clock.state).toEqual({ since: first, backAt: null });
    expect(clock.lastedMs).toBe(200_000);
  });

  it('ends the outage once the node has answered for the settle time without a break', () => {
    const c = at();
    const clock = new OutageClock(30_000, c.now);
    clock.lost();
    c.pass(60_000);
    clock.back();
    c.pass(29_999);
    expect(clock.state).not.toBeNull();
    c.pass(1);
    expect(clock.state).toBeNull();
    expect(clock.lastedMs).toBe(0);
    // The next drop is a new outage, counted from now.
    clock.lost();
    expect(clock.state).toEqual({ since: c.now(), backAt: null });
  });

  it('ignores a return while none was lost, and a second return while already back', () => {
    const c = at();
    const clock = new OutageClock(30_000, c.now);
    clock.back();
    expect(clock.state).toBeNull();
    clock.lost();
    c.pass(1_000);
    clock.back();
    const backAt = c.now();
    c.pass(20_000);
    clock.back(); // the heartbeat answering again does not move the start of the return
    c.pass(10_000);
    expect(clock.state).toBeNull();
    expect(backAt).toBeLessThan(c.now());
  });
});
