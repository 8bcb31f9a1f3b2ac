import { clientRequestToken } from '../../adapters/sagemaker-pipelines';
import type { Command } from '../../domain/model';
import { callbackRef } from '../../domain/naming';
import type { Deps } from '../deps';

export type AnswerCommand = Extract<Command, { type: 'AnswerCallback' }>;

/** SageMaker's limit on FailureReason. */
export const MAX_FAILURE_REASON = 256;

/**
 * Exactly one answer per token: the answer is fixed in the table first (a conditional write, so
 * a racing or redelivered path gets the one that stands), then sent with a ClientRequestToken
 * derived from token and outcome, so resending after a crash cannot answer twice.
 */
export const answerCallback = async (deps: Deps, command: AnswerCommand, now: number): Promise<void> => {
  const wanted = {
    outcome: command.outcome,
    outputs: command.outputs,
    reason: command.reason?.slice(0, MAX_FAILURE_REASON),
    decidedAt: now,
  };
  const stands = await deps.store.decideCallbackAnswer(command.token, wanted);
  // Only an answer fixed earlier can have been reported already: the record is read on that path
  // alone, so the first answer for a token costs one table write before it is sent.
  if (stands !== wanted) {
    const record = await deps.store.getCallback(command.token);
    if (record?.reportedAt !== undefined) {
      deps.log.info('callback already answered', {
        callback: callbackRef(command.token),
        outcome: stands.outcome,
      });
      return;
    }
  }
  if (stands.outcome !== wanted.outcome) {
    deps.log.warn('callback already answered differently; keeping the first answer', {
      callback: callbackRef(command.token),
      answered: stands.outcome,
      wanted: wanted.outcome,
    });
  }
  const requestToken = clientRequestToken(command.token, stands.outcome);
  const result =
    stands.outcome === 'success'
      ? await deps.pipelines.sendSuccess(command.token, stands.outputs ?? {}, requestToken)
      : await deps.pipelines.sendFailure(command.token, stands.reason ?? 'failed', requestToken);
  deps.log.info('callback answered', {
    callback: callbackRef(command.token),
    pipelineExecutionArn: command.pipelineExecutionArn,
    outcome: stands.outcome,
    result,
  });
  await Promise.all([
    deps.store.markCallbackReported(command.token, now),
    deps.events.publish([
      {
        type: 'Callback Reported',
        at: now,
        detail: {
          callback: callbackRef(command.token),
          pipelineExecutionArn: command.pipelineExecutionArn,
          outcome: stands.outcome,
          reason: stands.reason,
          outputs: stands.outputs,
          alreadyAnswered: result === 'already-answered',
        },
      },
    ]),
  ]);
};
