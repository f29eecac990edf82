/**
 * schema/config.schema.json, the JSON Schema an editor checks a configuration file with, against
 * the zod schema it is generated from: the committed file is what the generator makes now, and the
 * two accept and reject the same configurations, except for the checks JSON Schema cannot express
 * (listed below, so a change on either side shows here).
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { seed004ControllerConfig } from '../../config/seed-004.js';
import { controllerConfigSchema } from '../../lib/config.js';
import { CONFIG_SCHEMA_FILE, configJsonSchemaText } from '../../scripts/config-schema.js';

const committed = readFileSync(CONFIG_SCHEMA_FILE, 'utf8');
// Strict mode: an unknown keyword or an ambiguous type in the generated schema is an error.
const ajv = new Ajv({ allErrors: true, strict: true });
ajvFormats.default(ajv);
const validate = ajv.compile(JSON.parse(committed) as object);

const jsonSchemaAccepts = (config: unknown): boolean => validate(config);
const zodAccepts = (config: unknown): boolean => controllerConfigSchema.safeParse(config).success;

const coder = { url: 'https://coder.example.com' };
const keysOnly = { coder, provisionerKeys: { organization: 'default' } };
const workspacesGroup = {
  name: 'ws',
  kind: 'eks-managed',
  nodegroupName: 'ws',
  role: { kind: 'workspaces', workspacesPerNode: 10 },
  profiles: { peak: { minSize: 2, maxSize: 20 }, 'off-hours': { minSize: 0, maxSize: 5 } },
};
const scaling = { clusterName: 'coder', nodeGroups: [workspacesGroup] };
const referenceFile: unknown = JSON.parse(readFileSync('config/seed-004.json', 'utf8'));

/** Configurations both must accept. */
const good: [string, unknown][] = [
  ['the smallest: key rotation only', keysOnly],
  ['the reference deployment, as config/seed-004.json (with its $schema)', referenceFile],
  ['the reference deployment, as the typed example', JSON.parse(JSON.stringify(seed004ControllerConfig))],
  ['families only, defaults everywhere else', { coder, families: { templates: ['kubernetes-multi'] } }],
  [
    'scaling an Auto Scaling group, with a schedule',
    {
      coder: { ...coder, requestsPerMinute: 200 },
      scaling: {
        clusterName: 'coder',
        nodeGroups: [
          {
            name: 'prov',
            kind: 'auto-scaling-group',
            autoScalingGroupName: 'coder-prov-asg',
            role: { kind: 'provisioners' },
            profiles: { peak: { minSize: 1, maxSize: 4 }, quiet: { minSize: 0, maxSize: 1 } },
          },
        ],
        schedule: {
          timeZone: 'Europe/Berlin',
          weekdayTransitions: [
            { at: '08:00', profile: 'peak' },
            { at: '19:30', profile: 'quiet' },
          ],
          nonWorkingDayProfile: 'quiet',
        },
      },
    },
  ],
  [
    'alarms with per-severity subscriptions',
    {
      ...keysOnly,
      alarms: {
        emails: ['oncall@example.com'],
        subscriptions: { critical: { https: ['https://pager.example.com/hook'] } },
        lambdaErrors: 3,
      },
    },
  ],
  [
    'every capability, with an existing token secret and an audit log group',
    {
      $schema: './node_modules/coder-fleet-controller/schema/config.schema.json',
      coder: {
        ...coder,
        tokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:coder-token-AbCdEf',
        auditLogGroupName: '/eks/coder/coderd',
      },
      scaling,
      families: { templates: ['docker'], removalPolicy: 'stop', maxChildren: 5 },
      provisionerKeys: { organization: 'default', rotationIntervalDays: 7 },
    },
  ],
];

