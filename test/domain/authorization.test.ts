import { describe, expect, it } from 'vitest';
import { authorizeCommand } from '../../src/domain/authorization';

const RELEASE_ROLE = 'arn:aws:iam::111122223333:role/release';
const RELEASE_SESSION = 'arn:aws:sts::111122223333:assumed-role/release/jane';
const OPS_SESSION = 'arn:aws:sts::111122223333:assumed-role/ops/bob';
const USER = 'arn:aws:iam::111122223333:user/carol';

describe('authorizeCommand', () => {
  it('allows everything when the group has no authorization config', () => {
    expect(authorizeCommand(undefined, 'rollback', USER)).toEqual({ allowed: true });
  });

  const config = {
    promote: [RELEASE_ROLE],
    pause: ['arn:aws:sts::111122223333:assumed-role/*'],
    default: [USER],
  };
  it.each([
    ['a session of a listed role', 'promote', RELEASE_SESSION, true],
    ['the listed role itself', 'promote', RELEASE_ROLE, true],
    ['a session of another role', 'promote', OPS_SESSION, false],
    ['a user for a verb listed without it', 'promote', USER, false],
    ['any session through a wildcard', 'pause', OPS_SESSION, true],
    ['an unlisted verb: the default principals', 'abort', USER, true],
    ['an unlisted verb: anyone else', 'abort', RELEASE_SESSION, false],
    [
      'a role of the same name in another account',
      'promote',
      'arn:aws:sts::999999999999:assumed-role/release/x',
      false,
    ],
  ] as const)('%s', (_, verb, principal, allowed) => {
    expect(authorizeCommand(config, verb, principal).allowed).toBe(allowed);
  });

  it('without a default, verbs not listed are refused, naming the principal and verb', () => {
    expect(authorizeCommand({ promote: [RELEASE_ROLE] }, 'retry', RELEASE_SESSION)).toEqual({
      allowed: false,
      reason: `${RELEASE_SESSION} is not authorized to retry`,
    });
  });

  it('a wildcard matches within the pattern only (dots are literal)', () => {
    expect(
      authorizeCommand(
        { default: ['arn:aws:iam::111122223333:user/a.b'] },
        'pause',
        'arn:aws:iam::111122223333:user/axb',
      ).allowed,
    ).toBe(false);
  });
});
