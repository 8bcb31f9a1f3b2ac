import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as onApproval } from '../../handlers/model-package-state-change';
import { emptyGroupState } from '../../src/domain/decide';
import { ServiceFaultError } from '../../src/errors';
import { setDeps } from '../../src/wiring';
import { Dynamo, harness } from '../callbacks/harness';

let dynamo: Dynamo;

beforeAll(async () => {
  dynamo = await Dynamo.start();
});
afterAll(async () => {
  setDeps(undefined);
  await dynamo.close();
});

const approved = () => JSON.parse(readFileSync('events/model-package-approved.json', 'utf8'));

describe('a fault of the service itself fails the invocation (finding 2)', () => {
  it('the table refusing the group record is thrown (Errors metric, alarm, retry, then the DLQ), not returned as "failed"', async () => {
    const h = await harness(dynamo);
    const event = approved();
    h.registry.add('churn-model', event.detail.ModelPackageVersion);
    // a record grown past what DynamoDB accepts (as before records were bounded): its save is refused
    const store = h.deps.store;
    h.deps.store = Object.assign(Object.create(store), {
      loadGroup: async () => ({
        ...emptyGroupState('churn-model'),
        revision: 0,
        blocked: [{ version: 1, at: 0, reason: 'x'.repeat(410_000) }],
      }),
    });
    setDeps(h.deps);
    await expect(onApproval(event, {} as never)).rejects.toBeInstanceOf(ServiceFaultError);
  });
});
