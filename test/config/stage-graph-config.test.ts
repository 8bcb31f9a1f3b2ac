import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { configCheck, loadConfigFile, parseConfig } from '../../src/config';
import { stageGraphOf } from '../../src/config/stage-checks';
import { waves } from '../../src/domain/stage-graph';
import { ConfigError } from '../../src/errors';
import { schemaErrorPaths } from '../foundation/config-json-schema';
import { type Json, repoRoot } from '../foundation/fixtures';

const CONFIGS = [
  'rollouts.config.yml',
  'examples/model-server/rollouts.config.yml',
  'src/local/scenarios/rollouts.local.yml',
  'src/local/scenarios/real-container.local.yml',
  'src/local/scenarios/earlier-stages.local.yml',
  ...[
    'autoscaled',
    'five-groups',
    'private-payloads',
    'authorized',
    'three-steps',
    'canary-limits',
    'native',
    'pre-traffic',
  ].map((name) => `test/e2e/configs/${name}.yml`),
];

const read = (file: string): Record<string, Json> => parse(readFileSync(join(repoRoot, file), 'utf8'));

/** The same groups with every stage's place in the graph, strategy and promotion written out. */
const explicit = (config: Record<string, Json>): Record<string, Json> => {
  const copy = structuredClone(config);
  for (const group of Object.values<Json>(copy.modelPackageGroups)) {
    const { qa, prod } = group.stages;
    group.stages = {
      prod: { ...prod, after: ['qa'], promotion: group.promotion ?? {} },
      qa: { ...qa, after: [], strategy: { type: 'replace' } },
    };
    delete group.promotion;
  }
  return copy;
};

