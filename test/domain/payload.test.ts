import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  describeFailedInvocation,
  describePayload,
  describeValue,
  NO_EXCERPTS,
} from '../../src/domain/payload';

const EXCERPTS = { excerpts: true };
const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

describe('naming customer payloads', () => {
  it('names a payload by its size in bytes and the head of its sha256, or quotes it with excerpts', () => {
    expect(describePayload('', NO_EXCERPTS)).toBe('empty');
    expect(describePayload('é1', NO_EXCERPTS)).toBe(`3 bytes, sha256 ${digest('é1')}`);
    expect(describePayload('a"b', EXCERPTS)).toBe('"a\\"b"');
    expect(describePayload('x'.repeat(500), EXCERPTS)).toBe(`"${'x'.repeat(199)}…"`);
  });

  it('names a value from an answer by its kind only, or its JSON with excerpts', () => {
    expect([1, 's', true, null, [1], { a: 1 }].map((v) => describeValue(v, NO_EXCERPTS))).toEqual([
      'a number',
      'a string',
      'a boolean',
      'null',
      'an array',
      'an object',
    ]);
    expect(describeValue({ a: 'SSN' }, EXCERPTS)).toBe('{"a":"SSN"}');
  });

  it("describes a failed invocation by status and error code; the service's message only with excerpts", () => {
    const failed = {
      statusCode: 500,
      body: 'no score for SSN-123',
      errorCode: 'ModelError',
      error: 'ModelError: Received server error (500) from primary with message "no score for SSN-123"',
    };
    expect(describeFailedInvocation(failed, NO_EXCERPTS)).toBe(
      `HTTP 500 ModelError (answer 20 bytes, sha256 ${digest(failed.body)})`,
    );
    expect(describeFailedInvocation(failed, EXCERPTS)).toBe(`HTTP 500: ${failed.error}`);
    expect(describeFailedInvocation({ statusCode: 400, body: '' }, NO_EXCERPTS)).toBe(
      'HTTP 400 (answer empty)',
    );
  });
});
