import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfigFile, parseConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { schemaErrorPaths } from '../foundation/config-json-schema';
import { type Json, repoRoot } from '../foundation/fixtures';

/** `rollback.earlierStages`: the group's policy for the stages that already promoted a version prod rolls back. */

const read = (file: string): Record<string, Json> => parse(readFileSync(join(repoRoot, file), 'utf8'));
const SHORT = 'rollouts.config.yml';
const EXPLICIT = 'examples/explicit-stages/rollouts.config.yml';

const issuesOf = (config: Record<string, Json>): string[] => {
  try {
    parseConfig(stringify(config), 'g.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error('expected the configuration to be refused');
};

describe('rollback.earlierStages', () => {
  it('defaults to keep, in the short form and the explicit one', () => {
    const short = loadConfigFile(join(repoRoot, SHORT));
    for (const group of Object.values(short.modelPackageGroups))
      expect(group.rollback).toEqual({ earlierStages: 'keep' });
    const explicit = read(EXPLICIT);
    delete explicit.modelPackageGroups['churn-model'].rollback;
    expect(
      parseConfig(stringify(explicit), 'g.yml').modelPackageGroups['churn-model']!.rollback.earlierStages,
    ).toBe('keep');
  });

  it('takes rollBack in both forms (the explicit example sets it)', () => {
    expect(loadConfigFile(join(repoRoot, EXPLICIT)).modelPackageGroups['churn-model']!.rollback).toEqual({
      earlierStages: 'rollBack',
    });
    const short = read(SHORT);
    short.modelPackageGroups['fraud-detector'].rollback = { earlierStages: 'rollBack' };
    const loaded = parseConfig(stringify(short), 'g.yml').modelPackageGroups;
    expect(loaded['fraud-detector']!.rollback.earlierStages).toBe('rollBack');
    expect(loaded['churn-model']!.rollback.earlierStages).toBe('keep');
    expect(schemaErrorPaths(short)).toEqual([]);
  });

  it('refuses another value naming the two allowed, at its line and column; the JSON Schema too', () => {
    const config = read(EXPLICIT);
    config.modelPackageGroups['churn-model'].rollback = { earlierStages: 'rollback' };
    const issues = issuesOf(config);
    expect(issues).toEqual([
      expect.stringMatching(
        /^g\.yml:\d+:\d+: modelPackageGroups\.churn-model\.rollback\.earlierStages: must be `keep` \(stages that already promoted the version keep it\) or `rollBack` \(they go back too\), not "rollback"$/,
      ),
    ]);
    const [, line, col] = /^g\.yml:(\d+):(\d+):/.exec(issues[0]!)!;
    const written = stringify(config)
      .split('\n')
      [Number(line) - 1]!.slice(Number(col) - 1);
    expect(written).toBe('rollback');
    expect(schemaErrorPaths(config)).toEqual(['modelPackageGroups.churn-model.rollback.earlierStages']);
  });

  it('refuses an unknown key in it, with the key it most likely meant', () => {
    const config = read(SHORT);
    config.modelPackageGroups['churn-model'].rollback = { earlierStage: 'keep' };
    expect(issuesOf(config)).toEqual([
      expect.stringMatching(
        /: modelPackageGroups\.churn-model\.rollback\.earlierStage: unknown field; did you mean `earlierStages`\?$/,
      ),
    ]);
    expect(schemaErrorPaths(config)).toEqual(['modelPackageGroups.churn-model.rollback.earlierStage']);
  });
});
