import type { Deps } from '../../src/app/deps';
import { executeGroup } from '../../src/app/executor';
import type { ConvergenceRequests } from '../../src/ports/convergence';

/**
 * For use-case tests over fakes: a convergence request runs the executor at once, at the time of
 * the group's latest decision (the queue and its consumer are exercised by the local stack tests).
 */
export const inlineExecutor = (deps: () => Deps): ConvergenceRequests => ({
  async request(group) {
    const current = deps();
    const state = await current.store.loadGroup(group);
    await executeGroup(current, group, state?.updatedAt ?? 0);
  },
});
