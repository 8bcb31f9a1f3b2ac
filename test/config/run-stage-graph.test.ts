import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configCheck, loadConfigFile, type WrittenGroup, type WrittenStage } from '../../src/config';
import { runGroup, runStageGraph } from '../../src/config/stage-checks';
import type { RunStage } from '../../src/domain/stage-graph';
import { ConfigError } from '../../src/errors';
import { type Json, repoRoot } from '../foundation/fixtures';

/** Every configuration the project ships or tests with: the examples, the local cloud's, the end-to-end ones. */
const CONFIGS = [
  'rollouts.config.yml',
  ...readdirSync(join(repoRoot, 'examples')).map((name) => `examples/${name}/rollouts.config.yml`),
  'src/local/scenarios/rollouts.local.yml',
  'src/local/scenarios/real-container.local.yml',
  'src/local/scenarios/earlier-stages.local.yml',
  ...readdirSync(join(repoRoot, 'test/e2e/configs'))
    .filter((name) => name.endsWith('.yml'))
    .map((name) => `test/e2e/configs/${name}`),
];

const read = (file: string): Record<string, Json> => parse(readFileSync(join(repoRoot, file), 'utf8'));

/** Where a stage as written deploys: the service's region, and its deployer role's account if it names one. */
const placeOf = (stage: Json) => ({
  region: undefined,
  roleArn: stage.crossAccount?.roleArn,
  account: stage.crossAccount ? /^arn:aws:iam::(\d{12}):/.exec(stage.crossAccount.roleArn)![1] : undefined,
});

/** The graph a two-stage file means: qa entered on approval and replaced, then prod as written. */
const qaThenProd = (group: Json): { stages: RunStage[] } => {
  const { qa, prod } = group.stages;
  const promotion = prod.promotion ?? group.promotion;
  return {
    stages: [
      { name: 'qa', after: [], strategy: 'replace', promotion: { mode: 'auto' }, ...placeOf(qa) },
      {
        name: 'prod',
        after: ['qa'],
        strategy: prod.strategy.type,
        promotion: {
          ...(promotion?.mode === 'manual'
            ? { mode: 'manual', approvalTimeoutMinutes: promotion.approvalTimeoutMinutes ?? 24 * 60 }
            : { mode: 'auto' }),
          ...(promotion?.bakeMinutes !== undefined ? { bakeMinutes: promotion.bakeMinutes } : {}),
        },
        ...placeOf(prod),
      },
    ],
  };
};

describe('the loaded configuration carries each group’s stage graph', () => {
  it.each(CONFIGS)('%s: every group runs the graph qa -> prod, as written', (file) => {
    const loaded = loadConfigFile(join(repoRoot, file));
    for (const [name, group] of Object.entries<Json>(read(file).modelPackageGroups))
      expect(loaded.modelPackageGroups[name]!.graph, name).toEqual(qaThenProd(group));
    // `config check` reads the file as the loader does
    expect(configCheck(join(repoRoot, file))).toMatchObject({ ok: true, config: loaded });
  });

  it('covers cross-account stages, manual promotions, bakes, both prod strategies and the explicit form', () => {
    const graphs = CONFIGS.flatMap((file) =>
      Object.values(loadConfigFile(join(repoRoot, file)).modelPackageGroups).map((group) => group.graph),
    );
    const stages = graphs.flatMap((graph) => graph.stages);
    expect(CONFIGS).toContain('examples/explicit-stages/rollouts.config.yml');
    expect(stages.some((stage) => stage.account !== undefined)).toBe(true);
    expect(stages.some((stage) => stage.promotion.mode === 'manual')).toBe(true);
    expect(stages.some((stage) => stage.promotion.bakeMinutes !== undefined)).toBe(true);
    expect(new Set(stages.map((stage) => stage.strategy))).toEqual(new Set(['replace', 'canary', 'native']));
  });

  it('is the same in the JSON copy the functions are packaged with and read at cold start', async () => {
    // the packaging step itself (serverless.yml's `${file(./serverless/config-vars.cjs):vars...}`)
    const configVars = createRequire(join(repoRoot, 'serverless.yml'))('./serverless/config-vars.cjs') as {
      vars: (context: {
        options: { stage?: string };
        resolveVariable: (name: string) => Promise<string | undefined>;
      }) => Promise<{ packagedConfigPath: string }>;
    };
    for (const file of [
      'rollouts.config.yml',
      'examples/explicit-stages/rollouts.config.yml',
      'test/e2e/configs/explicit-stages.yml',
      'test/e2e/configs/pre-traffic.yml',
    ]) {
      const { packagedConfigPath } = await configVars.vars({
        options: { stage: 'test' },
        resolveVariable: async (name) => (name === 'param:config' ? file : undefined),
      });
      expect(packagedConfigPath, file).toMatch(/^dist\/.*\.json$/);
      const packaged = loadConfigFile(join(repoRoot, packagedConfigPath));
      expect(packaged, file).toEqual(loadConfigFile(join(repoRoot, file)));
      for (const [name, group] of Object.entries<Json>(read(file).modelPackageGroups))
        expect(packaged.modelPackageGroups[name]!.graph, `${file} ${name}`).toEqual(qaThenProd(group));
    }
  });
});

