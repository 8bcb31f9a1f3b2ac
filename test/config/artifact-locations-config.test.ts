import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { schemaErrorPaths } from '../foundation/config-json-schema';
import { type Json, repoRoot } from '../foundation/fixtures';

const G = 'modelPackageGroups.churn-model.stages';
const USE1 = '111122223333.dkr.ecr.us-east-1.amazonaws.com/churn';
const PROD_USE1 = '444455556666.dkr.ecr.us-east-1.amazonaws.com/churn';

const churn = (): Record<string, Json> => {
  const config = parse(readFileSync(join(repoRoot, 'rollouts.config.yml'), 'utf8'));
  delete config.modelPackageGroups['fraud-detector'];
  delete config.modelPackageGroups['churn-model'].stages.prod.preTraffic;
  return config;
};
const prod = (config: Record<string, Json>) => config.modelPackageGroups['churn-model'].stages.prod;

/** Every issue the loader reports, each as `line text at the issue's column: message`. */
const issuesOf = (config: Record<string, Json>): { field: string; written: string; message: string }[] => {
  const text = stringify(config);
  try {
    parseConfig(text, 'g.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((issue) => {
      const [, line, col, field, message] = /^g\.yml:(\d+):(\d+): ([^ ]+): (.*)$/.exec(issue)!;
      const written = (text.split('\n')[Number(line) - 1] ?? '').slice(Number(col) - 1);
      return { field: field!, written, message: message! };
    });
  }
  throw new Error('expected the configuration to be refused');
};

describe("a stage's artifact locations", () => {
  it('loads S3 prefix and ECR repository mappings into the stage the rollout runs, empty lists by default', () => {
    const config = churn();
    prod(config).artifacts = {
      s3: [{ from: 's3://models-use1/churn/', to: 's3://models-prod/churn/' }],
      ecr: [{ from: USE1, to: PROD_USE1 }],
    };
    prod(config).crossAccount = {
      roleArn: 'arn:aws:iam::444455556666:role/deployer',
      observerRoleArn: 'arn:aws:iam::444455556666:role/observer',
    };
    const loaded = parseConfig(stringify(config), 'a.yml').modelPackageGroups['churn-model']!;
    expect(loaded.stages.prod.artifacts).toEqual(prod(config).artifacts);
    expect(loaded.stages.qa.artifacts).toBeUndefined();
    expect(schemaErrorPaths(config)).toEqual([]);

    prod(config).artifacts = { ecr: [{ from: USE1, to: PROD_USE1 }] };
    const ecrOnly = parseConfig(stringify(config), 'a.yml').modelPackageGroups['churn-model']!;
    expect(ecrOnly.stages.prod.artifacts).toEqual({ s3: [], ecr: [{ from: USE1, to: PROD_USE1 }] });
  });

  it('refuses what is not an S3 prefix or an ECR repository, at the field, with the form expected', () => {
    const config = churn();
    prod(config).artifacts = {
      s3: [{ from: 'https://models-use1.s3.amazonaws.com/churn/', to: 's3://models-prod/churn/' }],
      ecr: [{ from: `${USE1}:7`, to: PROD_USE1 }],
    };
    const issues = issuesOf(config);
    expect(issues).toContainEqual({
      field: `${G}.prod.artifacts.s3.0.from`,
      written: 'https://models-use1.s3.amazonaws.com/churn/',
      message:
        'must be an S3 URI prefix such as s3://models-euw1/fraud/ (s3://, a bucket name, /, then an optional key prefix)',
    });
    expect(issues).toContainEqual({
      field: `${G}.prod.artifacts.ecr.0.from`,
      written: `${USE1}:7`,
      message:
        'must be an ECR repository URI such as 111122223333.dkr.ecr.eu-west-1.amazonaws.com/fraud (no tag or digest)',
    });
    expect(issues).toHaveLength(2);
    expect(schemaErrorPaths(config)).toEqual(
      expect.arrayContaining([`${G}.prod.artifacts.s3.0.from`, `${G}.prod.artifacts.ecr.0.from`]),
    );
  });

  it('refuses a source mapped twice, a mapping onto itself, and ECR copies in two regions', () => {
    const config = churn();
    prod(config).artifacts = {
      s3: [
        { from: 's3://models-use1/churn/', to: 's3://models-prod/churn/' },
        { from: 's3://models-use1/churn/', to: 's3://models-other/churn/' },
      ],
      ecr: [
        { from: USE1, to: PROD_USE1 },
        {
          from: '111122223333.dkr.ecr.us-east-1.amazonaws.com/base',
          to: '444455556666.dkr.ecr.eu-west-1.amazonaws.com/base',
        },
        { from: PROD_USE1, to: PROD_USE1 },
      ],
    };
    const issues = issuesOf(config);
    expect(issues).toEqual([
      {
        field: `${G}.prod.artifacts.s3.1.from`,
        written: 's3://models-use1/churn/',
        message: 's3://models-use1/churn/ is mapped twice (also at s3[0]): one mapping per source',
      },
      {
        field: `${G}.prod.artifacts.ecr.1.to`,
        written: '444455556666.dkr.ecr.eu-west-1.amazonaws.com/base',
        message:
          "is in eu-west-1, ecr[0].to in us-east-1: every copy must be in the stage's one region, where SageMaker pulls its images",
      },
      {
        field: `${G}.prod.artifacts.ecr.2.to`,
        written: PROD_USE1,
        message: 'maps the source to itself: remove the mapping',
      },
    ]);
  });

  it('refuses an unknown key in a mapping, as the JSON Schema does', () => {
    const config = churn();
    prod(config).artifacts = { ecr: [{ from: USE1, to: PROD_USE1, region: 'us-east-1' }] };
    expect(issuesOf(config)).toEqual([
      {
        field: `${G}.prod.artifacts.ecr.0.region`,
        written: 'region: us-east-1',
        message: expect.any(String),
      },
    ]);
    expect(schemaErrorPaths(config)).toEqual([`${G}.prod.artifacts.ecr.0.region`]);
  });
});
