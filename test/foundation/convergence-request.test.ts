import { describe, expect, it } from 'vitest';
import { convergenceRequestSchema } from '../../src/domain/schemas/convergence-request';
import { parseInput } from '../../src/domain/schemas/parse';
import { InputValidationError } from '../../src/errors';
import { fixture, type Json } from './fixtures';

/** The body of the executor queue's sample message (events/executor-request.json). */
const body = (): Record<string, Json> => JSON.parse(fixture('executor-request').Records[0].body);
const parse = (value: unknown) => parseInput(convergenceRequestSchema, value, 'convergence request');

describe('convergence request (the executor queue’s message body)', () => {
  it('names the group to converge', () => {
    expect(parse(body())).toEqual({ group: 'churn-model' });
  });

  it.each([
    ['no group', (b: Record<string, Json>) => delete b.group, 'group'],
    ['an empty group', (b: Record<string, Json>) => (b.group = ''), 'group'],
    ['a group that is not a string', (b: Record<string, Json>) => (b.group = 7), 'group'],
    [
      'an unknown field (a spec, which the executor never takes from a message)',
      (b: Record<string, Json>) => (b.weights = { v1: 100 }),
      'weights',
    ],
  ])('refuses %s, naming the field', (_, change, field) => {
    const value = body();
    change(value);
    expect(() => parse(value)).toThrow(InputValidationError);
    expect(() => parse(value)).toThrow(new RegExp(`Invalid convergence request: .*${field}`));
  });
});
