import { describe, expect, it } from 'vitest';
import { decisionTime, localClockSpec, MAX_EVENT_SKEW_MS, parseLocalClock } from '../../src/clock';
import { ConfigError } from '../../src/errors';

const NOW = Date.UTC(2024, 0, 1, 12);

describe('decision time of an event', () => {
  it('is the event time when it is near the clock, so a replay decides the same', () => {
    expect(decisionTime(NOW - 30_000, NOW)).toEqual({ at: NOW - 30_000 });
    expect(decisionTime(NOW + MAX_EVENT_SKEW_MS, NOW)).toEqual({ at: NOW + MAX_EVENT_SKEW_MS });
    expect(decisionTime(undefined, NOW)).toEqual({ at: NOW });
  });

  it("is the clock's time for a late event or one from the future (a sample file a year off)", () => {
    const sample = Date.parse('2025-03-01T12:00:00Z');
    expect(decisionTime(sample, NOW)).toEqual({
      at: NOW,
      ignoredEventTime: { eventMs: sample, skewMs: sample - NOW },
    });
    const late = NOW - 2 * 60 * 60_000;
    expect(decisionTime(late, NOW)).toMatchObject({
      at: NOW,
      ignoredEventTime: { skewMs: -2 * 60 * 60_000 },
    });
  });
});

describe('the local cloud clock', () => {
  it('is a linear function of the wall clock, readable in another process', () => {
    let wall = 1_000_000;
    const clock = parseLocalClock(localClockSpec(NOW, wall, 60), () => wall);
    expect(clock()).toBe(NOW);
    wall += 2_000;
    expect(clock()).toBe(NOW + 120_000);
  });

  it('rejects a malformed value, naming the variable', () => {
    expect(() => parseLocalClock('soon')).toThrow(ConfigError);
    expect(() => parseLocalClock('soon')).toThrow(/ROLLOUTS_LOCAL_CLOCK must be <virtualMs>@<wallMs>x<rate>/);
  });
});
