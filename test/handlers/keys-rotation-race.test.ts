/**
 * Two createSecret calls with the same token at once (Secrets Manager retrying while the first
 * invocation still runs, or an operator's rotate-secret racing the schedule). Whatever the
 * interleaving, the pending version must hold a key Coder accepts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_DEADLINE } from '../../lambdas/core/contracts/deadline.js';
import type { ProvisionerKeyDirectory, SecretVersionStore } from '../../lambdas/core/keys/ports.js';
import { makeHandler } from '../../lambdas/handlers/keys-rotation.js';
import { createRotationWorld, PREFIX, type RotationWorld } from '../core/keys/support/rotation-fixture.js';

/** A call with no deadline of its own, for the tests' own look at Coder. */
const call = { deadline: NO_DEADLINE };

const TOKEN = '5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b';
const NOW = new Date('2026-06-10T12:00:00Z');

const signal = () => {
  let fire = () => {};
  const fired = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { fire, fired };
};

/** Holds each call of `target` until `until()` resolves, when `when()` says so. */
const gated = <T extends object>(
  target: T,
  when: (method: string) => boolean,
  until: () => Promise<void>,
): T =>
  new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (when(String(prop))) await until();
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });

describe('two concurrent createSecret calls with the same token', () => {
  let world: RotationWorld;
  beforeEach(async () => {
    world = await createRotationWorld();
    world.model.startRotation(world.secretArn, TOKEN);
  });
  afterEach(() => world.close());

  const handlerWith = (secrets: SecretVersionStore, keys: ProvisionerKeyDirectory) =>
    makeHandler({ secrets, keys, log: world.log, now: () => NOW, managedPrefix: PREFIX });
  const createSecret = { Step: 'createSecret', SecretId: '', ClientRequestToken: TOKEN };

  const pendingKeyWorks = async () => {
    const raw = world.model.valueAt(world.secretArn, 'AWSPENDING');
    expect(raw).toBeDefined();
    const pending = JSON.parse(raw ?? '{}') as { key: string; keyName: string };
    expect(await world.keys.identifyKey(pending.key, call)).toMatchObject({ name: pending.keyName });
  };

  it.each([
    ['the first stores its key before the second goes on', 'first-stores'],
    ['the second goes on before the first stores its key', 'second-first'],
  ] as const)('%s: both succeed and the pending key authenticates', async (_, order) => {
    // Prepare: A creates its key; B finds the name taken; then the order under test.
    const aCreated = signal();
    const bSawTaken = signal();
    const aStored = signal();
    const bDone = signal();
    let bCreates = 0;
    const aKeys = gated(
      world.keys,
      () => false,
      async () => {},
    );
    const aSecrets = gated(
      world.secrets,
      (m) => m === 'putPending',
      async () => {
        aCreated.fire();
        await (order === 'first-stores' ? bSawTaken.fired : bDone.fired);
      },
    );
    const bKeys = gated(
      world.keys,
      (m) => m !== 'createKey' || bCreates++ > 0,
      async () => {
        if (order === 'first-stores') await aStored.fired;
      },
    );
    const bKeysObserved = gated(
      bKeys,
      (m) => m === 'createKey',
      async () => {
        await aCreated.fired;
      },
    );
    const a = handlerWith(aSecrets, aKeys);
    const b = handlerWith(world.secrets, {
      ...bKeysObserved,
      listKeys: (o, c) => bKeysObserved.listKeys(o, c),
      listDaemons: (o, c) => bKeysObserved.listDaemons(o, c),
      identifyKey: (k, c) => bKeysObserved.identifyKey(k, c),
      deleteKey: (o, n, c) => bKeysObserved.deleteKey(o, n, c),
      createKey: async (o, r, c) => {
        const result = await bKeysObserved.createKey(o, r, c);
        if (result.outcome === 'name_taken') bSawTaken.fire();
        return result;
      },
    });
    const event = { ...createSecret, SecretId: world.secretArn };

    // Act
    const first = a(event).finally(() => aStored.fire());
    const second = b(event).finally(() => bDone.fire());
    const outcomes = await Promise.allSettled([first, second]);

    // Assess
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    await pendingKeyWorks();
  });
});
