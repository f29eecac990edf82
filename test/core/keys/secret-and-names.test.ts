import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { provisionerKeyRotationConfigSchema } from '../../../lambdas/core/keys/config.js';
import {
  deploymentKeyPrefix,
  isManagedKeyName,
  LEGACY_MANAGED_PREFIX,
  managedKeyName,
  ownRotationKeyNames,
  resolveManagedPrefix,
} from '../../../lambdas/core/keys/key-names.js';
import { parseCurrentSecret, parseKeySecret } from '../../../lambdas/core/keys/secret.js';

describe('managedKeyName', () => {
  it('is <prefix>-<token> for a UUID token', () => {
    expect(managedKeyName('cfc-rot', 'A1B2C3D4-0000-4000-8000-000000000001')).toBe(
      'cfc-rot-a1b2c3d4-0000-4000-8000-000000000001',
    );
  });

  it('is deterministic, managed, at most 64 characters and never a reserved name, for any token', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.constantFrom('cfc-rot', 'a', 'x'.repeat(27)),
        (t, p) => {
          const name = managedKeyName(p, t);
          expect(name).toBe(managedKeyName(p, t));
          expect(name.length).toBeLessThanOrEqual(64);
          expect(isManagedKeyName(p, name)).toBe(true);
          expect(['built-in', 'user-auth', 'psk']).not.toContain(name.toLowerCase());
        },
      ),
    );
  });

  it('hashes tokens that are too long or carry odd characters', () => {
    expect(managedKeyName('cfc-rot', 'a/b c')).toMatch(/^cfc-rot-h[0-9a-f]+$/);
    expect(managedKeyName('cfc-rot', 'x'.repeat(60))).toMatch(/^cfc-rot-h[0-9a-f]{55}$/);
  });
});

describe('secret values', () => {
  const full = {
    organization: 'coder',
    keyName: 'cfc-rot-a',
    key: 'k'.repeat(43),
    tags: {},
    createdAt: '2026-06-10T12:00:00Z',
  };

  it('parses a key, and the bootstrap value the construct writes', () => {
    expect(parseCurrentSecret(JSON.stringify(full), 'AWSCURRENT')).toEqual({ kind: 'key', value: full });
    expect(parseCurrentSecret('{"organization":"coder"}', 'AWSCURRENT')).toEqual({
      kind: 'bootstrap',
      value: { organization: 'coder', tags: {} },
    });
  });

  it('names the bad fields and never repeats the value', () => {
    const bad = JSON.stringify({ ...full, keyName: 7 });
    expect(() => parseKeySecret(bad, 'Secret s (AWSPENDING)')).toThrow(
      'Secret s (AWSPENDING) is missing or has invalid fields: keyName.',
    );
    expect(() => parseCurrentSecret(JSON.stringify({ ...full, createdAt: 'yesterday' }), 'x')).toThrow(
      /createdAt/,
    );
    try {
      parseCurrentSecret(JSON.stringify({ ...full, createdAt: 'yesterday' }), 'x');
    } catch (error) {
      expect((error as Error).message).not.toContain(full.key);
    }
    expect(() => parseKeySecret(`{"key":"${full.key}"`, 'x')).toThrow('x is not valid JSON');
  });
});

describe('rotation config', () => {
  it('fills the defaults', () => {
    expect(provisionerKeyRotationConfigSchema.parse({ organization: 'coder' })).toEqual({
      organization: 'coder',
      keyTags: {},
      rotationIntervalDays: 30,
      maxKeyAgeDays: 90,
      alertLeadDays: 14,
      oldKeyGraceHours: 24,
      oldKeyInUseAlarmHours: 72,
    });
  });

  it("defaults the managed prefix to the deployment's own, from the key secret's ARN (issue 19)", () => {
    // Prepare: staging and production in one Coder organization, stacks of the same name.
    const staging = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:ProvisionerKeySecretA1B2-Xy12Ab';
    const production = 'arn:aws:secretsmanager:us-east-1:222222222222:secret:ProvisionerKeySecretA1B2-Qr34Cd';
    const config = provisionerKeyRotationConfigSchema.parse({ organization: 'coder' });

    // Act
    const prefixes = [staging, production].map((arn) => resolveManagedPrefix(config.managedPrefix, arn));

    // Assess: distinct, stable, and a prefix the schema would accept if written out.
    expect(prefixes[0]).not.toBe(prefixes[1]);
    expect(prefixes[0]).toBe(deploymentKeyPrefix(staging));
    for (const prefix of prefixes) {
      expect(prefix).toMatch(/^cfc-[0-9a-f]{8}$/);
      expect(prefix).not.toBe(LEGACY_MANAGED_PREFIX);
      expect(
        provisionerKeyRotationConfigSchema.parse({ organization: 'c', managedPrefix: prefix }).managedPrefix,
      ).toBe(prefix);
    }
    expect(resolveManagedPrefix('team-keys', staging)).toBe('team-keys');
  });

  it("names a rotation's keys under its own prefix, and also knows a rotation begun under the legacy one", () => {
    const names = ownRotationKeyNames('cfc-0a1b2c3d', 'tok-1');
    expect(names[0]).toBe('cfc-0a1b2c3d-tok-1');
    expect(names).toContain('cfc-rot-tok-1');
    expect(
      ownRotationKeyNames(LEGACY_MANAGED_PREFIX, 'tok-1').filter((n) => n === 'cfc-rot-tok-1'),
    ).toHaveLength(1);
  });

  it('refuses an interval that would let the key-age alarm fire before each rotation', () => {
    const result = provisionerKeyRotationConfigSchema.safeParse({
      organization: 'c',
      rotationIntervalDays: 80,
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['rotationIntervalDays']);
  });
});
