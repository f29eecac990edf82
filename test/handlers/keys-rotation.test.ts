import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_DEADLINE } from '../../lambdas/core/contracts/deadline.js';
import { managedKeyName } from '../../lambdas/core/keys/key-names.js';
import { RotationError } from '../../lambdas/core/keys/rotation-gate.js';
import { parseKeySecret } from '../../lambdas/core/keys/secret.js';
import { makeHandler } from '../../lambdas/handlers/keys-rotation.js';
import { DISAGREEING_PROFILE_NAMES, SUPPORTED_PROFILES } from '../../sim/index.js';
import {
  createRotationWorld,
  INITIAL_KEY_NAME,
  INITIAL_VERSION,
  ORG,
  PREFIX,
  type RotationWorld,
  runSteps,
  TAGS,
} from '../core/keys/support/rotation-fixture.js';

/** A call with no deadline of its own, for the tests' own look at Coder. */
const call = { deadline: NO_DEADLINE };

/**
 * Every supported release, and the builds whose answers disagree with the release table (a v2.26
 * without coder/coder#19378's `offline`, a build of main): the client learns from the answer.
 */
const PROFILES = [...SUPPORTED_PROFILES, ...DISAGREEING_PROFILE_NAMES];

const TOKEN = '7d3c1f2e-5a6b-4c8d-9e0f-112233445566';
const NOW = new Date('2026-06-10T12:00:00Z');

