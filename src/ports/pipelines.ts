/** SageMaker Pipelines callback answers. */
export interface PipelineCallbacks {
  sendSuccess(
    token: string,
    outputs: Record<string, string>,
    clientRequestToken: string,
  ): Promise<AnswerResult>;
  sendFailure(token: string, reason: string, clientRequestToken: string): Promise<AnswerResult>;
}

/** `already-answered`: SageMaker said the token was answered before (ConflictException). */
export type AnswerResult = 'sent' | 'already-answered';
