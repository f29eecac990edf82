import { describe, expect, it } from 'vitest';
import { NO_DEADLINE } from '../../lambdas/core/contracts/deadline.js';
import { isManagedKeyName, managedKeyName, rotationKeyNames } from '../../lambdas/core/keys/key-names.js';
import type {
  ProvisionerKeyDirectory,
  SecretVersionSelector,
  SecretVersionStore,
} from '../../lambdas/core/keys/ports.js';
import { parseCurrentSecret } from '../../lambdas/core/keys/secret.js';
import { makeHandler } from '../../lambdas/handlers/keys-rotation.js';
import {
  createRotationWorld,
  INITIAL_KEY_NAME,
  INITIAL_VERSION,
  ORG,
  PREFIX,
  type RotationWorld,
  runSteps,
} from '../core/keys/support/rotation-fixture.js';

/** A call with no deadline of its own, for the tests' own look at Coder. */
const call = { deadline: NO_DEADLINE };

const TOKEN = '0f1e2d3c-4b5a-4968-8776-655443322110';

/** The Lambda died (or the call failed) at this point. */
class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

type Moment = 'before' | 'after';
interface Crash {
  /** 1-based index of the side effect, counted over the whole rotation including retries. */
  readonly at: number;
  /** `before`: the call failed and had no effect; `after`: it took effect and the Lambda died. */
  readonly moment: Moment;
}

/** Counts every side effect (Coder create/delete, PutSecretValue, UpdateSecretVersionStage) and crashes on cue. */
class SideEffects {
  count = 0;
  readonly log: string[] = [];
  constructor(private readonly crashes: readonly Crash[]) {}

  async run<T>(label: string, effect: () => Promise<T>): Promise<T> {
    this.count += 1;
    const n = this.count;
    this.log.push(label);
    const crash = this.crashes.find((c) => c.at === n);
    if (crash?.moment === 'before') throw new SimulatedCrash(`${label} failed`);
    const result = await effect();
    if (crash?.moment === 'after') throw new SimulatedCrash(`died after ${label}`);
    return result;
  }
}

const crashingSecrets = (real: SecretVersionStore, effects: SideEffects): SecretVersionStore => ({
  describe: (id) => real.describe(id),
  getValue: (id, selector: SecretVersionSelector) => real.getValue(id, selector),
  putPending: (id, token, value) => effects.run('PutSecretValue', () => real.putPending(id, token, value)),
  promote: (id, to, from) => effects.run('UpdateSecretVersionStage', () => real.promote(id, to, from)),
});

const crashingKeys = (real: ProvisionerKeyDirectory, effects: SideEffects): ProvisionerKeyDirectory => ({
  listKeys: (org, call) => real.listKeys(org, call),
  listDaemons: (org, call) => real.listDaemons(org, call),
  identifyKey: (key, call) => real.identifyKey(key, call),
  createKey: (org, request, call) =>
    effects.run(`createKey ${request.name}`, () => real.createKey(org, request, call)),
  deleteKey: (org, name, call) => effects.run(`deleteKey ${name}`, () => real.deleteKey(org, name, call)),
});

/** AWSCURRENT must hold a key Coder accepts, as the name it claims, after every attempt. */
const expectCurrentKeyWorks = async (world: RotationWorld): Promise<string> => {
  const raw = world.model.valueAt(world.secretArn, 'AWSCURRENT') ?? '';
  const current = parseCurrentSecret(raw, 'AWSCURRENT');
  if (current.kind !== 'key') throw new Error('AWSCURRENT holds no key');
  expect(await world.keys.identifyKey(current.value.key, call)).toMatchObject({
    name: current.value.keyName,
  });
  return current.value.keyName;
};

/**
 * Runs a rotation the way Secrets Manager does: the four steps with one token; after a failure
 * it starts again from createSecret with the same token, until the steps all succeed.
 */
