import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelServerProcess, startModelServerProcess } from '../../src/local/model-server-process';
import { parseScenario, runScenario } from '../../src/local/scenario-runner';

// The real handlers on the local stack, with model versions served by the example model server
// running as child processes: the smoke test reaches the real container, and the endpoint's ping
// check is the real /ping.
describe('real model servers behind the local stack', () => {
  const servers: Record<string, ModelServerProcess> = {};

  beforeAll(async () => {
    const [good, bad, broken] = await Promise.all([
      startModelServerProcess({ weightsPath: 'examples/model-server/weights/v1-good.json' }),
      startModelServerProcess({ weightsPath: 'examples/model-server/weights/v2-log-merchant-risk.json' }),
      startModelServerProcess({ weightsPath: 'examples/model-server/weights/missing.json' }),
    ]);
    Object.assign(servers, { good, bad, broken });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  });

  const scenario = (version: number, server: string, outcome: string, reason?: string) =>
    parseScenario({
      name: `real-container-v${version}`,
      description: 'a version served by a real model server',
      config: 'examples/model-server/rollouts.config.yml',
      steps: [
        ...(version > 1
          ? [
              { register: { group: 'fraud-score', version: 1, sim: { container: servers.good!.url } } },
              { approve: { group: 'fraud-score', version: 1 } },
              { wait: { until: { deployment: 'fraud-score:v1', phase: 'Succeeded' }, timeout: '1h' } },
            ]
          : []),
        { register: { group: 'fraud-score', version, sim: { container: servers[server]!.url } } },
        { approve: { group: 'fraud-score', version } },
        {
          wait: {
            until: { deployment: `fraud-score:v${version}`, phase: ['Succeeded', 'Failed'] },
            timeout: '2h',
          },
        },
      ],
      expect: {
        outcome,
        ...(reason
          ? { deployments: { [`fraud-score:v${version}`]: { phase: 'Failed', reasonContains: reason } } }
          : {}),
      },
    });

  it('a good version passes its smoke test on the real container and is promoted', async () => {
    const result = await runScenario(scenario(1, 'good', 'promoted v1'));
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.finalWeights).toEqual({ 'fraud-score-qa': { v1: 100 }, 'fraud-score-prod': { v1: 100 } });
  });

  it('a version whose container answers 500 to the smoke test fails in QA, its answer named by digest only', async () => {
    const result = await runScenario(scenario(2, 'bad', 'failed v2', 'HTTP 500 ModelError (answer '));
    expect(result.failures).toEqual([]);
    expect(result.reason).not.toContain('produced no finite score');
    // prod still serves v1 alone
    expect(result.finalWeights['fraud-score-prod']).toEqual({ v1: 100 });
  });

  it("a version whose container fails /ping fails its QA endpoint with SageMaker's reason", async () => {
    const result = await runScenario(
      scenario(2, 'broken', 'failed v2', 'did not pass the ping health check'),
    );
    expect(result.failures).toEqual([]);
    expect(result.finalWeights['fraud-score-prod']).toEqual({ v1: 100 });
  });
});
