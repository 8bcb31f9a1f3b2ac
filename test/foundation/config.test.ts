import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  clearConfigCache,
  configCheck,
  loadConfigFile,
  loadConfigFromEnv,
  parseConfig,
} from '../../src/config';
import { parseJsonConfig } from '../../src/config/load';
import { inlineRequestSetFiles } from '../../src/config/request-set-files';
import { ConfigError } from '../../src/errors';
import { broken, churnProd, example, examplePath, exampleText } from './broken-configs';
import { repoRoot } from './fixtures';

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

/** The issue's text after `file:line:col: `, and the place; fails when the issue has no place. */
const place = (issue: string, file: string) => {
  const match = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+): (.*)$`, 's').exec(
    issue,
  );
  expect(match, `${issue} should start with ${file}:line:col`).not.toBeNull();
  return { line: Number(match![1]), col: Number(match![2]), text: match![3]! };
};

/** What the text holds at a line and column (1-based). */
const textAt = (text: string, line: number, col: number): string =>
  (text.split('\n')[line - 1] ?? '').slice(col - 1);

describe('broken configurations', () => {
  it.each(broken)('%s fails with the file, line, column and field path', (_, mutate, expected) => {
    const config = example();
    mutate(config);
    const error = configError(() => parseConfig(stringify(config), 'broken.yml'));
    expect(error.message.startsWith('Invalid configuration broken.yml:\nbroken.yml:')).toBe(true);
    expect(error.message.split('\n').slice(1)).toEqual(error.issues);
    const issue = error.issues.find((line) => place(line, 'broken.yml').text.startsWith(expected));
    expect(issue, error.message).toBeDefined();
  });

  it('lists every bad field, one per line, in the order they are written', () => {
    const config = example();
    churnProd(config).strategy.steps[1].weight = 5;
    config.modelPackageGroups['churn-model'].executionRoleArn = 'x';
    const text = stringify(config);
    const error = configError(() => parseConfig(text, 'rollouts.config.yml'));
    expect(error.issues).toHaveLength(2);
    expect(error.message.split('\n')).toHaveLength(3);
    const [role, steps] = error.issues.map((issue) => place(issue, 'rollouts.config.yml'));
    expect(role!.text).toBe('modelPackageGroups.churn-model.executionRoleArn: must be an IAM role ARN');
    expect(textAt(text, role!.line, role!.col)).toBe('x');
    expect(steps!.text).toBe(
      'modelPackageGroups.churn-model.stages.prod.strategy.steps: step weights must increase',
    );
    expect(textAt(text, steps!.line, steps!.col)).toMatch(/^- weight: 10$/);
    expect(role!.line).toBeLessThan(steps!.line);
  });

  const misspelt = `# a comment line
tickConcurrency: 4
modelPackageGroups:
  churn-model:
    executionRoleArn: arn:aws:iam::111122223333:role/churn
    authorization: open
    stages:
      qa: { endpointName: churn-qa, instanceType: ml.m5.large }
      prod:
        endpointName: churn-prod
        instanceType: ml.m5.large
        strategy:
          type: canary
          steps: [{ weight: 10, bakeMinutes: 5 }]
          gates:
            maxLatencyRatoi: 1.5
            maxErrorRateRatio: {}
            alpha: 0.5
          shadw: { samplingPercent: 10, bakeMinutes: 5 }
