import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  clearConfigCache,
  configCheck,
  loadConfigFile,
  loadConfigFromEnv,
  parseConfig,
} from '../../src/config';
import { inlineRequestSetFiles } from '../../src/config/request-set-files';
import { ConfigError } from '../../src/errors';
import { type Json, repoRoot } from './fixtures';

const examplePath = join(repoRoot, 'rollouts.config.yml');
const exampleText = readFileSync(examplePath, 'utf8');
/** A fresh, mutable copy of the example configuration. */
const example = (): Record<string, Json> => parse(exampleText);

const configError = (run: () => unknown): ConfigError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('the example configuration', () => {
  it('is valid, with both groups and their strategies', () => {
    const config = loadConfigFile(examplePath);
    expect(Object.keys(config.modelPackageGroups)).toEqual(['churn-model', 'fraud-detector']);
    const churn = config.modelPackageGroups['churn-model']!;
    expect(churn.stages.prod.strategy.type).toBe('canary');
    if (churn.stages.prod.strategy.type === 'canary') {
      expect(churn.stages.prod.strategy.steps.map((s) => s.weight)).toEqual([10, 25, 50]);
      expect(churn.stages.prod.strategy.alarms).toHaveLength(1);
    }
    const fraud = config.modelPackageGroups['fraud-detector']!;
    expect(fraud.promotion.mode).toBe('manual');
    expect(fraud.stages.prod.crossAccount?.externalId).toBeDefined();
    expect(fraud.stages.prod.strategy.type).toBe('native');
  });

  it('reads the same from JSON', () => {
    // as packaged: the request-set files inlined
    const document = inlineRequestSetFiles(example(), examplePath);
    const fromJson = parseConfig(JSON.stringify(document), 'rollouts.config.json');
    expect(fromJson).toEqual(loadConfigFile(examplePath));
  });
});

type Mutation = (config: Record<string, Json>) => void;
const churnProd = (c: Record<string, Json>) => c.modelPackageGroups['churn-model'].stages.prod;

