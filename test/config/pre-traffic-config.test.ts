import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startModelServer } from '../../examples/model-server/server';
import { configCheck } from '../../src/config';
import {
  inlineRequestSetFiles,
  requestSetFileIssues,
  type StagesWithPreTraffic,
  withRequestSets,
} from '../../src/config/request-set-files';
import { judgeRequestSet, parseRequestSet, requestBody } from '../../src/domain/request-set';
import { schemaErrorPaths } from '../foundation/config-json-schema';
import type { Json } from '../foundation/fixtures';

const EXAMPLE = 'examples/model-server/rollouts.config.yml';
const REQUESTS = 'examples/model-server/pre-traffic/fraud-score.requests.json';
const example = (): Record<string, Json> => parse(readFileSync(EXAMPLE, 'utf8'));
const prod = (c: Json) => c.modelPackageGroups['fraud-score'].stages.prod;
const PROD = 'modelPackageGroups.fraud-score.stages.prod';

/** Writes a configuration (and the example request set beside it) to a fresh directory. */
function write(config: Json, requests: string | null = readFileSync(REQUESTS, 'utf8')): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollouts-config-'));
  mkdirSync(join(dir, 'pre-traffic'));
  if (requests !== null) writeFileSync(join(dir, 'pre-traffic/fraud-score.requests.json'), requests);
  const path = join(dir, 'rollouts.config.yml');
  writeFileSync(path, stringify(config));
  return path;
}

describe('shadow phase and pre-traffic check in the configuration', () => {
  it('the example with a shadow phase and a request-set file is valid', () => {
    const result = configCheck(EXAMPLE);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const p = result.config.modelPackageGroups['fraud-score']!.stages.prod;
    expect(p.strategy.shadow).toEqual({ samplingPercent: 50, bakeMinutes: 20 });
    // the file is read with the configuration: its requests stand in for its path
    expect(p.preTraffic?.requestSetFile).toBeUndefined();
    expect(p.preTraffic?.requests?.map((r) => r.name)).toContain('typical-card-payment');
  });

  it('accepts inline requests with defaults filled', () => {
    const c = example();
    prod(c).preTraffic = {
      requests: [{ name: 'one', body: { instances: [[1, 2, 3, 4]] } }],
      compareWithBaseline: {},
    };
    const result = configCheck(write(c));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.modelPackageGroups['fraud-score']!.stages.prod.preTraffic).toEqual({
      requests: [
        {
          name: 'one',
          contentType: 'application/json',
          body: { instances: [[1, 2, 3, 4]] },
          expect: { status: 200 },
        },
      ],
      compareWithBaseline: { absolute: 0, relative: 0 },
    });
  });

  const native = (c: Json) => {
    prod(c).strategy = {
      type: 'native',
      trafficRouting: { type: 'CANARY', waitIntervalSeconds: 300, sizePercent: 10 },
      alarms: ['fraud-score-5xx'],
      shadow: { samplingPercent: 10, bakeMinutes: 5 },
    };
  };

  it.each<[string, (c: Json) => void, string]>([
    [
      'shadow with the native strategy',
      native,
      `${PROD}.strategy.shadow: a shadow phase needs strategy canary`,
    ],
    [
      'a pre-traffic check with the native strategy',
      native,
      `${PROD}.preTraffic: a pre-traffic check needs strategy canary`,
    ],
    [
      'shadow on a serverless prod endpoint',
      (c) => {
        delete prod(c).instanceType;
        delete prod(c).instanceCount;
        prod(c).serverless = { memorySizeInMB: 2048, maxConcurrency: 5 };
      },
      `${PROD}.strategy.shadow: SageMaker has no shadow variants on serverless endpoints`,
    ],
    [
      'a sampling of 0 %',
      (c) => (prod(c).strategy.shadow.samplingPercent = 0),
      `${PROD}.strategy.shadow.samplingPercent: `,
    ],
    [
      'a sampling above 100 %',
      (c) => (prod(c).strategy.shadow.samplingPercent = 101),
      `${PROD}.strategy.shadow.samplingPercent: `,
    ],
    [
      'a shadow without bake time',
      (c) => delete prod(c).strategy.shadow.bakeMinutes,
      `${PROD}.strategy.shadow.bakeMinutes: required`,
    ],
    [
      'both inline requests and a file',
      (c) => (prod(c).preTraffic.requests = [{ name: 'a', body: 'x' }]),
      `${PROD}.preTraffic: give either requests or requestSetFile`,
    ],
    [
      'neither requests nor a file',
      (c) => (prod(c).preTraffic = {}),
      `${PROD}.preTraffic: give either requests or requestSetFile`,
    ],
    [
      'an absolute request-set path',
      (c) => (prod(c).preTraffic.requestSetFile = '/etc/requests.json'),
      `${PROD}.preTraffic.requestSetFile: must be a relative path`,
    ],
  ])(
    'fails config:check for %s, with the reason, and the JSON Schema at the same field',
    (_name, mutate, message) => {
      const c = example();
      mutate(c);
      const result = configCheck(write(c));
      expect(result.ok).toBe(false);
      expect(result.message).toContain(message);
      expect(schemaErrorPaths(c)).toContain(message.slice(0, message.indexOf(': ')));
    },
  );

  it('fails config:check for two inline requests with one name, at the second name (loader only: JSON Schema cannot compare items by one key)', () => {
    const c = example();
    prod(c).preTraffic = {
      requests: [
        { name: 'typical', body: 'a' },
        { name: 'large', body: 'b' },
        { name: 'typical', body: 'c' },
      ],
    };
    const result = configCheck(write(c));
    expect(result.ok).toBe(false);
    expect(result.message).toContain(
      `${PROD}.preTraffic.requests.2.name: request names must be unique: "typical" is also the name of request #1`,
    );
  });

  it('fails config:check when the request-set file is missing, not JSON or invalid', () => {
    const path = write(example(), null);
    const missing = configCheck(path);
    expect(missing.message).toContain(
      `${PROD}.preTraffic.requestSetFile: cannot read pre-traffic/fraud-score.requests.json (file not found)`,
    );
    // at the line and column where the file is named
    const at = /:(\d+):(\d+): [^\n]*cannot read/.exec(missing.message);
    expect(at, missing.message).not.toBeNull();
    const line = readFileSync(path, 'utf8').split('\n')[Number(at![1]) - 1]!;
    expect(line.slice(Number(at![2]) - 1)).toBe('pre-traffic/fraud-score.requests.json');
    const notJson = configCheck(write(example(), '{'));
    expect(notJson.message).toContain('pre-traffic/fraud-score.requests.json is not JSON');
    const invalid = configCheck(write(example(), JSON.stringify({ requests: [{ name: 'a' }] })));
    expect(invalid.ok).toBe(false);
    expect(invalid.message).toContain(
      `${PROD}.preTraffic.requestSetFile: pre-traffic/fraud-score.requests.json: requests.0.body`,
    );
  });

  it('`npm run config:check` exits 1 with the reason for a config that cannot work', () => {
    const c = example();
    native(c);
    const path = write(c);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/config-check.ts', path], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('a shadow phase needs strategy canary');
  });

  it('the example request set passes the good model version and names the request the bad one fails', async () => {
    const set = parseRequestSet(JSON.parse(readFileSync(REQUESTS, 'utf8')), REQUESTS);
    const judge = async (weightsPath: string) => {
      const server = await startModelServer({ weightsPath, port: 0 });
      try {
        const outcomes = [];
        for (const request of set.requests) {
          const res = await fetch(`${server.url}/invocations`, {
            method: 'POST',
            headers: { 'content-type': request.contentType },
            body: requestBody(request),
          });
          outcomes.push({ request, candidate: { status: res.status, body: await res.text() } });
        }
        return judgeRequestSet({ requests: set.requests }, outcomes);
      } finally {
        await server.close();
      }
    };
    expect(await judge('examples/model-server/weights/v1-good.json')).toEqual({ passed: true });
    expect(await judge('examples/model-server/weights/v2-log-merchant-risk.json')).toEqual({
      passed: false,
      failures: [
        expect.stringMatching(
          /^request #\d+ "trusted-merchant" \(body \d+ bytes, sha256 [0-9a-f]{12}\): candidate answered HTTP 500, expected 200 \(answer \d+ bytes, sha256 [0-9a-f]{12}\)$/,
        ),
      ],
    });
  });
});

