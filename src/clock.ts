import { ConfigError } from './errors';

/** Epoch milliseconds now, by some clock. */
export type Clock = () => number;

/** An event whose `time` is further than this from the handler's clock is decided at the clock's time. */
export const MAX_EVENT_SKEW_MS = 5 * 60_000;

/**
 * Only the local cloud sets this: `<virtualMs>@<wallMs>x<rate>`, its simulated time as a linear
 * function of this machine's, so that a handler run in another process (`osls invoke local`)
 * decides at the time the kept local cloud is at.
 */
export const LOCAL_CLOCK_ENV = 'ROLLOUTS_LOCAL_CLOCK';

export const localClockSpec = (virtualMs: number, wallMs: number, rate: number): string =>
  `${Math.round(virtualMs)}@${Math.round(wallMs)}x${rate}`;

export const parseLocalClock = (spec: string, wallClock: Clock = Date.now): Clock => {
  const match = /^(\d+)@(\d+)x(\d+(?:\.\d+)?)$/.exec(spec);
  if (!match) {
    throw new ConfigError(`${LOCAL_CLOCK_ENV} must be <virtualMs>@<wallMs>x<rate>, got "${spec}"`, [
      LOCAL_CLOCK_ENV,
    ]);
  }
  const [virtual, wall, rate] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return () => virtual + (wallClock() - wall) * rate;
};

let current: Clock | undefined;

/** The handler's own clock: this machine's, or the local cloud's simulated time. */
export const handlerNow = (): number => {
  if (!current) {
    const spec = process.env[LOCAL_CLOCK_ENV];
    current = spec ? parseLocalClock(spec) : Date.now;
  }
  return current();
};

/** For the local stack (its virtual clock) and tests; undefined goes back to the environment's. */
export const setHandlerClock = (clock: Clock | undefined): void => {
  current = clock;
};

/**
 * When to decide an event: at its own time, so that a replay decides the same, unless that time
 * is more than MAX_EVENT_SKEW_MS from the handler's clock. A late event (a retry hours later, a
 * sample file) or one from the future is decided at the clock's time: its timeouts then count
 * from when it is handled, and it can neither expire a deadline early nor move the group's
 * decision time ahead of the world.
 */
export const decisionTime = (
  eventMs: number | undefined,
  now: number,
): { at: number; ignoredEventTime?: { eventMs: number; skewMs: number } } => {
  if (eventMs === undefined || Number.isNaN(eventMs)) return { at: now };
  const skewMs = eventMs - now;
  if (Math.abs(skewMs) <= MAX_EVENT_SKEW_MS) return { at: eventMs };
  return { at: now, ignoredEventTime: { eventMs, skewMs } };
};
