import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkExpectation,
  compareAnswers,
  judgeRequestSet,
  parseRequestSet,
  RequestSetError,
  type RequestSpec,
  requestBody,
} from '../../src/domain/request-set';

/** How a reason names a payload: the first 12 hex digits of its sha256. */
const digest = (text: string): string =>
  `sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
const EXCERPTS = { excerpts: true };

const set = parseRequestSet(
  {
    requests: [
      {
        name: 'typical',
        body: { instances: [[120, 400, 0.3, 0.1]] },
        expect: { values: { '/predictions/0': { min: 0, max: 0.5 } } },
      },
      { name: 'zero-risk', body: { instances: [[120, 400, 0, 0]] } },
      { name: 'csv', contentType: 'text/csv', body: '1,2,3,4', expect: { bodyContains: 'predictions' } },
    ],
  },
  'inline',
);
const [typical, zeroRisk, csv] = set.requests as [RequestSpec, RequestSpec, RequestSpec];

describe('parseRequestSet', () => {
  it('fills defaults: JSON content type, expected status 200', () => {
    expect(zeroRisk.contentType).toBe('application/json');
    expect(zeroRisk.expect.status).toBe(200);
    expect(requestBody(zeroRisk)).toBe('{"instances":[[120,400,0,0]]}');
    expect(requestBody(csv)).toBe('1,2,3,4');
  });

  it.each([
    [{ requests: [] }, 'requests: Too small'],
    [{ requests: [{ name: 'a', body: 1 }] }, 'requests.0.body'],
    [
      {
        requests: [
          { name: 'a', body: '' },
          { name: 'a', body: '' },
        ],
      },
      'requests.1.name: request names must be unique: "a" is also the name of request #1',
    ],
    [
      { requests: [{ name: 'a', body: '', expect: { values: { 'predictions/0': 1 } } }] },
      'must be a JSON pointer',
    ],
    [{ requests: [{ name: 'a', body: '', expect: { values: { '/p': {} } } }] }, 'give min, max or both'],
    [
      { requests: [{ name: 'a', body: '' }], compareWithBaseline: { absolute: -1 } },
      'compareWithBaseline.absolute',
    ],
    [{ requests: [{ name: 'a', body: '', extra: 1 }] }, 'requests.0.extra: unknown field'],
  ])('refuses %j naming the field', (value, message) => {
    const err = (() => {
      try {
        parseRequestSet(value, 'requests.json');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RequestSetError);
    expect((err as Error).message).toMatch(/^Invalid request set requests\.json: /);
    expect((err as Error).message).toContain(message);
  });
});

describe('checkExpectation', () => {
  it('passes an answer with the expected status and values', () => {
    expect(checkExpectation(typical, { status: 200, body: '{"predictions":[0.12]}' })).toEqual({ ok: true });
  });

  it('names what is wrong: status, missing text, value out of range, missing value, not JSON', () => {
    expect(checkExpectation(typical, { status: 500, body: '{"error":"x"}' })).toEqual({
      ok: false,
      reason: `answered HTTP 500, expected 200 (answer 13 bytes, ${digest('{"error":"x"}')})`,
    });
    expect(checkExpectation(csv, { status: 200, body: '' })).toEqual({
      ok: false,
      reason: 'answer does not contain "predictions" (answer empty)',
    });
    expect(checkExpectation(typical, { status: 200, body: '{"predictions":[0.9]}' })).toEqual({
      ok: false,
      reason: '/predictions/0 is a number, expected a number in 0..0.5',
    });
    expect(checkExpectation(typical, { status: 200, body: '{"predictions":[]}' })).toEqual({
      ok: false,
      reason: 'answer has no value at /predictions/0',
    });
    expect(checkExpectation(typical, { status: 200, body: 'oops' })).toEqual({
      ok: false,
      reason: `answer is not JSON (answer 4 bytes, ${digest('oops')})`,
    });
  });

  it('quotes the answer only when the policy allows excerpts', () => {
    const answer = { status: 500, body: '{"error":"SSN-123-45-6789 not scored"}' };
    const quiet = checkExpectation(typical, answer);
    expect(JSON.stringify(quiet)).not.toContain('SSN-123-45-6789');
    expect(checkExpectation(typical, answer, EXCERPTS)).toEqual({
      ok: false,
      reason: `answered HTTP 500, expected 200 (answer ${JSON.stringify(answer.body)})`,
    });
    expect(checkExpectation(typical, { status: 200, body: '{"predictions":[0.9]}' }, EXCERPTS)).toEqual({
      ok: false,
      reason: '/predictions/0 is 0.9, expected a number in 0..0.5',
    });
  });

  it('compares exact values and resolves escaped pointer segments', () => {
    const spec = parseRequestSet(
      { requests: [{ name: 'a', body: '', expect: { values: { '/a~1b/label': 'fraud', '/ok': true } } }] },
      'x',
    ).requests[0]!;
    expect(checkExpectation(spec, { status: 200, body: '{"a/b":{"label":"fraud"},"ok":true}' })).toEqual({
      ok: true,
    });
    expect(checkExpectation(spec, { status: 200, body: '{"a/b":{"label":"ok"},"ok":true}' })).toEqual({
      ok: false,
      reason: '/a~1b/label is a string, expected "fraud"',
    });
  });
});

describe('compareAnswers', () => {
  const tolerance = { absolute: 0.01, relative: 0.05 };

  it('accepts numbers within absolute + relative x |baseline|', () => {
    // allowed: 0.01 + 0.05 x 0.5 = 0.035
    expect(compareAnswers('{"predictions":[0.534]}', '{"predictions":[0.5]}', tolerance)).toEqual({
      ok: true,
    });
    expect(compareAnswers('{"predictions":[0.536]}', '{"predictions":[0.5]}', tolerance)).toEqual({
      ok: false,
      reason: '/predictions/0: (differ by 0.036, allowed 0.035)',
    });
    expect(
      compareAnswers('{"predictions":[0.536]}', '{"predictions":[0.5]}', tolerance, EXCERPTS),
    ).toMatchObject({
      reason: '/predictions/0: candidate 0.536, baseline 0.5 (differ by 0.036, allowed 0.035)',
    });
  });

  it('requires the same shape: lengths, keys, types, strings', () => {
    expect(compareAnswers('{"p":[1,2]}', '{"p":[1]}', tolerance)).toMatchObject({
      reason: '/p: candidate has 2 items, baseline 1',
    });
    expect(compareAnswers('{"p":1}', '{"p":1,"q":2}', tolerance)).toMatchObject({
      reason: "/q: missing from the candidate's answer",
    });
    expect(compareAnswers('{"p":1,"q":2}', '{"p":1}', tolerance)).toMatchObject({
      reason: "/q: not in the baseline's answer",
    });
    expect(compareAnswers('{"label":"fraud"}', '{"label":"ok"}', tolerance)).toMatchObject({
      reason: '/label: candidate and baseline differ (a string vs a string)',
    });
    expect(compareAnswers('{"p":"1"}', '{"p":1}', tolerance)).toMatchObject({
      reason: '/p: candidate and baseline differ (a string vs a number)',
    });
    expect(compareAnswers('{"p":"1"}', '{"p":1}', tolerance, EXCERPTS)).toMatchObject({
      reason: '/p: candidate "1", baseline 1',
    });
  });

  it('compares answers that are not JSON as text', () => {
    expect(compareAnswers('0.5\n', '0.5\n', { absolute: 0, relative: 0 })).toEqual({ ok: true });
    expect(compareAnswers('0.5', '0.50', { absolute: 1, relative: 0 })).toEqual({ ok: true });
    expect(compareAnswers('a,b', 'a,c', tolerance)).toEqual({
      ok: false,
      reason: `answers differ: candidate 3 bytes, ${digest('a,b')}, baseline 3 bytes, ${digest('a,c')}`,
    });
    expect(compareAnswers('a,b', 'a,c', tolerance, EXCERPTS)).toMatchObject({
      reason: 'answers differ: candidate "a,b", baseline "a,c"',
    });
  });

  it('with zero tolerance needs exact numbers', () => {
    expect(compareAnswers('[0.1]', '[0.1]', { absolute: 0, relative: 0 })).toEqual({ ok: true });
    expect(compareAnswers('[0.1000001]', '[0.1]', { absolute: 0, relative: 0 }).ok).toBe(false);
  });
});

describe('judgeRequestSet', () => {
  const ok = { status: 200, body: '{"predictions":[0.12]}' };

  it('passes when every request meets its expectation', () => {
    expect(
      judgeRequestSet(set, [
        { request: typical, candidate: ok },
        { request: zeroRisk, candidate: ok },
        { request: csv, candidate: ok },
      ]),
    ).toEqual({ passed: true });
  });

  const modelError = '{"error":"model fraud-score v2 produced no finite score"}';

  it('fails with every failing request named by its place, name and body digest, and requests that were not sent', () => {
    const verdict = judgeRequestSet(set, [
      { request: typical, candidate: ok },
      { request: zeroRisk, candidate: { status: 500, body: modelError } },
    ]);
    const zeroRiskBody = '{"instances":[[120,400,0,0]]}';
    expect(verdict).toEqual({
      passed: false,
      failures: [
        `request #2 "zero-risk" (body 29 bytes, ${digest(zeroRiskBody)}): candidate answered HTTP 500, expected 200 (answer 57 bytes, ${digest(modelError)})`,
        `request #3 "csv" (body 7 bytes, ${digest('1,2,3,4')}): not sent`,
      ],
    });
  });

  it('quotes bodies and answers when the policy allows excerpts', () => {
    const verdict = judgeRequestSet(
      set,
      [{ request: zeroRisk, candidate: { status: 500, body: modelError } }],
      EXCERPTS,
    );
    expect(verdict).toMatchObject({
      failures: [
        `request #1 "typical" (body "{\\"instances\\":[[120,400,0.3,0.1]]}"): not sent`,
        `request #2 "zero-risk" (body "{\\"instances\\":[[120,400,0,0]]}"): candidate answered HTTP 500, expected 200 (answer ${JSON.stringify(modelError)})`,
        'request #3 "csv" (body "1,2,3,4"): not sent',
      ],
    });
  });

  it('compares with the baseline when asked: same status, same answer within tolerance', () => {
    const compared = parseRequestSet(
      {
        requests: [
          { name: 'a', body: 'x' },
          { name: 'b', body: 'y' },
          { name: 'c', body: 'z' },
        ],
        compareWithBaseline: { absolute: 0.01 },
      },
      'x',
    );
    const [a, b, c] = compared.requests as [RequestSpec, RequestSpec, RequestSpec];
    const verdict = judgeRequestSet(compared, [
      { request: a, candidate: { status: 200, body: '[0.5]' }, baseline: { status: 200, body: '[0.505]' } },
      { request: b, candidate: { status: 200, body: '[0.5]' }, baseline: { status: 200, body: '[0.7]' } },
      { request: c, candidate: { status: 200, body: '[0.5]' } },
    ]);
    expect(verdict).toEqual({
      passed: false,
      failures: [
        `request #2 "b" (body 1 bytes, ${digest('y')}): /0: (differ by 0.2, allowed 0.01)`,
        `request #3 "c" (body 1 bytes, ${digest('z')}): no baseline answer to compare with`,
      ],
    });
  });
});
