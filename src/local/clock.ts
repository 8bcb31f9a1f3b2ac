/** Virtual time for the local cloud: nothing in the emulator reads the wall clock. */
export class VirtualClock {
  private ms: number;

  constructor(startMs: number) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  advance(ms: number): void {
    if (ms < 0) throw new Error(`cannot advance by a negative duration (${ms} ms)`);
    this.ms += ms;
  }

  set(ms: number): void {
    this.ms = ms;
  }
}
