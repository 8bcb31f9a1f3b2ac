import { describe, expect, it } from 'vitest';
import { timelineText } from '../../src/local/timeline-wording';

describe('timeline wording', () => {
  it('says why a command waits, and that it goes on', () => {
    expect(
      timelineText('waiting', {
        group: 'churn-model',
        command: 'DeployEndpoint',
        why: 'churn-model-prod is not InService',
      }),
    ).toBe('churn-model: DeployEndpoint waits for the next event or tick: churn-model-prod is not InService');
  });

  it('gives the reason of a permanent failure', () => {
    expect(
      timelineText('command failed permanently', {
        group: 'churn-model',
        command: 'DeployEndpoint',
        reason: 'CreateEndpoint failed: ValidationException',
      }),
    ).toBe(
      'churn-model: DeployEndpoint failed and will not be retried: CreateEndpoint failed: ValidationException',
    );
  });

  it('reads a repeated approval as what it is, not as a failure', () => {
    expect(timelineText('churn-model:v1 is already in progress (ProdDeploying): duplicate ignored', {})).toBe(
      'churn-model:v1: approval seen again while ProdDeploying, nothing to do',
    );
    expect(timelineText('churn-model:v1 already ended Succeeded: use retry to run it again', {})).toBe(
      'churn-model:v1: approval seen again after it ended Succeeded, nothing to do',
    );
    expect(timelineText('churn-model:v2: Canary -> Promoting: all 2 steps passed', {})).toBe(
      'churn-model:v2: Canary -> Promoting: all 2 steps passed',
    );
  });
});
