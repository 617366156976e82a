import { describe, expect, it } from '@jest/globals';
import { LoopLag } from './loop-lag.js';

describe('LoopLag', () => {
  it('is about zero while the probe runs on time', () => {
    let now = 0;
    const lag = new LoopLag(() => now);
    for (let i = 0; i < 10; i++) {
      now += 20;
      lag.probe();
    }
    expect(lag.lateBy(now + 5)).toBe(0);
  });

  it('sees a stall in progress before the probe runs again (bytes read first after it)', () => {
    let now = 0;
    const lag = new LoopLag(() => now);
    now = 20;
    lag.probe();
    expect(lag.lateBy(3020)).toBe(2980);
  });

  it('remembers a stall the probe measured for a second, then forgets it', () => {
    let now = 0;
    const lag = new LoopLag(() => now);
    now = 3000;
    lag.probe(); // the probe ran first after a 3 s stall
    expect(lag.lateBy(3001)).toBe(2980);
    for (let t = 3020; t <= 4100; t += 20) {
      now = t;
      lag.probe();
    }
    expect(lag.lateBy(4101)).toBe(0);
  });
});