const rotateThroughCrashes = async (crashes: readonly Crash[]) => {
  const world = await createRotationWorld();
  const effects = new SideEffects(crashes);
  const handler = makeHandler({
    secrets: crashingSecrets(world.secrets, effects),
    keys: crashingKeys(world.keys, effects),
    log: world.log,
    now: () => new Date('2026-06-10T12:00:00Z'),
    managedPrefix: PREFIX,
  });
  world.model.startRotation(world.secretArn, TOKEN);
  let attempts = 0;
  const errors: Error[] = [];
  for (;;) {
    attempts += 1;
    try {
      await runSteps(handler, world.secretArn, TOKEN);
      break;
    } catch (error) {
      if (!(error instanceof SimulatedCrash)) throw error;
      errors.push(error);
      await expectCurrentKeyWorks(world);
      if (attempts > crashes.length + 1) throw new Error('rotation did not converge');
    }
  }
  world.model.completeRotation(world.secretArn, TOKEN);
  return { world, effects, attempts, errors };
};

const expectConverged = async (world: RotationWorld) => {
  // A retry that finds the name taken uses the next attempt name (`<name>-2`); see createSecret.
  const newName = await expectCurrentKeyWorks(world);
  expect(rotationKeyNames(PREFIX, TOKEN)).toContain(newName);
  expect(world.model.stages(world.secretArn)).toEqual({
    [INITIAL_VERSION]: ['AWSPREVIOUS'],
    [TOKEN]: ['AWSCURRENT'],
  });
  const live = (await world.keys.listKeys(ORG, call)).map((k) => k.name);
  const managed = live.filter((name) => isManagedKeyName(PREFIX, name)).sort();
  expect(managed).toEqual([INITIAL_KEY_NAME, newName].sort());
  expect(managed.length).toBeLessThanOrEqual(2);
  expect(live).toContain('team-key');
  // The previous key still works: the daemon on it was not cut off.
  expect(await world.keys.identifyKey(world.initialKey, call)).toMatchObject({ name: INITIAL_KEY_NAME });
  const logged = world.log.text();
  for (const secret of world.plaintexts()) expect(logged).not.toContain(secret);
};

// A clean run's side effects: createKey, PutSecretValue, UpdateSecretVersionStage, deleteKey (the abandoned key).
const clean = await (async () => {
  const run = await rotateThroughCrashes([]);
  await run.world.close();
  return run.effects.log;
})();

describe('rotation crash matrix', () => {
  it('a clean run has the side effects the matrix walks', () => {
    expect(clean).toEqual([
      `createKey ${managedKeyName(PREFIX, TOKEN)}`,
      'PutSecretValue',
      'UpdateSecretVersionStage',
      `deleteKey ${PREFIX}-abandoned`,
    ]);
  });

  const singles = clean.flatMap((label, i) =>
    (['before', 'after'] as const).map((moment) => ({ label, moment, crashes: [{ at: i + 1, moment }] })),
  );
  it.each(singles)('$moment $label: a retry converges', async ({ crashes }) => {
    const { world, errors } = await rotateThroughCrashes(crashes);
    try {
      expect(errors).toHaveLength(1);
      await expectConverged(world);
    } finally {
      await world.close();
    }
  });

  it('Coder key created but PutSecretValue failed: the retry takes the next name; the prune deletes the orphan', async () => {
    const { world, effects } = await rotateThroughCrashes([{ at: 2, moment: 'before' }]);
    try {
      const [name, retryName] = rotationKeyNames(PREFIX, TOKEN);
      expect(effects.log).toEqual([
        `createKey ${name}`,
        'PutSecretValue',
        `createKey ${name}`,
        `createKey ${retryName}`,
        'PutSecretValue',
        'UpdateSecretVersionStage',
        `deleteKey ${PREFIX}-abandoned`,
        `deleteKey ${name}`,
      ]);
      expect(world.log.text()).toContain('key name taken by an earlier or concurrent attempt');
      await expectConverged(world);
    } finally {
      await world.close();
    }
  });

  // Crashes in the retries themselves: after the first crash, crash again at each later side effect.
  const doubles = [1, 2].flatMap((first) =>
    [1, 2, 3, 4].flatMap((later) =>
      (['before', 'after'] as const).map((moment) => ({
        name: `after effect ${first}, then ${moment} the retry's effect ${later}`,
        crashes: [
          { at: first, moment: 'after' as const },
          { at: first + later, moment },
        ],
      })),
    ),
  );
  it.each(doubles)('$name: converges', async ({ crashes }) => {
    const { world } = await rotateThroughCrashes(crashes);
    try {
      await expectConverged(world);
    } finally {
      await world.close();
    }
  });
});