const stage = (endpointName: string, more: Partial<WrittenStage> = {}): WrittenStage => ({
  endpointName,
  instanceType: 'ml.m5.large',
  ...more,
});
const CANARY = {
  type: 'canary',
  steps: [{ weight: 10, bakeMinutes: 5 }],
  gates: {},
  alarms: [],
} as unknown as WrittenStage['strategy'];
const DEPLOYER = 'arn:aws:iam::444455556666:role/deployer';

describe('runStageGraph', () => {
  it('resolves each stage’s place, strategy and promotion, and lists the stages in run order', () => {
    const graph = runStageGraph({
      promotion: { mode: 'manual', approvalTimeoutMinutes: 60 },
      stages: {
        // written before the stages it waits for
        global: stage('global', { after: ['eu', 'us'] }),
        staging: stage('staging', { after: [], promotion: { mode: 'auto', approvalTimeoutMinutes: 5 } }),
        eu: stage('eu', {
          after: ['staging'],
          region: 'eu-west-1',
          strategy: CANARY,
          crossAccount: { roleArn: DEPLOYER, observerRoleArn: 'arn:aws:iam::444455556666:role/observer' },
        }),
        us: stage('us', {
          after: ['staging'],
          region: 'us-east-1',
          strategy: { type: 'native' } as WrittenStage['strategy'],
          promotion: { mode: 'manual', approvalTimeoutMinutes: 30 },
        }),
        // after `us` by the file order; its own auto promotion wins over the group's manual one
        last: stage('last', { promotion: { mode: 'auto', approvalTimeoutMinutes: 1440 } }),
      },
    });
    const here = { region: undefined, account: undefined, roleArn: undefined };
    expect(graph.stages).toEqual([
      { name: 'staging', after: [], strategy: 'replace', promotion: { mode: 'auto' }, ...here },
      {
        name: 'eu',
        after: ['staging'],
        strategy: 'canary',
        promotion: { mode: 'manual', approvalTimeoutMinutes: 60 },
        region: 'eu-west-1',
        account: '444455556666',
        roleArn: DEPLOYER,
      },
      {
        name: 'us',
        after: ['staging'],
        strategy: 'native',
        promotion: { mode: 'manual', approvalTimeoutMinutes: 30 },
        ...here,
        region: 'us-east-1',
      },
      {
        name: 'global',
        after: ['eu', 'us'],
        strategy: 'replace',
        promotion: { mode: 'manual', approvalTimeoutMinutes: 60 },
        ...here,
      },
      { name: 'last', after: ['us'], strategy: 'replace', promotion: { mode: 'auto' }, ...here },
    ]);
  });

  it('enters a root stage without a promotion of its own automatically, whatever the group says', () => {
    const graph = runStageGraph({
      promotion: { mode: 'manual', approvalTimeoutMinutes: 60 },
      stages: { a: stage('a'), b: stage('b', { after: [] }), c: stage('c') },
    });
    expect(graph.stages.map((s) => [s.name, s.promotion.mode])).toEqual([
      ['a', 'auto'],
      ['b', 'auto'],
      ['c', 'manual'],
    ]);
  });
});

describe('runGroup', () => {
  const group = (stages: Record<string, WrittenStage>): WrittenGroup =>
    ({
      executionRoleArn: 'arn:aws:iam::111122223333:role/exec',
      promotion: { mode: 'auto', approvalTimeoutMinutes: 1440 },
      authorization: 'open',
      stages,
    }) as unknown as WrittenGroup;

  it('gives the run form with its graph for a group that passed its checks', () => {
    const run = runGroup('g', group({ qa: stage('g-qa'), prod: stage('g-prod', { strategy: CANARY }) }));
    expect(run.stages.prod.strategy).toBe(CANARY);
    expect(run.graph.stages.map((s) => [s.name, s.strategy])).toEqual([
      ['qa', 'replace'],
      ['prod', 'canary'],
    ]);
  });

  it('refuses a group that has not passed its checks with a ConfigError naming each field', () => {
    const refused = (stages: Record<string, WrittenStage>): ConfigError => {
      try {
        runGroup('g', group(stages));
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    expect(refused({ qa: stage('g-qa'), prod: stage('g-prod') }).issues).toEqual([
      'modelPackageGroups.g.stages.prod.strategy: required: this version runs two stages, qa then prod, prod with strategy canary or native',
    ]);
    expect(refused({ qa: stage('g-qa') }).issues).toEqual([
      'modelPackageGroups.g.stages.prod: required: this version runs two stages, qa then prod',
    ]);
    expect(refused({ qa: stage('g-qa', { after: ['prod'] }), prod: stage('g-prod') }).issues).toEqual([
      'modelPackageGroups.g.stages.qa.after: a cycle: qa waits for prod, which waits for qa; none of them could ever start',
    ]);
  });
});
