import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../src/adapters/eventbridge-publisher';
import type { ServiceEvent } from '../../src/domain/model';
import { TransientError } from '../../src/errors';
import { throttled } from './aws-fakes';

const eb = mockClient(EventBridgeClient);
const client = () => new EventBridgeClient({ region: 'us-east-1' });
const AT = Date.parse('2024-01-01T00:00:00Z');

beforeEach(() => {
  eb.reset();
  eb.on(PutEventsCommand).callsFake(async (input: PutEventsCommandInput) => ({
    $metadata: {},
    FailedEntryCount: 0,
    Entries: (input.Entries ?? []).map((_, i) => ({ EventId: `e${i}` })),
  }));
});

// the worker's process runs other files after this one: their clients must reach the real SDK
afterAll(() => {
  eb.restore();
});

const event = (i: number): ServiceEvent => ({
  type: 'Canary Step Passed',
  deploymentId: 'churn:v3',
  group: 'churn',
  version: 3,
  stage: 'prod',
  region: 'eu-west-1',
  at: AT + i,
  detail: { step: i, weights: { v2: 90, v3: 10 } },
});

describe('EventBridgePublisher', () => {
  it('publishes lifecycle events with the service source and a flat detail', async () => {
    await new EventBridgePublisher('rollouts-bus', client()).publish([event(0)]);
    expect(eb.commandCalls(PutEventsCommand)[0]?.args[0].input).toEqual({
      Entries: [
        {
          EventBusName: 'rollouts-bus',
          Source: 'sagemaker-rollouts',
          DetailType: 'Canary Step Passed',
          Time: new Date(AT),
          Detail: JSON.stringify({
            deploymentId: 'churn:v3',
            group: 'churn',
            version: 3,
            stage: 'prod',
            region: 'eu-west-1',
            at: '2024-01-01T00:00:00.000Z',
            step: 0,
            weights: { v2: 90, v3: 10 },
          }),
        },
      ],
    });
  });

  it('leaves stage and region out of an event that belongs to no stage', async () => {
    const {
      stage: _stage,
      region: _region,
      ...started
    } = { ...event(0), type: 'Deployment Started' as const };
    await new EventBridgePublisher('rollouts-bus', client()).publish([started]);
    const detail = JSON.parse(
      eb.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail ?? '{}',
    );
    expect(detail).not.toHaveProperty('stage');
    expect(detail).not.toHaveProperty('region');
    expect(detail).toMatchObject({ deploymentId: 'churn:v3', version: 3 });
  });

  it('sends at most 10 entries per call and nothing for no events', async () => {
    const publisher = new EventBridgePublisher('rollouts-bus', client());
    await publisher.publish([]);
    expect(eb).not.toHaveReceivedAnyCommand();
    await publisher.publish(Array.from({ length: 23 }, (_, i) => event(i)));
    expect(eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length)).toEqual([
      10, 10, 3,
    ]);
  });

  it('fails with TransientError naming the failed entries', async () => {
    eb.on(PutEventsCommand).resolves({
      $metadata: {},
      FailedEntryCount: 1,
      Entries: [{ EventId: 'e0' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const publishing = new EventBridgePublisher('rollouts-bus', client()).publish([event(0), event(1)]);
    await expect(publishing).rejects.toBeInstanceOf(TransientError);
    await expect(publishing).rejects.toThrow(/#1 Canary Step Passed: InternalFailure try again/);
  });

  it('maps throttling to TransientError', async () => {
    eb.on(PutEventsCommand).rejects(throttled());
    await expect(new EventBridgePublisher('b', client()).publish([event(0)])).rejects.toBeInstanceOf(
      TransientError,
    );
  });
});