`;

  it('points at the offending node: a value, an unknown key (with the key it most likely meant)', () => {
    const error = configError(() => parseConfig(misspelt, 'misspelt.yml'));
    const gates = 'modelPackageGroups.churn-model.stages.prod.strategy.gates';
    expect(error.issues).toEqual([
      `misspelt.yml:16:13: ${gates}.maxLatencyRatoi: unknown field; did you mean \`maxLatencyRatio\`?`,
      expect.stringMatching(new RegExp(`^misspelt\\.yml:17:13: ${gates}\\.maxErrorRateRatio: removed: `)),
      `misspelt.yml:18:20: ${gates}.alpha: Too big: expected number to be <=0.2`,
      'misspelt.yml:19:11: modelPackageGroups.churn-model.stages.prod.strategy.shadw: unknown field; did you mean `shadow`?',
    ]);
    expect(textAt(misspelt, 16, 13)).toBe('maxLatencyRatoi: 1.5');
    expect(textAt(misspelt, 17, 13)).toBe('maxErrorRateRatio: {}');
    expect(textAt(misspelt, 18, 20)).toBe('0.5');
  });

  it('points at a group name that is not a SageMaker name, not at the group', () => {
    const issues = configError(() =>
      parseConfig(misspelt.replace('churn-model:', 'churn_model:'), 'k.yml'),
    ).issues;
    expect(issues).toEqual([
      expect.stringMatching(/^k\.yml:4:3: modelPackageGroups\.churn_model: invalid key /),
    ]);
  });

  it('suggests only a known key of the same object, and nothing when no key is close', () => {
    const text = misspelt
      .replace('maxLatencyRatoi', 'bakeMinutes')
      .replace('shadw', 'zzzzzzzzzz')
      .replace('maxErrorRateRatio: {}', 'maxErrorRateRatoi: 3');
    const issues = configError(() => parseConfig(text, 'm.yml')).issues;
    // bakeMinutes is a key of steps and shadow, not of gates; maxErrorRateRatio is removed, not offered
    expect(issues.find((i) => i.includes('.gates.bakeMinutes'))).toMatch(/: unknown field$/);
    expect(issues.find((i) => i.includes('.gates.maxErrorRateRatoi:'))).toMatch(/: unknown field$/);
    expect(issues.find((i) => i.includes('.zzzzzzzzzz'))).toMatch(/: unknown field$/);
  });

  it('points at the object that lacks a required field, through the branch of a strategy', () => {
    const text = misspelt
      .replace(/ {10}gates:\n(.*\n){3}/, '')
      .replace('shadw', 'shadow')
      .replace('type: canary', 'type: native\n          trafficRoutin: {}');
    const error = configError(() => parseConfig(text, 'native.yml'));
    const strategy = 'modelPackageGroups.churn-model.stages.prod.strategy';
    expect(error.issues).toContain(
      `native.yml:14:11: ${strategy}.trafficRoutin: unknown field; did you mean \`trafficRouting\`?`,
    );
    expect(error.issues).toContain(`native.yml:12:9: ${strategy}.trafficRouting: required (expected object)`);
    expect(textAt(text, 12, 9)).toBe('strategy:');
  });

  it('gives lines and columns for a JSON file too', () => {
    const text = JSON.stringify({ ...example(), tickConcurrency: 0 }, null, 2);
    const issues = configError(() => parseJsonConfig(text, 'c.json')).issues;
    expect(issues).toEqual(['c.json:2:22: tickConcurrency: Too small: expected number to be >=1']);
    expect(textAt(text, 2, 22)).toBe('0,');
  });

  it("prints the README's example of errors, exactly", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const shown = /\*\*Errors\.\*\*[\s\S]*?```\n(Invalid configuration [\s\S]*?\n)```/.exec(readme)?.[1];
    expect(shown).toBeDefined();
    const text = exampleText
      .replace('            - weight: 25\n', '            - weight: 5\n')
      .replace(
        '            maxLatencyRatio: 1.2\n',
        '            maxLatencyRatoi: 1.2\n            maxErrorRateRatio: 1.5\n',
      )
      .replace(
        / {4}authorization:\n {6}promote: \[arn:aws:iam::111122223333:role\/fraud-release\]\n(?: {6}.*\n|\s+- .*\n)+/,
        '',
      );
    const dir = mkdtempSync(join(tmpdir(), 'rollouts-config-'));
    const file = join(dir, 'rollouts.config.yml');
    writeFileSync(file, text);
    mkdirSync(join(dir, 'pre-traffic'));
    copyFileSync(
      join(dirname(examplePath), 'pre-traffic/churn-model.requests.json'),
      join(dir, 'pre-traffic/churn-model.requests.json'),
    );
    const message = configError(() => loadConfigFile(file)).message.replaceAll(file, 'rollouts.config.yml');
    expect(`${message}\n`).toBe(shown);
  });

  it('reports YAML syntax errors with their line and column', () => {
    const error = configError(() => parseConfig('tickConcurrency: 8\nmodelPackageGroups: [\n', 'syntax.yml'));
    expect(error.message).toMatch(/^Invalid configuration syntax\.yml:\nsyntax\.yml:\d+:\d+: /);
  });

  it('rejects duplicate keys', () => {
    const error = configError(() => parseConfig(`${exampleText}\ntickConcurrency: 4\n`, 'dup.yml'));
    expect(error.message).toMatch(/unique/i);
  });

  it('rejects an empty file', () => {
    expect(configError(() => parseConfig('', 'empty.yml')).issues).toEqual([
      'empty.yml:1:1: (root): the file is empty',
    ]);
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
    expect(result.stderr).toMatch(
      /\n[^\n]*bad\.yml:\d+:\d+: modelPackageGroups\.churn-model\.stages\.prod\.strategy\.steps: step weights must increase\n/,
    );
  });
});
