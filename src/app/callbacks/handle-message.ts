import { PermanentError } from '../../errors';
import * as z from '../../zod';
import type { Deps } from '../deps';
import { runGroup } from '../group-runner';
import { answerCallback } from './answer';
import { callbackTasks } from './registry';
import type { CallbackMessage, CallbackTaskContext } from './task';

export const STOPPED_REASON = 'stopped by the pipeline';

export type CallbackOutcome = 'started' | 'answered' | 'already-answered' | 'stopping-handled';

/**
 * Flow 5. Executing: start the named task (which answers now or later). Stopping: cancel the work
 * tied to the token and answer failure; a token never seen is answered at once so the pipeline
 * can stop. Transient errors are thrown so that SQS redelivers this one message.
 */
export const onCallbackMessage = async (
  deps: Deps,
  message: CallbackMessage,
  now: number,
): Promise<CallbackOutcome> => {
  const ctx = context(deps, message, now);
  if (message.status === 'Stopping') return onStopping(ctx);

  const taskName = message.arguments.task;
  const task = typeof taskName === 'string' ? callbackTasks[taskName] : undefined;
  if (!task) {
    if (!(await ctx.claim())) return 'already-answered';
    const known = Object.keys(callbackTasks).join(', ');
    const reason =
      taskName === undefined
        ? `arguments.task is missing; known tasks: ${known}`
        : `unknown task ${JSON.stringify(taskName)}; known tasks: ${known}`;
    await ctx.answer('failure', { reason });
    return 'answered';
  }
  const parsed = z.safeParse(task.arguments, withoutTask(message.arguments));
  if (!parsed.success) {
    if (!(await ctx.claim())) return 'already-answered';
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`)
      .join('; ');
    await ctx.answer('failure', { reason: `invalid arguments for task ${task.name}: ${issues}` });
    return 'answered';
  }
  try {
    await task.start(ctx, parsed.data);
  } catch (error) {
    // A permanent refusal would otherwise end in the dead-letter queue with the pipeline waiting
    if (!(error instanceof PermanentError)) throw error;
    if (!(await ctx.claim())) return 'already-answered';
    await ctx.answer('failure', { reason: `task ${task.name} failed: ${error.message}` });
    return 'answered';
  }
  return 'started';
};

/**
 * A message with a valid token whose other fields are invalid: the pipeline is told why at once
 * (a redelivery cannot fix the message). A token answered before keeps its answer.
 */
export const onInvalidCallbackMessage = async (
  deps: Deps,
  message: { token: string; pipelineExecutionArn: string },
  reason: string,
  now: number,
): Promise<CallbackOutcome> => {
  const ctx = context(deps, { ...message, arguments: {}, status: 'Executing' }, now);
  if (!(await ctx.claim())) return 'already-answered';
  await ctx.answer('failure', { reason });
  return 'answered';
};

const withoutTask = (args: Record<string, unknown>): Record<string, unknown> => {
  const { task: _task, ...rest } = args;
  return rest;
};

const onStopping = async (ctx: CallbackTaskContext): Promise<CallbackOutcome> => {
  const { deps, message, now } = ctx;
  const record = await deps.store.getCallback(message.token);
  if (record?.answer) {
    if (record.reportedAt === undefined) await ctx.answer(record.answer.outcome, record.answer);
    return 'already-answered';
  }
  const group = record ? record.group : await groupWaitingOn(deps, message.token);
  if (group && deps.config.modelPackageGroups[group]) {
    await runGroup(deps, group, now, () => [{ type: 'CallbackStopping', token: message.token }]);
  }
  const after = await deps.store.getCallback(message.token);
  if (!after?.answer) await ctx.answer('failure', { reason: STOPPED_REASON });
  // answered by the group's outbox but not sent yet (e.g. throttled): send now or retry this record
  else if (after.reportedAt === undefined) await ctx.answer(after.answer.outcome, after.answer);
  return 'stopping-handled';
};

/**
 * The group whose deployment in flight waits on this token, for a token without a record: records
 * written before they were keyed by the token's hash are not looked up by the raw token (that
 * would put it in a key again), so a Stopping still reaches the work it must stop.
 */
const groupWaitingOn = async (deps: Deps, token: string): Promise<string | undefined> => {
  const active = await deps.store.listActiveGroups();
  return active.find((g) => g.deployments.some((d) => d.callbacks.some((c) => c.token === token)))?.group;
};

const context = (deps: Deps, message: CallbackMessage, now: number): CallbackTaskContext => ({
  deps,
  now,
  message,
  async claim(group) {
    const record = await deps.store.putCallbackIfAbsent({
      token: message.token,
      pipelineExecutionArn: message.pipelineExecutionArn,
      group,
      task: typeof message.arguments.task === 'string' ? message.arguments.task : undefined,
      receivedAt: now,
    });
    if (!record.answer) return true;
    if (record.reportedAt === undefined) {
      await answerCallback(
        deps,
        {
          type: 'AnswerCallback',
          token: message.token,
          pipelineExecutionArn: message.pipelineExecutionArn,
          ...record.answer,
        },
        now,
      );
    }
    return false;
  },
  async answer(outcome, result) {
    await answerCallback(
      deps,
      {
        type: 'AnswerCallback',
        token: message.token,
        pipelineExecutionArn: message.pipelineExecutionArn,
        outcome,
        outputs: result.outputs,
        reason: result.reason,
      },
      now,
    );
  },
});
