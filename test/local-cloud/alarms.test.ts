import { DescribeAlarmsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Env, setup } from './helpers';

let env: Env;
const ALARM = 'churn-model-prod-business-kpi';

beforeAll(async () => {
  env = await setup();
  // an alarm the account has (the local cloud has no PutMetricAlarm: it is defined directly)
  env.cloud.setAlarmState(ALARM, 'OK');
});

afterAll(async () => {
  await env?.cloud.close();
});

const stateOf = async (name: string) =>
  (await env.cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0];

describe('local CloudWatch SetAlarmState', () => {
  it('sets an existing alarm, with its reason, as DescribeAlarms then shows', async () => {
    await env.cw.send(
      new SetAlarmStateCommand({
        AlarmName: ALARM,
        StateValue: 'ALARM',
        StateReason: 'testing the rollback',
        StateReasonData: '{"version":"1.0"}',
      }),
    );
    expect(await stateOf(ALARM)).toMatchObject({ StateValue: 'ALARM', StateReason: 'testing the rollback' });
    expect(env.cloud.cloudwatch.alarmState(ALARM)).toBe('ALARM');
    await env.cw.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: 'OK', StateReason: '' }));
    expect((await stateOf(ALARM))?.StateValue).toBe('OK');
  });

  it('refuses what AWS refuses: an unknown alarm, a bad state, reason data that is not JSON', async () => {
    await expect(
      env.cw.send(
        new SetAlarmStateCommand({ AlarmName: 'no-such-alarm', StateValue: 'OK', StateReason: 'x' }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFound', $metadata: { httpStatusCode: 404 } });
    await expect(
      env.cw.send(
        new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: 'BROKEN' as 'OK', StateReason: 'x' }),
      ),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining('stateValue'),
    });
    await expect(
      env.cw.send(
        new SetAlarmStateCommand({
          AlarmName: ALARM,
          StateValue: 'ALARM',
          StateReason: 'x',
          StateReasonData: '{',
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidFormatFault', $metadata: { httpStatusCode: 400 } });
    await expect(
      env.cw.send(
        new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: 'ALARM', StateReason: 'r'.repeat(1024) }),
      ),
    ).rejects.toMatchObject({ message: expect.stringContaining('1023') });
    expect((await stateOf(ALARM))?.StateValue).toBe('OK');
  });
});

describe('local cloud control API', () => {
  const post = (path: string, body: unknown) =>
    fetch(`${env.cloud.url}/_local/${path}`, { method: 'POST', body: JSON.stringify(body) });

  it('sets traffic and faults, and refuses a bad body naming the field', async () => {
    expect((await post('traffic', { endpoint: 'churn-model-prod', rpm: 600 })).status).toBe(200);
    const bad = await post('traffic', { endpoint: 'churn-model-prod', rpm: -1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^rpm: /);
    expect((await post('faults', { operation: 'CreateEndpoint', times: 1 })).status).toBe(200);
    expect(env.cloud.faults.count()).toBe(1);
    const extra = await post('faults', { operation: 'CreateEndpoint', colour: 'red' });
    expect(extra.status).toBe(400);
    expect((await fetch(`${env.cloud.url}/_local/faults`, { method: 'DELETE' })).status).toBe(200);
    expect(env.cloud.faults.count()).toBe(0);
    const clock = (await (await fetch(`${env.cloud.url}/_local/clock`)).json()) as { now: number };
    expect(clock.now).toBe(env.cloud.clock.now());
  });
});