describe.each(PROFILES)(
  'provisioner key rotation handler, over the Coder simulator at %s and a Secrets Manager model',
  (coderVersion) => {
    let world: RotationWorld;
    let handler: ReturnType<typeof makeHandler>;

    beforeEach(async () => {
      world = await createRotationWorld(coderVersion);
      handler = makeHandler({
        secrets: world.secrets,
        keys: world.keys,
        log: world.log,
        now: () => NOW,
        managedPrefix: PREFIX,
      });
    });
    afterEach(() => world.close());

    const valueAt = (stage: string) => {
      const raw = world.model.valueAt(world.secretArn, stage);
      if (raw === undefined) throw new Error(`no ${stage}`);
      return parseKeySecret(raw, stage);
    };
    const liveKeyNames = async () => (await world.keys.listKeys(ORG, call)).map((k) => k.name).sort();

    it('walks a full rotation: Coder keeps the new and the previous key; AWSCURRENT is new, AWSPREVIOUS old', async () => {
      // Prepare
      world.model.startRotation(world.secretArn, TOKEN);

      // Act
      await runSteps(handler, world.secretArn, TOKEN);
      world.model.completeRotation(world.secretArn, TOKEN);

      // Assess
      const newName = managedKeyName(PREFIX, TOKEN);
      expect(newName).toBe(`cfc-rot-${TOKEN}`);
      expect(world.model.stages(world.secretArn)).toEqual({
        [INITIAL_VERSION]: ['AWSPREVIOUS'],
        [TOKEN]: ['AWSCURRENT'],
      });
      const current = valueAt('AWSCURRENT');
      expect(current).toMatchObject({
        organization: ORG,
        keyName: newName,
        tags: TAGS,
        createdAt: NOW.toISOString(),
      });
      expect(current.key).toHaveLength(43);
      expect(valueAt('AWSPREVIOUS').keyName).toBe(INITIAL_KEY_NAME);
      // The abandoned managed key is gone; the previous key and the key we did not create stay.
      expect(await liveKeyNames()).toEqual([INITIAL_KEY_NAME, newName, 'team-key'].sort());
      expect((await world.keys.listKeys(ORG, call)).find((k) => k.name === newName)?.tags).toEqual(TAGS);
      // Both keys work: the daemon on the old one is not cut off; the new one is ready for the next.
      expect(await world.keys.identifyKey(current.key, call)).toMatchObject({ name: newName });
      expect(await world.keys.identifyKey(world.initialKey, call)).toMatchObject({ name: INITIAL_KEY_NAME });
    });

    it('never logs a key or the Coder token, across a full rotation', async () => {
      world.model.startRotation(world.secretArn, TOKEN);
      await runSteps(handler, world.secretArn, TOKEN);

      const logged = world.log.text();
      expect(logged).toContain('setSecret: nothing to set');
      expect(logged).toContain(managedKeyName(PREFIX, TOKEN));
      const secrets = world.plaintexts();
      expect(secrets).toContain(valueAt('AWSCURRENT').key);
      expect(secrets).toContain(world.initialKey);
      expect(secrets).toContain(world.sim.adminToken);
      for (const secret of secrets) expect(logged).not.toContain(secret);
      // Nor did any key travel in a URL.
      for (const exchange of world.sim.exchanges()) {
        for (const secret of secrets)
          expect(JSON.stringify(exchange)).not.toMatch(new RegExp(`/[^"]*${secret}`));
      }
    });

    it('a second rotation deletes the key from two rotations ago once no daemon uses it', async () => {
      world.model.startRotation(world.secretArn, TOKEN);
      await runSteps(handler, world.secretArn, TOKEN);
      world.model.completeRotation(world.secretArn, TOKEN);
      world.sim.seed.removeProvisionerDaemon('prov-0');
      const second = 'a9b8c7d6-0000-4000-8000-000000000002';

      world.model.startRotation(world.secretArn, second);
      await runSteps(handler, world.secretArn, second);
      world.model.completeRotation(world.secretArn, second);

      expect(await liveKeyNames()).toEqual(
        [managedKeyName(PREFIX, TOKEN), managedKeyName(PREFIX, second), 'team-key'].sort(),
      );
      expect(valueAt('AWSPREVIOUS').keyName).toBe(managedKeyName(PREFIX, TOKEN));
    });

    it('keeps a key from two rotations ago while a daemon is still connected with it', async () => {
      world.model.startRotation(world.secretArn, TOKEN);
      await runSteps(handler, world.secretArn, TOKEN);
      world.model.completeRotation(world.secretArn, TOKEN);
      const second = 'a9b8c7d6-0000-4000-8000-000000000002';

      world.model.startRotation(world.secretArn, second);
      await runSteps(handler, world.secretArn, second);

      expect(await liveKeyNames()).toContain(INITIAL_KEY_NAME);
      expect(world.log.text()).toMatch(
        /Keeping provisioner key.*cfc-rot-initial.*daemon\(s\) are still connected/,
      );
    });

    it('a pending key that Coder no longer accepts fails testSecret and leaves AWSCURRENT untouched', async () => {
      world.model.startRotation(world.secretArn, TOKEN);
      await handler({ Step: 'createSecret', SecretId: world.secretArn, ClientRequestToken: TOKEN });
      await handler({ Step: 'setSecret', SecretId: world.secretArn, ClientRequestToken: TOKEN });
      await world.keys.deleteKey(ORG, managedKeyName(PREFIX, TOKEN), call);

      const failure = handler({ Step: 'testSecret', SecretId: world.secretArn, ClientRequestToken: TOKEN });

      await expect(failure).rejects.toBeInstanceOf(RotationError);
      await expect(failure).rejects.toThrow(
        /does not accept the pending provisioner key .* AWSCURRENT is unchanged/,
      );
      expect(world.model.versionWith(world.secretArn, 'AWSCURRENT')).toBe(INITIAL_VERSION);
      expect(valueAt('AWSCURRENT').key).toBe(world.initialKey);
      const message = await failure.catch((e: Error) => e.message);
      for (const secret of world.plaintexts()) expect(message).not.toContain(secret);
    });

    it('a pending value holding some other working key fails testSecret', async () => {
      world.model.startRotation(world.secretArn, TOKEN);
      const pending = {
        organization: ORG,
        keyName: managedKeyName(PREFIX, TOKEN),
        key: world.initialKey,
        tags: TAGS,
        createdAt: NOW.toISOString(),
      };
      await world.secrets.putPending(world.secretArn, TOKEN, JSON.stringify(pending));

      await expect(
        handler({ Step: 'testSecret', SecretId: world.secretArn, ClientRequestToken: TOKEN }),
      ).rejects.toThrow(/authenticates as provisioner key "cfc-rot-initial", expected "cfc-rot-7d3c1f2e/);
      expect(world.model.versionWith(world.secretArn, 'AWSCURRENT')).toBe(INITIAL_VERSION);
    });

    it('refuses events it must not act on, as AWS documents', async () => {
      const event = (overrides: Record<string, unknown>) => ({
        Step: 'createSecret',
        SecretId: world.secretArn,
        ClientRequestToken: TOKEN,
        ...overrides,
      });
      await expect(handler({ Step: 'createSecret' })).rejects.toThrow(/SecretId, ClientRequestToken/);
      await expect(handler(event({ Step: 'dropSecret' }))).rejects.toThrow(/Step/);
      await expect(handler(event({}))).rejects.toThrow(/has no version/);
      world.model.startRotation(world.secretArn, TOKEN);
      world.model.setRotationEnabled(world.secretArn, false);
      await expect(handler(event({}))).rejects.toThrow(/does not have rotation enabled/);
      world.model.setRotationEnabled(world.secretArn, true);
      await expect(handler(event({ ClientRequestToken: INITIAL_VERSION }))).resolves.toMatchObject({
        outcome: 'already_current',
      });
      world.model.completeRotation(world.secretArn, TOKEN);
    });

    it('refuses a version that is neither current nor pending', async () => {
      world.model.startRotation(world.secretArn, TOKEN);
      await runSteps(handler, world.secretArn, TOKEN);
      world.model.completeRotation(world.secretArn, TOKEN);

      await expect(
        handler({ Step: 'finishSecret', SecretId: world.secretArn, ClientRequestToken: INITIAL_VERSION }),
      ).rejects.toThrow(/is not AWSPENDING/);
    });

    it('makes the first key from the bootstrap value the construct writes', async () => {
      const arn = world.model.createSecret(
        'coder/bootstrap',
        JSON.stringify({ organization: ORG, tags: { scope: 'organization' } }),
        'v-boot',
      );
      world.model.startRotation(arn, TOKEN);

      await runSteps(handler, arn, TOKEN);
      world.model.completeRotation(arn, TOKEN);

      const raw = world.model.valueAt(arn, 'AWSCURRENT') ?? '';
      const first = parseKeySecret(raw, 'AWSCURRENT');
      expect(first.keyName).toBe(managedKeyName(PREFIX, TOKEN));
      expect(await world.keys.identifyKey(first.key, call)).toMatchObject({ name: first.keyName });
      expect(world.model.stages(arn)).toEqual({ 'v-boot': ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT'] });
    });
  },
);
