import { describe, expect, it } from 'vitest';
import { MIN, readings, ship, toCanary, World } from './world';

describe('each canary step bakes for its full time', () => {
  it('healthy readings before step 2 has baked its 5 minutes do nothing; after, the step passes', () => {
    const w = new World();
    ship(w, 1);
    const d = toCanary(w, 2);
    w.later(5 * MIN).canary(d, readings.healthy());
    w.settle('prod');
    expect(w.dep(d).canary).toMatchObject({ stepIndex: 1, bakeUntil: w.now + 5 * MIN });
    const early = w.later(4 * MIN).canary(d, readings.healthy());
    expect(early.commands).toEqual([]);
    expect(w.phase(d)).toBe('Canary');
    expect(w.dep(d).canary?.stepIndex).toBe(1);
    w.later(MIN).canary(d, readings.healthy());
    expect(w.phase(d)).toBe('Promoting');
  });
});