const broken: [string, Mutation, string][] = [
  [
    'non-increasing weights',
    (c) => (churnProd(c).strategy.steps[1].weight = 10),
    'modelPackageGroups.churn-model.stages.prod.strategy.steps: step weights must increase',
  ],
  [
    'a weight of 100',
    (c) => (churnProd(c).strategy.steps[2].weight = 100),
    'modelPackageGroups.churn-model.stages.prod.strategy.steps.2.weight: ',
  ],
  [
    'both instanceType and serverless',
    (c) => (churnProd(c).serverless = { memorySizeInMB: 2048, maxConcurrency: 5 }),
    'modelPackageGroups.churn-model.stages.prod: set either instanceType (with optional instanceCount) or serverless, not both',
  ],
  [
    'neither instanceType nor serverless',
    (c) => delete c.modelPackageGroups['fraud-detector'].stages.qa.serverless,
    'modelPackageGroups.fraud-detector.stages.qa: set either instanceType',
  ],
  [
    'a cross-account stage without an observer role (the deciding functions would hold the deployer role)',
    (c) => delete c.modelPackageGroups['fraud-detector'].stages.prod.crossAccount.observerRoleArn,
    'modelPackageGroups.fraud-detector.stages.prod.crossAccount.observerRoleArn: a cross-account stage needs a read-only observer role',
  ],
  [
    'the deployer role as the observer role',
    (c) => {
      const crossAccount = c.modelPackageGroups['fraud-detector'].stages.prod.crossAccount;
      crossAccount.observerRoleArn = crossAccount.roleArn;
    },
    'modelPackageGroups.fraud-detector.stages.prod.crossAccount.observerRoleArn: must be another role than roleArn',
  ],
  [
    'a bad cross-account role ARN',
    (c) =>
      (c.modelPackageGroups['fraud-detector'].stages.prod.crossAccount.roleArn = 'arn:aws:iam::4444:role/x'),
    'modelPackageGroups.fraud-detector.stages.prod.crossAccount.roleArn: must be an IAM role ARN',
  ],
  [
    'a bad execution role ARN',
    (c) => (c.modelPackageGroups['churn-model'].executionRoleArn = 'churn-role'),
    'modelPackageGroups.churn-model.executionRoleArn: must be an IAM role ARN',
  ],
  [
    'an endpoint used by two groups',
    (c) => (c.modelPackageGroups['fraud-detector'].stages.qa.endpointName = 'churn-model-qa'),
    'modelPackageGroups.fraud-detector.stages.qa.endpointName: endpoint churn-model-qa is already used by churn-model.qa',
  ],
  [
    'the same endpoint for qa and prod',
    (c) => (churnProd(c).endpointName = 'churn-model-qa'),
    'modelPackageGroups.churn-model.stages.prod.endpointName: qa and prod must use different endpoints',
  ],
  [
    'an unknown key',
    (c) => (churnProd(c).strategy.gates.maxErrorPercent = 1),
    'modelPackageGroups.churn-model.stages.prod.strategy.gates.maxErrorPercent: unknown field',
  ],
  [
    'the retired ratio threshold of earlier versions',
    (c) => (churnProd(c).strategy.gates.maxErrorRateRatio = 2),
    'modelPackageGroups.churn-model.stages.prod.strategy.gates.maxErrorRateRatio: removed: the candidate is now compared with the baseline by a sequential test; write detectErrorRatio',
  ],
  [
    'the retired absolute latency threshold',
    (c) => (churnProd(c).strategy.gates.maxLatencyMs = 250),
    'modelPackageGroups.churn-model.stages.prod.strategy.gates.maxLatencyMs: removed: latency is judged relative to the baseline (maxLatencyRatio); for an absolute limit, list a CloudWatch alarm',
  ],
  [
    'an alpha of 0',
    (c) => (churnProd(c).strategy.gates.alpha = 0),
    'modelPackageGroups.churn-model.stages.prod.strategy.gates.alpha: ',
  ],
  ['an unknown top-level key', (c) => (c.groups = {}), 'groups: unknown field'],
  [
    'an unknown strategy',
    (c) => (churnProd(c).strategy.type = 'linear'),
    'modelPackageGroups.churn-model.stages.prod.strategy.type: ',
  ],
  [
    'a group name with an underscore',
    (c) => {
      c.modelPackageGroups.churn_model = c.modelPackageGroups['churn-model'];
      delete c.modelPackageGroups['churn-model'];
    },
    'modelPackageGroups.churn_model: invalid key',
  ],
  [
    'a missing prod stage',
    (c) => delete c.modelPackageGroups['churn-model'].stages.prod,
    'modelPackageGroups.churn-model.stages.prod: required',
  ],
  [
    'native shifting on a serverless endpoint',
    (c) => {
      const prod = c.modelPackageGroups['fraud-detector'].stages.prod;
      delete prod.instanceType;
      delete prod.instanceCount;
      prod.serverless = { memorySizeInMB: 2048, maxConcurrency: 5 };
    },
    'modelPackageGroups.fraud-detector.stages.prod.strategy.type: native blue/green shifting is not available',
  ],
  ['no groups', (c) => (c.modelPackageGroups = {}), 'modelPackageGroups: configure at least one group'],
  [
    'a native CANARY size over 50 % (SageMaker refuses it; finding 5)',
    (c) => {
      c.modelPackageGroups['fraud-detector'].stages.prod.strategy.trafficRouting = {
        type: 'CANARY',
        waitIntervalSeconds: 600,
        sizePercent: 60,
      };
    },
    'modelPackageGroups.fraud-detector.stages.prod.strategy.trafficRouting.sizePercent: CANARY needs a sizePercent of at most 50',
  ],
  [
    'a native LINEAR step under 10 % (finding 5)',
    (c) => {
      c.modelPackageGroups['fraud-detector'].stages.prod.strategy.trafficRouting = {
        type: 'LINEAR',
        waitIntervalSeconds: 600,
        sizePercent: 5,
      };
    },
    'modelPackageGroups.fraud-detector.stages.prod.strategy.trafficRouting.sizePercent: LINEAR needs a sizePercent from 10 to 50',
  ],
  [
    'an authorized principal that is not an ARN',
    (c) => (c.modelPackageGroups['churn-model'].authorization = { promote: ['release-team'] }),
    'modelPackageGroups.churn-model.authorization.promote.0: must be an IAM or STS principal ARN',
  ],
  [
    'a group without authorization (deny by default: say who, or `open`)',
    (c) => delete c.modelPackageGroups['churn-model'].authorization,
    'modelPackageGroups.churn-model.authorization: required: say who may send which command',
  ],
  [
    'authorization that is neither rules nor open',
    (c) => (c.modelPackageGroups['churn-model'].authorization = 'closed'),
    'modelPackageGroups.churn-model.authorization: must be `open` or rules',
  ],
  [
    'authorization for an unknown verb',
    (c) =>
      (c.modelPackageGroups['churn-model'].authorization = { deploy: ['arn:aws:iam::111122223333:role/r'] }),
    'modelPackageGroups.churn-model.authorization.deploy: unknown field',
  ],
  [
    'a callback pipeline name with a space',
    (c) => (c.callbackPipelines = ['churn train']),
    'callbackPipelines.0: must be a pipeline name',
  ],
  [
    'chat notifications that are not a flag',
    (c) => (c.notifications = { chat: 'yes' }),
    'notifications.chat: ',
  ],
];

