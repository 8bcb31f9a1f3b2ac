import type * as z from '../../zod';
import type { Deps } from '../deps';

/** A parsed CallbackStep message. */
export interface CallbackMessage {
  token: string;
  pipelineExecutionArn: string;
  arguments: Record<string, unknown>;
  status: 'Executing' | 'Stopping';
}

export interface CallbackTaskContext {
  deps: Deps;
  now: number;
  message: CallbackMessage;
  /**
   * Records the token, with the group whose deployment will carry the work. Returns false when the
   * token was answered already (a redelivery, or a Stopping that came first): do nothing then.
   */
  claim(group?: string): Promise<boolean>;
  answer(
    outcome: 'success' | 'failure',
    result: { outputs?: Record<string, string>; reason?: string },
  ): Promise<void>;
}

/**
 * A task a pipeline can ask for with `arguments.task`. `start` either answers at once or hands the
 * token to work that answers when it ends (many events later).
 */
export interface CallbackTask<Args> {
  name: string;
  description: string;
  arguments: z.core.$ZodType<Args>;
  start(ctx: CallbackTaskContext, args: Args): Promise<void>;
}

export const defineTask = <Args>(task: CallbackTask<Args>): CallbackTask<Args> => task;
