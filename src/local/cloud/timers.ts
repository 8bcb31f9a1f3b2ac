import type { VirtualClock } from '../clock';

interface Timer {
  id: number;
  due: number;
  label: string;
  run: () => void;
}

/** Timed transitions on virtual time, run in (due time, creation order) order. */
export class Timers {
  private readonly pending: Timer[] = [];
  private nextId = 1;

  constructor(private readonly clock: VirtualClock) {}

  schedule(due: number, label: string, run: () => void): number {
    const id = this.nextId++;
    this.pending.push({ id, due, label, run });
    return id;
  }

  after(delayMs: number, label: string, run: () => void): number {
    return this.schedule(this.clock.now() + delayMs, label, run);
  }

  cancel(id: number | undefined): void {
    if (id === undefined) return;
    const index = this.pending.findIndex((t) => t.id === id);
    if (index >= 0) this.pending.splice(index, 1);
  }

  /** Labels of pending timers, earliest first (for debugging and reports). */
  list(): Array<{ due: number; label: string }> {
    return [...this.pending].sort(byDue).map((t) => ({ due: t.due, label: t.label }));
  }

  /** Runs every timer due at or before `target`, with the clock set to each timer's due time, then sets the clock to `target`. */
  runUntil(target: number): void {
    const end = Math.max(target, this.clock.now());
    for (;;) {
      const next = [...this.pending].sort(byDue)[0];
      if (!next || next.due > target) break;
      this.cancel(next.id);
      // May move the clock back if it was advanced directly: the transition is stamped with its own due time.
      this.clock.set(next.due);
      next.run();
    }
    this.clock.set(end);
  }
}

const byDue = (a: Timer, b: Timer): number => a.due - b.due || a.id - b.id;