describe('request-set files under any stage', () => {
  const dir = (): string => {
    const at = mkdtempSync(join(tmpdir(), 'request-sets-'));
    writeFileSync(join(at, 'eu.requests.json'), readFileSync(REQUESTS, 'utf8'));
    return at;
  };
  const preTraffic = (file: string) => ({ requestSetFile: file });
  /** A loaded configuration's stages with pre-traffic checks on stages other than prod. */
  const graph = (): StagesWithPreTraffic =>
    ({
      modelPackageGroups: {
        g: {
          stages: {
            qa: { endpointName: 'g-qa' },
            eu: { endpointName: 'g-eu', preTraffic: preTraffic('eu.requests.json') },
            us: { endpointName: 'g-us', preTraffic: preTraffic('us.requests.json') },
          },
        },
      },
    }) as unknown as StagesWithPreTraffic;

  it('checks the file of every stage, at that stage', () => {
    const at = dir();
    expect(requestSetFileIssues(graph(), join(at, 'rollouts.config.yml'))).toEqual([
      {
        path: ['modelPackageGroups', 'g', 'stages', 'us', 'preTraffic', 'requestSetFile'],
        message: 'cannot read us.requests.json (file not found)',
      },
    ]);
  });

  it("reads every stage's file into its requests, in the loaded and in the packaged configuration", () => {
    const at = dir();
    writeFileSync(join(at, 'us.requests.json'), readFileSync(REQUESTS, 'utf8'));
    const expected = parseRequestSet(JSON.parse(readFileSync(REQUESTS, 'utf8')), REQUESTS);
    const loaded = withRequestSets(graph(), join(at, 'rollouts.config.yml'));
    const packaged = inlineRequestSetFiles(graph(), join(at, 'rollouts.config.yml')) as StagesWithPreTraffic;
    for (const config of [loaded, packaged])
      for (const stage of ['eu', 'us']) {
        const check = config.modelPackageGroups.g!.stages[stage]!.preTraffic!;
        expect(check.requestSetFile, stage).toBeUndefined();
        expect(check.requests, stage).toEqual(expected.requests);
        expect(check.compareWithBaseline, stage).toEqual(expected.compareWithBaseline);
      }
  });
});
