import { describe, expect, it } from 'vitest';
import { authorizeCommand } from '../../src/domain/authorization';

const RELEASE_ROLE = 'arn:aws:iam::111122223333:role/release';
const RELEASE_SESSION = 'arn:aws:sts::111122223333:assumed-role/release/jane';
const OPS_SESSION = 'arn:aws:sts::111122223333:assumed-role/ops/bob';
const USER = 'arn:aws:iam::111122223333:user/carol';

describe('authorizeCommand', () => {
  it('refuses everyone when the group has no authorization config (deny by default)', () => {
    expect(authorizeCommand(undefined, 'abort', 'arn:aws:iam::111122223333:user/intern')).toEqual({
      allowed: false,
      reason: 'arn:aws:iam::111122223333:user/intern is not authorized to abort',
    });
  });

  it('allows everything when the group says `open`', () => {
    expect(authorizeCommand('open', 'rollback', USER)).toEqual({ allowed: true });
  });

  const config = {
    promote: [RELEASE_ROLE],
    pause: ['arn:aws:sts::111122223333:assumed-role/*/*'],
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

  describe('`*` matches within one ARN segment: never across `/` or `:`', () => {
    const A = '111122223333';
    it.each([
      [
        'a session of role ops',
        `arn:aws:sts::${A}:assumed-role/ops/*`,
        `arn:aws:sts::${A}:assumed-role/ops/bob`,
        true,
      ],
      [
        'a session of role ops-evil for a pattern meant for role ops',
        `arn:aws:sts::${A}:assumed-role/ops*`,
        `arn:aws:sts::${A}:assumed-role/ops-evil/mallory`,
        false,
      ],
      [
        'a session of role ops-evil for the sessions of ops',
        `arn:aws:sts::${A}:assumed-role/ops/*`,
        `arn:aws:sts::${A}:assumed-role/ops-evil/mallory`,
        false,
      ],
      // a role-name prefix is what `role/ops*` says: roles ops-admin and ops-evil, and their sessions
      [
        'a session of ops-admin for role/ops*',
        `arn:aws:iam::${A}:role/ops*`,
        `arn:aws:sts::${A}:assumed-role/ops-admin/bob`,
        true,
      ],
      [
        'a role under a path for role/ops*',
        `arn:aws:iam::${A}:role/ops*`,
        `arn:aws:iam::${A}:role/ops/evil`,
        false,
      ],
      ['a user for user/*', `arn:aws:iam::${A}:user/*`, `arn:aws:iam::${A}:user/jane.doe`, true],
      [
        'a user under a path for user/*',
        `arn:aws:iam::${A}:user/*`,
        `arn:aws:iam::${A}:user/team/jane`,
        false,
      ],
      [
        'anything in the account for a trailing *',
        `arn:aws:iam::${A}:*`,
        `arn:aws:iam::${A}:user/jane`,
        false,
      ],
      [
        'the same role in any account',
        'arn:aws:iam::*:role/release',
        'arn:aws:sts::999999999999:assumed-role/release/x',
        true,
      ],
      [
        'a service name for a * in the service segment',
        'arn:aws:*::111122223333:role/release',
        `arn:aws:iam::${A}:role/release`,
        true,
      ],
    ] as const)('%s', (_, pattern, principal, allowed) => {
      expect(authorizeCommand({ pause: [pattern] }, 'pause', principal).allowed).toBe(allowed);
    });
  });
});
