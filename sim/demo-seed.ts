/** A small, realistic fleet for trying the CLI and the demo against the simulator by hand. */
import type { SimulatorSeeder } from './types.js';

export function seedDemoFleet(seed: SimulatorSeeder): void {
  seed.organization({ name: 'research' });
  seed.template({
    name: 'docker',
    displayName: 'Docker workspace',
    parameters: [
      {
        name: 'region',
        displayName: 'Region',
        defaultValue: 'eu-west-1',
        options: [
          { name: 'Ireland', value: 'eu-west-1' },
          { name: 'Virginia', value: 'us-east-1' },
        ],
      },
      {
        name: 'cpu',
        displayName: 'CPU cores',
        type: 'number',
        defaultValue: '2',
        validationMin: 1,
        validationMax: 16,
      },
      { name: 'family', displayName: 'Workspace family', defaultValue: '' },
    ],
  });
  seed.template({ name: 'kubernetes', displayName: 'Kubernetes pod', defaultTtlMs: 8 * 3_600_000 });
  seed.user({ username: 'platform', roles: ['template-admin'] });
  const people = ['alice', 'bob', 'carol', 'dave'];
  for (const name of people) seed.user({ username: name });
  people.forEach((owner, i) => {
    seed.workspace({ owner, name: 'dev', template: 'docker', parameters: { family: 'backend' } });
    seed.workspace({
      owner,
      name: 'nightly',
      template: 'kubernetes',
      status: 'stopped',
      autostartSchedule: `CRON_TZ=Europe/London ${10 * i} 8 * * 1-5`,
    });
  });
  seed.provisionerKey({ name: 'eks-pool-a', tags: { pool: 'a' } });
  seed.provisionerDaemon({ name: 'provisioner-a-0', keyName: 'eks-pool-a' });
  seed.provisionerDaemon({ name: 'provisioner-a-1', keyName: 'eks-pool-a', status: 'busy' });
}
