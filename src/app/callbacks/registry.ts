import { deployTask } from './deploy-task';
import { smokeTestTask } from './smoke-test-task';
import type { CallbackTask } from './task';

/** Every task a pipeline can name in `arguments.task`. Adding a task: one file and one line here. */
// biome-ignore lint/suspicious/noExplicitAny: each task parses its own arguments
export const callbackTasks: Record<string, CallbackTask<any>> = {
  [deployTask.name]: deployTask,
  [smokeTestTask.name]: smokeTestTask,
};