describe('broken configurations', () => {
  it.each(broken)('%s fails with the field path', (_, mutate, expected) => {
    const config = example();
    mutate(config);
    const error = configError(() => parseConfig(stringify(config), 'broken.yml'));
    expect(error.message.startsWith('Invalid configuration broken.yml:\n  - ')).toBe(true);
    expect(error.message).toContain(`  - ${expected}`);
    expect(error.issues.some((issue) => issue.startsWith(expected))).toBe(true);
  });

  it('lists every bad field, one per line', () => {
    const config = example();
    churnProd(config).strategy.steps[1].weight = 5;
    config.modelPackageGroups['churn-model'].executionRoleArn = 'x';
    const error = configError(() => parseConfig(stringify(config), 'rollouts.config.yml'));
    expect(error.issues).toHaveLength(2);
    expect(error.message.split('\n')).toHaveLength(3);
  });

  it('reports YAML syntax errors with their line', () => {
    const error = configError(() => parseConfig('tickConcurrency: 8\nmodelPackageGroups: [\n', 'syntax.yml'));
    expect(error.message).toMatch(/^Invalid configuration syntax\.yml:\n {2}- line \d+, column \d+: /);
  });

  it('rejects duplicate keys', () => {
    const error = configError(() => parseConfig(`${exampleText}\ntickConcurrency: 4\n`, 'dup.yml'));
    expect(error.message).toMatch(/unique/i);
  });

  it('rejects an empty file', () => {
    expect(configError(() => parseConfig('', 'empty.yml')).message).toContain('(root): the file is empty');
  });

  it('names a missing file', () => {
    expect(configError(() => loadConfigFile('/nonexistent/rollouts.yml')).message).toBe(
      'Cannot read configuration /nonexistent/rollouts.yml: file not found',
    );
  });
});

describe('loadConfigFromEnv', () => {
  const saved = process.env.ROLLOUTS_CONFIG_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.ROLLOUTS_CONFIG_PATH;
    else process.env.ROLLOUTS_CONFIG_PATH = saved;
    clearConfigCache();
  });

  it('reads ROLLOUTS_CONFIG_PATH once and caches the result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollouts-config-'));
    const path = join(dir, 'config.yml');
    writeFileSync(path, exampleText);
    // the request-set file it names, relative to it
    mkdirSync(join(dir, 'pre-traffic'));
    copyFileSync(
      join(dirname(examplePath), 'pre-traffic/churn-model.requests.json'),
      join(dir, 'pre-traffic/churn-model.requests.json'),
    );
    process.env.ROLLOUTS_CONFIG_PATH = path;
    const first = loadConfigFromEnv();
    writeFileSync(path, 'not: [valid');
    expect(loadConfigFromEnv()).toBe(first);
    clearConfigCache();
    expect(() => loadConfigFromEnv()).toThrow(ConfigError);
  });

  it('defaults to rollouts.config.yml in the working directory', () => {
    delete process.env.ROLLOUTS_CONFIG_PATH;
    const cwd = process.cwd();
    process.chdir(repoRoot);
    try {
      expect(Object.keys(loadConfigFromEnv().modelPackageGroups)).toContain('churn-model');
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('config-check', () => {
  it('describes a valid file', () => {
    expect(configCheck(examplePath)).toMatchObject({
      ok: true,
      message: 'OK: 2 model package groups (churn-model, fraud-detector)',
    });
  });

  const run = (file: string) =>
    spawnSync('npx', ['tsx', 'src/cli/config-check.ts', file], { cwd: repoRoot, encoding: 'utf8' });

  it('exits 0 and prints OK for the example', () => {
    const result = run('rollouts.config.yml');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe('OK: 2 model package groups (churn-model, fraud-detector)');
  });

  it('warns loudly about a group open to every caller, on stderr, and still exits 0', () => {
    const config = example();
    config.modelPackageGroups['fraud-detector'].authorization = 'open';
    const dir = mkdtempSync(join(tmpdir(), 'rollouts-config-'));
    const file = join(dir, 'open.yml');
    writeFileSync(file, stringify(config));
    mkdirSync(join(dir, 'pre-traffic'));
    copyFileSync(
      join(dirname(examplePath), 'pre-traffic/churn-model.requests.json'),
      join(dir, 'pre-traffic/churn-model.requests.json'),
    );
    expect(configCheck(file)).toMatchObject({
      ok: true,
      warnings: [expect.stringContaining('modelPackageGroups.fraud-detector.authorization is open')],
    });
    const result = run(file);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('WARNING: modelPackageGroups.fraud-detector.authorization is open');
    expect(result.stderr).not.toContain('churn-model');
  });

  it('exits 1 and prints the field path for a bad file', () => {
    const config = example();
    churnProd(config).strategy.steps[2].weight = 20;
    const dir = mkdtempSync(join(tmpdir(), 'rollouts-config-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(file, stringify(config));
    const result = run(file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`Invalid configuration ${file}:`);
    expect(result.stderr).toContain(
      '  - modelPackageGroups.churn-model.stages.prod.strategy.steps: step weights must increase',
    );
  });
});