/** Configurations both must reject, each for one reason. */
const bad: [string, unknown][] = [
  ['not an object', []],
  ['no coder section', { provisionerKeys: { organization: 'default' } }],
  ['coder.url missing', { coder: {}, provisionerKeys: { organization: 'default' } }],
  ['coder.url not a string', { coder: { url: 42 }, provisionerKeys: { organization: 'default' } }],
  ['an unknown top-level key (a typo)', { ...keysOnly, scalling: scaling }],
  [
    'an unknown key in coder',
    { coder: { ...coder, token: 'x' }, provisionerKeys: { organization: 'default' } },
  ],
  ['$schema not a string', { ...keysOnly, $schema: true }],
  ['requestsPerMinute 0', { ...keysOnly, coder: { ...coder, requestsPerMinute: 0 } }],
  ['requestsPerMinute not an integer', { ...keysOnly, coder: { ...coder, requestsPerMinute: 1.5 } }],
  ['tokenSecretArn not a secret ARN', { ...keysOnly, coder: { ...coder, tokenSecretArn: 'coder-token' } }],
  ['an alarm email that is not one', { ...keysOnly, alarms: { emails: ['oncall'] } }],
  ['an unknown severity', { ...keysOnly, alarms: { subscriptions: { urgent: { emails: [] } } } }],
  ['belowFloorChecks above its maximum', { ...keysOnly, alarms: { belowFloorChecks: 97 } }],
  ['scaling without node groups', { coder, scaling: { clusterName: 'coder', nodeGroups: [] } }],
  [
    'a node group of an unknown kind',
    { coder, scaling: { ...scaling, nodeGroups: [{ ...workspacesGroup, kind: 'karpenter' }] } },
  ],
  [
    'a workspaces group without workspacesPerNode',
    { coder, scaling: { ...scaling, nodeGroups: [{ ...workspacesGroup, role: { kind: 'workspaces' } }] } },
  ],
  [
    'a negative minSize',
    {
      coder,
      scaling: {
        ...scaling,
        nodeGroups: [{ ...workspacesGroup, profiles: { peak: { minSize: -1, maxSize: 3 } } }],
      },
    },
  ],
  [
    'a profile name with capitals',
    {
      coder,
      scaling: {
        ...scaling,
        nodeGroups: [{ ...workspacesGroup, profiles: { Peak: { minSize: 1, maxSize: 3 } } }],
      },
    },
  ],
  [
    'a transition not HH:MM',
    { coder, scaling: { ...scaling, schedule: { weekdayTransitions: [{ at: '7am', profile: 'peak' }] } } },
  ],
  ['families without templates', { coder, families: {} }],
  ['an unknown removal policy', { coder, families: { templates: ['docker'], removalPolicy: 'archive' } }],
  ['provisionerKeys without organization', { coder, provisionerKeys: {} }],
  [
    'rotationIntervalDays as a string',
    { coder, provisionerKeys: { organization: 'default', rotationIntervalDays: '30' } },
  ],
];

/**
 * What only zod checks, at synth: refinements JSON Schema cannot express. The editor accepts these;
 * `cdk synth` names the field.
 */
const zodOnly: [string, unknown][] = [
  ['coder.url over plain http to a remote host', { ...keysOnly, coder: { url: 'http://coder.example.com' } }],
  ['coder.url with credentials', { ...keysOnly, coder: { url: 'https://u:p@coder.example.com' } }],
  ['no capability configured', { coder }],
  [
    'a pager endpoint over http',
    { ...keysOnly, alarms: { subscriptions: { high: { https: ['http://pager.example.com'] } } } },
  ],
  [
    'a time zone that does not exist',
    { coder, scaling: { ...scaling, schedule: { timeZone: 'Mars/Olympus_Mons' } } },
  ],
  [
    'two transitions at the same time',
    {
      coder,
      scaling: {
        ...scaling,
        schedule: {
          weekdayTransitions: [
            { at: '07:00', profile: 'peak' },
            { at: '07:00', profile: 'off-hours' },
          ],
        },
      },
    },
  ],
  ['a duplicate template', { coder, families: { templates: ['docker', 'Docker'] } }],
  [
    'a profile the schedule uses that a group lacks',
    {
      coder,
      scaling: {
        ...scaling,
        nodeGroups: [{ ...workspacesGroup, profiles: { peak: { minSize: 1, maxSize: 3 } } }],
      },
    },
  ],
];

describe('schema/config.schema.json', () => {
  it('is what scripts/config-schema.ts generates from the zod schema now (run npm run schema)', () => {
    expect(committed).toBe(configJsonSchemaText());
  });

  it('is a JSON Schema (draft 7) that offers completion for every top-level section', () => {
    const schema = JSON.parse(committed) as { $schema: string; properties: Record<string, unknown> };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(Object.keys(schema.properties)).toEqual([
      '$schema',
      'coder',
      'alarms',
      'scaling',
      'families',
      'provisionerKeys',
    ]);
  });

  it.each(good)('accepts, as zod does: %s', (_, config) => {
    const zod = controllerConfigSchema.safeParse(config);
    expect({
      jsonSchema: jsonSchemaAccepts(config),
      jsonSchemaErrors: validate.errors ?? [],
      zodIssues: zod.error?.issues ?? [],
    }).toEqual({ jsonSchema: true, jsonSchemaErrors: [], zodIssues: [] });
  });

  it.each(bad)('rejects, as zod does: %s', (_, config) => {
    expect({ jsonSchema: jsonSchemaAccepts(config), zod: zodAccepts(config) }).toEqual({
      jsonSchema: false,
      zod: false,
    });
  });

  it.each(zodOnly)('leaves to zod (at synth) what JSON Schema cannot say: %s', (_, config) => {
    expect({ jsonSchema: jsonSchemaAccepts(config), zod: zodAccepts(config) }).toEqual({
      jsonSchema: true,
      zod: false,
    });
  });
});

describe('the example configurations', () => {
  it('config/seed-004.json names the schema, so an editor checks it', () => {
    expect((referenceFile as { $schema?: string }).$schema).toBe('../schema/config.schema.json');
  });
});