const issuesOf = (config: Record<string, Json>, source = 'g.yml'): { text: string; issues: string[] } => {
  const text = stringify(config);
  try {
    parseConfig(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return { text, issues: (error as ConfigError).issues };
  }
  throw new Error('expected the configuration to be refused');
};

/** The issue about `field`, and what the file holds at its line and column. */
const issueAt = (config: Record<string, Json>, field: string): { message: string; written: string } => {
  const { text, issues } = issuesOf(config);
  const issue = issues.find((line) => line.includes(` ${field}: `));
  expect(issue, issues.join('\n')).toBeDefined();
  const [, line, col, message] = /^g\.yml:(\d+):(\d+): [^ ]+: (.*)$/.exec(issue!)!;
  return { message: message!, written: (text.split('\n')[Number(line) - 1] ?? '').slice(Number(col) - 1) };
};

const G = 'modelPackageGroups.churn-model.stages';
const churn = () => {
  const config = read('rollouts.config.yml');
  delete config.modelPackageGroups['fraud-detector'];
  delete config.modelPackageGroups['churn-model'].stages.prod.preTraffic;
  return config;
};
const stages = (config: Record<string, Json>) => config.modelPackageGroups['churn-model'].stages;

describe('stages as a graph', () => {
  it.each(CONFIGS)('%s loads to the same configuration written as an explicit graph', (file) => {
    const config = read(file);
    const legacy = parseConfig(stringify(config), file);
    expect(parseConfig(stringify(explicit(config)), file)).toEqual(legacy);
    // two stages each, chained: qa, then prod
    for (const group of Object.values<Json>(config.modelPackageGroups))
      expect(waves(stageGraphOf(group.stages))).toEqual([['qa'], ['prod']]);
  });

  it.each(CONFIGS)('config:check on %s says nothing about stages (the short form stays valid)', (file) => {
    const result = configCheck(join(repoRoot, file));
    expect(result.ok).toBe(true);
    if (result.ok) for (const warning of result.warnings) expect(warning).toMatch(/\.authorization is open:/);
  });

  it('loads the example of the explicit form, a short-form file with the same content', () => {
    const file = 'examples/explicit-stages/rollouts.config.yml';
    const loaded = loadConfigFile(join(repoRoot, file));
    const short = read(file);
    const group = short.modelPackageGroups['churn-model'];
    group.promotion = group.stages.prod.promotion;
    for (const stage of Object.values<Json>(group.stages)) {
      delete stage.after;
      delete stage.promotion;
    }
    delete group.stages.qa.strategy;
    expect(parseConfig(stringify(short), 'short.yml')).toEqual(loaded);
    expect(loaded.modelPackageGroups['churn-model']!.promotion).toEqual({
      mode: 'manual',
      approvalTimeoutMinutes: 1440,
    });
    expect(configCheck(join(repoRoot, file))).toMatchObject({
      ok: true,
      warnings: [],
      message: 'OK: 1 model package group (churn-model)',
    });
  });

  it("takes a stage's own promotion over the group's", () => {
    const config = churn();
    stages(config).prod.promotion = { mode: 'manual', approvalTimeoutMinutes: 30 };
    expect(config.modelPackageGroups['churn-model'].promotion).toEqual({ mode: 'auto' });
    expect(parseConfig(stringify(config), 'p.yml').modelPackageGroups['churn-model']!.promotion).toEqual({
      mode: 'manual',
      approvalTimeoutMinutes: 30,
    });
  });

  it('carries a bake into prod from the group or from prod, and refuses one on qa, at the field', () => {
    const fromGroup = churn();
    fromGroup.modelPackageGroups['churn-model'].promotion = { mode: 'auto', bakeMinutes: 90 };
    const group = parseConfig(stringify(fromGroup), 'b.yml').modelPackageGroups['churn-model']!;
    expect(group.promotion).toEqual({ mode: 'auto', approvalTimeoutMinutes: 1440, bakeMinutes: 90 });
    expect(group.graph.stages.map((stage) => [stage.name, stage.promotion])).toEqual([
      ['qa', { mode: 'auto' }],
      ['prod', { mode: 'auto', bakeMinutes: 90 }],
    ]);

    const onProd = churn();
    stages(onProd).prod.promotion = { mode: 'manual', approvalTimeoutMinutes: 30, bakeMinutes: 15 };
    expect(
      parseConfig(stringify(onProd), 'b.yml').modelPackageGroups['churn-model']!.graph.stages[1],
    ).toMatchObject({
      promotion: { mode: 'manual', approvalTimeoutMinutes: 30, bakeMinutes: 15 },
    });

    const onQa = churn();
    stages(onQa).qa.promotion = { bakeMinutes: 30 };
    expect(issueAt(onQa, `${G}.qa.promotion.bakeMinutes`).message).toMatch(
      /a version enters qa once it is approved in the registry, with no stage before it to bake in/,
    );
    for (const bakeMinutes of [0, 1.5, 7 * 24 * 60 + 1]) {
      const bad = churn();
      stages(bad).prod.promotion = { bakeMinutes };
      expect(issueAt(bad, `${G}.prod.promotion.bakeMinutes`).written).toBe(`${bakeMinutes}`);
    }
  });

  it('follows `after` rather than the file order', () => {
    const config = churn();
    const { qa, prod } = stages(config);
    config.modelPackageGroups['churn-model'].stages = {
      prod: { ...prod, after: ['qa'] },
      qa: { ...qa, after: [] },
    };
    expect(parseConfig(stringify(config), 'o.yml')).toEqual(parseConfig(stringify(churn()), 'o.yml'));
  });

  it('names a misspelt stage in `after` with the name it most likely meant, at the name', () => {
    const config = churn();
    stages(config).prod.after = ['qaa'];
    expect(issueAt(config, `${G}.prod.after.0`)).toEqual({
      message: 'unknown stage qaa; did you mean `qa`?',
      written: 'qaa',
    });
    stages(config).prod.after = ['staging'];
    expect(issueAt(config, `${G}.prod.after.0`).message).toBe(
      'unknown stage staging (the stages are qa, prod)',
    );
  });

  it('refuses a stage waiting for itself, or twice for one stage', () => {
    const config = churn();
    stages(config).prod.after = ['qa', 'prod'];
    expect(issueAt(config, `${G}.prod.after.1`)).toEqual({
      message: 'a stage cannot wait for itself',
      written: 'prod',
    });
    stages(config).prod.after = ['qa', 'qa'];
    expect(issueAt(config, `${G}.prod.after.1`).message).toBe('qa is listed twice');
  });

  it('refuses a cycle, at the first stage of it, also through the file order', () => {
    const config = churn();
    stages(config).qa.after = ['prod'];
    // prod waits for qa by the file order
    const { message, written } = issueAt(config, `${G}.qa.after`);
    expect(message).toBe('a cycle: qa waits for prod, which waits for qa; none of them could ever start');
    expect(written).toBe('- prod');
  });

  it('refuses one endpoint for two stages of one account and region, and by name alone in this version', () => {
    const config = churn();
    stages(config).prod.endpointName = 'churn-model-qa';
    expect(issueAt(config, `${G}.prod.endpointName`)).toEqual({
      message: 'qa and prod must use different endpoints in one account and region',
      written: 'churn-model-qa',
    });
    const inAccount = (account: string) => ({
      roleArn: `arn:aws:iam::${account}:role/deployer`,
      observerRoleArn: `arn:aws:iam::${account}:role/observer`,
    });
    stages(config).qa.crossAccount = inAccount('444455556666');
    stages(config).prod.crossAccount = inAccount('444455556666');
    expect(issueAt(config, `${G}.prod.endpointName`).message).toBe(
      'qa and prod must use different endpoints in one account and region',
    );
    stages(config).prod.crossAccount = inAccount('777788889999');
    expect(issueAt(config, `${G}.prod.endpointName`).message).toBe(
      'endpoint churn-model-qa is already used by churn-model.qa in another account or region: this version matches events and metrics to stages by endpoint name alone',
    );
  });

  it("cannot tell whether the service's own account or region is one a stage names, and refuses the name", () => {
    const config = churn();
    stages(config).prod.endpointName = 'churn-model-qa';
    stages(config).prod.crossAccount = {
      roleArn: 'arn:aws:iam::444455556666:role/deployer',
      observerRoleArn: 'arn:aws:iam::444455556666:role/observer',
    };
    const ownAccount =
      "(a stage without crossAccount or region is in the service's own account and region, which are known only when it is deployed): use another name";
    expect(issueAt(config, `${G}.prod.endpointName`)).toEqual({
      message: `endpoint churn-model-qa is already used by churn-model.qa, the same endpoint if the service is deployed in account 444455556666 ${ownAccount}`,
      written: 'churn-model-qa',
    });
    stages(config).prod.region = 'eu-west-1';
    expect(issueAt(config, `${G}.prod.endpointName`).message).toBe(
      `endpoint churn-model-qa is already used by churn-model.qa, the same endpoint if the service is deployed in account 444455556666 and in region eu-west-1 ${ownAccount}`,
    );
    delete stages(config).prod.crossAccount;
    expect(issueAt(config, `${G}.prod.endpointName`).message).toBe(
      `endpoint churn-model-qa is already used by churn-model.qa, the same endpoint if the service is deployed in region eu-west-1 ${ownAccount}`,
    );
    // another group's stage, named in a region of its own: the same rule across groups
    const two = read('rollouts.config.yml');
    two.modelPackageGroups['fraud-detector'].stages.qa.endpointName = 'churn-model-prod';
    two.modelPackageGroups['fraud-detector'].stages.qa.region = 'us-east-1';
    const { issues } = issuesOf(two);
    expect(issues.join('\n')).toContain(
      'modelPackageGroups.fraud-detector.stages.qa.endpointName: endpoint churn-model-prod is already used by churn-model.prod, the same endpoint if the service is deployed in region us-east-1',
    );
  });

  it('refuses a stage name that does not start with a letter, at the name', () => {
    const config = churn();
    stages(config)['1st'] = { ...stages(config).qa, endpointName: 'first' };
    const { message, written } = issueAt(config, `${G}.1st`);
    expect(message).toMatch(/^invalid key \(must be 1-63 letters, digits or hyphens, starting with a letter/);
    expect(written).toMatch(/^1st:/);
  });
});

describe('what this version runs: qa, then prod, each in its region', () => {
  it('runs a stage in the region it names, the other in the service region', () => {
    const config = churn();
    stages(config).prod.region = 'eu-west-1';
    const group = parseConfig(stringify(config), 'r.yml').modelPackageGroups['churn-model']!;
    expect(group.stages.prod.region).toBe('eu-west-1');
    expect(group.stages.qa.region).toBeUndefined();
    expect(group.graph.stages.map((s) => [s.name, s.region])).toEqual([
      ['qa', undefined],
      ['prod', 'eu-west-1'],
    ]);
  });

  it('accepts a wave of stages as a graph, and refuses to run it, saying what it runs', () => {
    const config = churn();
    const { qa, prod } = stages(config);
    config.modelPackageGroups['churn-model'].stages = {
      staging: { ...qa, endpointName: 'churn-staging' },
      'eu-west-1': { ...prod, endpointName: 'churn-eu', after: ['staging'] },
      'us-east-1': { ...prod, endpointName: 'churn-us', after: ['staging'] },
    };
    expect(waves(stageGraphOf(config.modelPackageGroups['churn-model'].stages))).toEqual([
      ['staging'],
      ['eu-west-1', 'us-east-1'],
    ]);
    const { issues } = issuesOf(config);
    expect(issues.map((issue) => issue.replace(/^g\.yml:\d+:\d+: /, ''))).toEqual([
      `${G}.qa: required: this version runs two stages, qa then prod`,
      `${G}.prod: required: this version runs two stages, qa then prod`,
      `${G}.staging: this version runs two stages, qa then prod; stage staging would never run (a graph of other stages waits for a version that walks it)`,
      `${G}.eu-west-1: this version runs two stages, qa then prod; stage eu-west-1 would never run (a graph of other stages waits for a version that walks it)`,
      `${G}.us-east-1: this version runs two stages, qa then prod; stage us-east-1 would never run (a graph of other stages waits for a version that walks it)`,
    ]);
  });

  it('says which stage a misspelt one probably is', () => {
    const config = churn();
    const { qa, prod } = stages(config);
    config.modelPackageGroups['churn-model'].stages = { qa, prdo: prod };
    expect(issueAt(config, `${G}.prdo`).message).toMatch(/would never run .*; did you mean `prod`\?$/);
  });

  it.each<[string, (s: Json) => void, string, string]>([
    [
      'qa with a canary',
      (s) => (s.qa.strategy = s.prod.strategy),
      'qa.strategy.type',
      'this version runs two stages, qa then prod: qa with strategy replace, prod with canary or native',
    ],
    [
      'prod replaced',
      (s) => (s.prod.strategy = { type: 'replace' }),
      'prod.strategy.type',
      "this version runs two stages, qa then prod: prod with strategy canary or native (replace is qa's)",
    ],
    [
      'prod without a strategy',
      (s) => delete s.prod.strategy,
      'prod.strategy',
      'required: this version runs two stages, qa then prod, prod with strategy canary or native',
    ],
    [
      'a manual promotion into qa',
      (s) => (s.qa.promotion = { mode: 'manual' }),
      'qa.promotion.mode',
      'this version runs two stages, qa then prod: a version enters qa once it is approved in the registry, so promotion into qa is auto',
    ],
    [
      'qa waiting for prod',
      (s) => {
        s.prod.after = [];
        s.qa.after = ['prod'];
      },
      'qa.after',
      'this version runs two stages, qa then prod: qa waits for no stage (write it first, or give it after: [])',
    ],
    [
      'prod waiting for no stage',
      (s) => (s.prod.after = []),
      'prod.after',
      'this version runs two stages, qa then prod: prod waits for qa alone (after: [qa])',
    ],
    [
      'a pre-traffic check on qa',
      (s) => (s.qa.preTraffic = { requests: [{ name: 'one', body: 'x' }] }),
      'qa.preTraffic',
      'a pre-traffic check needs strategy canary: replace puts the candidate in place of the whole fleet, with no variant at weight 0 to invoke first',
    ],
  ])('refuses %s', (_, mutate, field, message) => {
    const config = churn();
    mutate(stages(config));
    expect(issueAt(config, `${G}.${field}`).message).toBe(message);
  });
});

describe('the JSON Schema of the stages', () => {
  it('accepts the explicit form of every configuration', () => {
    for (const file of CONFIGS) expect(schemaErrorPaths(explicit(read(file))), file).toEqual([]);
  });

  it.each<[string, (s: Json) => void, string]>([
    ['another stage', (s) => (s.staging = { ...s.qa, endpointName: 'staging' }), 'staging'],
    ['a missing qa', (s) => delete s.qa, 'qa'],
    ['a stage name of digits', (s) => (s['1'] = { ...s.qa, endpointName: 'first' }), '1'],
    [
      'a pre-traffic check on a replaced stage',
      (s) => (s.qa.preTraffic = { requests: [{ name: 'a', body: 'x' }] }),
      'qa.preTraffic',
    ],
    ['a bad region', (s) => (s.prod.region = 'Europe'), 'prod.region'],
    ['an unknown strategy', (s) => (s.qa.strategy = { type: 'recreate' }), 'qa.strategy'],
  ])('refuses %s at the same stage as the loader', (_, mutate, field) => {
    const config = churn();
    mutate(stages(config));
    expect(schemaErrorPaths(config).some((path) => path.startsWith(`${G}.${field}`))).toBe(true);
    expect(issuesOf(config).issues.some((issue) => issue.includes(` ${G}.${field}`))).toBe(true);
  });
});
