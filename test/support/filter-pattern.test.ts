/**
 * The evaluator against the examples of AWS's own page (FilterAndPatternSyntax.md in
 * awsdocs/amazon-cloudwatch-logs-user-guide; "Filter pattern syntax for metric filters,
 * subscription filters, filter log events, and Live Tail" on docs.aws.amazon.com): what AWS says
 * matches must match here, and what it says does not must not.
 */
import { describe, expect, it } from 'vitest';
import { matchesFilterPattern, UnsupportedPatternError } from './filter-pattern.js';

describe('CloudWatch Logs filter patterns, as AWS documents them', () => {
  it.each([
    ['""', 'anything at all', true],
    ['', 'anything at all', true],
    ['ERROR', '[ERROR] A fatal exception has occurred', true],
    ['ERROR', 'Exiting with ERRORCODE: -1', true],
    ['ERROR', 'error in lower case', false],
    ['ERROR Exception', '[ERROR] Caught IllegalArgumentException', true],
    ['ERROR Exception', '[ERROR] Unhandled Exception', true],
    ['ERROR Exception', '[ERROR] A fatal problem', false],
    ['"ERROR WARN"', 'ERROR WARN message', true],
    ['"ERROR WARN"', 'WARN ERROR message', false],
  ])('unstructured %s on %j: %s', (pattern, message, matched) => {
    // `""` is the page's "match everything" pattern: an empty quoted term is in every text.
    expect(matchesFilterPattern(pattern, message)).toBe(matched);
  });

  const cloudTrailLike = JSON.stringify({
    eventType: 'UpdateTrail',
    sourceIPAddress: '111.111.111.111',
    arrayKey: ['value', 'another value'],
    objectList: [
      { name: 'a', id: 1 },
      { name: 'b', id: 2 },
    ],
    SomeObject: null,
    ThisFlag: true,
  });
  const users = JSON.stringify({
    user: { id: 1, email: 'John.Stiles@example.com' },
    users: [
      { id: 2, email: 'John.Doe@example.com' },
      { id: 3, email: 'Jane.Doe@example.com' },
    ],
    actions: ['GET', 'PUT', 'DELETE'],
    coordinates: [
      [0, 1, 2],
      [4, 5, 6],
      [7, 8, 9],
    ],
  });

  it.each([
    ['{ $.eventType = "UpdateTrail" }', cloudTrailLike, true],
    ['{ $.sourceIPAddress != 123.123.* }', cloudTrailLike, true],
    ['{ $.sourceIPAddress = 111.* }', cloudTrailLike, true],
    ['{ $.eventType = *Trail }', cloudTrailLike, true],
    ['{ $.eventType = Up*ail }', cloudTrailLike, false],
    ['{ $.arrayKey[0] = "value" }', cloudTrailLike, true],
    ['{ $.objectList[1].id = 2 }', cloudTrailLike, true],
    ['{ $.users = 1 }', JSON.stringify({ users: [1, 2, 3] }), false],
    ['{ $.users != 1 }', JSON.stringify({ users: [1, 2, 3] }), false],
    ['{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', users, true],
    ['{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', users, false],
    [
      '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
      users,
      true,
    ],
    [
      '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }',
      users,
      false,
    ],
    ['{ $.foo = bar || $.foo = baz }', '{"foo": "baz"}', true],
    ['{ $.eventType = "UpdateTrail" }', 'not json at all', false],
  ])('JSON %s: %s', (pattern, message, matched) => {
    expect(matchesFilterPattern(pattern, message)).toBe(matched);
  });

  it.each([
    '?ERROR ?WARN',
    'ERROR -Exiting',
    '[ip, user]',
    '{ $.latency >= 500 }',
    '{ $.x IS NULL }',
    '%ERR.R%',
  ])('refuses what it does not implement: %s', (pattern) => {
    expect(() => matchesFilterPattern(pattern, 'x')).toThrow(UnsupportedPatternError);
  });
});
