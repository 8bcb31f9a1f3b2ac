import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Rollouts, startRollouts, withV1InProd } from '../e2e/rollout-harness';
import { type Run, runCliAlone, runCliHere } from './child';

/**
 * `rollback --in qa` and the refusals of `--in`, from the CLI through the signed command URL to
 * the endpoints of the local cloud.
 */

const GROUP = 'keep-model';
const QA = 'keep-model-qa';

describe('promote and rollback naming a stage (--in), on the local cloud', () => {
  let r: Rollouts;
  let alice: { accessKeyId: string; secretAccessKey: string };
  const cli = (args: string[]): Promise<Run> =>
    runCliHere(r, args, {
      env: { AWS_ACCESS_KEY_ID: alice.accessKeyId, AWS_SECRET_ACCESS_KEY: alice.secretAccessKey },
    });
  const urlCalls = () => r.stack.cloud.calls.filter((c) => c.operation === 'InvokeFunctionUrl').length;
  /** The models QA's endpoint serves, as SageMaker has them. */
  const qaModels = (): string[] => {
    const sm = r.stack.cloud.sagemaker;
    const ep = sm.endpoints.get(QA)!;
    return (sm.configs.get(ep.configName)?.variants ?? []).map((v) => v.ModelName ?? '');
  };

  beforeAll(async () => {
    // rollback.earlierStages: keep: QA keeps v2 after its canary rolls back
    r = await startRollouts({ configPath: 'test/e2e/configs/earlier-stages.yml' });
    alice = r.stack.cloud.sts.createUser('alice');
    await withV1InProd(r, GROUP, 'keep-model-prod');
    await r.registerAndApprove(GROUP, { 'sim.errorRate': '0.25' });
    await r.runUntil(async () => (await r.phase(`${GROUP}:v2`)) === 'RolledBack');
    expect(qaModels()).toEqual(['keep-model-v2']);
  }, 120_000);
  afterAll(() => r.close());

  it('a stage the group does not have, and promote --in qa, exit 2 with the reason; nothing is sent', async () => {
    const before = urlCalls();
    const unknown = await cli(['rollback', `${GROUP}:v2`, '--in', 'staging', '--reason', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`group ${GROUP} has no stage staging; its stages are qa, prod`);
    const intoQa = await cli(['promote', `${GROUP}:v2`, '--in', 'qa', '--reason', 'x', '--json']);
    expect(intoQa.code).toBe(2);
    expect(JSON.parse(intoQa.stdout)).toMatchObject({ ok: false, exitCode: 2 });
    expect(intoQa.stdout).toContain(
      'a version enters qa once it is approved in the registry; promote moves it into prod',
    );
    const otherVerb = await cli(['pause', `${GROUP}:v2`, '--in', 'qa', '--reason', 'x']);
    expect(otherVerb.code).toBe(2);
    expect(otherVerb.stderr).toContain("unknown option '--in'");
    expect(urlCalls()).toBe(before);
  });

  it('a sender without the configuration gets the same refusal from the control function', async () => {
    const reply = await r.command('rollback', `${GROUP}:v2`, 'no config here', { stage: 'prd' });
    expect(reply).toEqual({
      outcome: 'rejected',
      detail: `group ${GROUP} has no stage prd (did you mean prod?); its stages are qa, prod`,
    });
  });

  it('rollback --in qa moves the QA endpoint back to the version prod serves; the refusals say why', async () => {
    const wrongVersion = await cli(['rollback', `${GROUP}:v1`, '--in', 'qa', '--reason', 'x']);
    expect(wrongVersion.code).toBe(1);
    expect(wrongVersion.stderr).toContain(`rollback ${GROUP}:v1 refused: QA serves v2, not v1`);

    const applied = await cli(['rollback', `${GROUP}:v2`, '--in', 'qa', '--reason', 'v2 misleads testers']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(
      `rollback ${GROUP}:v2 applied: RolledBack: QA goes back from v2 to v1 (rollback --in qa by arn:aws:iam::111122223333:user/alice: v2 misleads testers)`,
    );
    await r.runUntil(async () => (await r.phase(`${GROUP}:v1#2`)) === 'Succeeded');
    expect(qaModels()).toEqual(['keep-model-v1']);
    expect(r.stack.cloud.sagemaker.endpoints.get(QA)?.status).toBe('InService');
    const state = await r.state(GROUP);
    expect(state.qa?.version).toBe(1);
    expect(state.prod?.version).toBe(1);
    const [requested] = await r.history(`${GROUP}:v1#2`);
    expect(requested).toMatchObject({ actor: 'arn:aws:iam::111122223333:user/alice' });

    const again = await cli(['rollback', `${GROUP}:v1#2`, '--in', 'qa', '--reason', 'x', '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({
      outcome: 'rejected',
      reason: 'QA already serves v1, the version prod serves',
    });
  });
});

describe('--in in the help and the parsing (in process)', () => {
  const run = async (args: string[]) => {
    const { code, stdout, stderr } = await runCliAlone(args);
    // one line: commander wraps help text to the width
    return { code, stdout: stdout.replace(/\s+/g, ' '), stderr };
  };

  it('promote and rollback document --in; the other verbs do not take it', async () => {
    const rollback = await run(['rollback', '--help']);
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain('--in <stage>');
    expect(rollback.stdout).toContain('qa takes QA back');
    expect(rollback.stdout).toContain('--in qa takes QA back to the version prod serves');
    const promote = await run(['promote', '--help']);
    expect(promote.stdout).toContain('--in <stage>');
    expect(promote.stdout).toContain('a version enters qa once approved');
    for (const verb of ['pause', 'resume', 'abort', 'retry']) {
      const help = await run([verb, '--help']);
      expect(help.stdout, verb).not.toContain('--in <stage>');
    }
  });

  it('--in needs a stage name', async () => {
    const missing = await run(['rollback', 'churn-model:v2', '--reason', 'x', '--in']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("option '--in <stage>' argument missing");
  });
});
