import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CoderClient } from '../lambdas/adapters/coder/index.js';
import type { LogSink } from '../lambdas/core/contracts/log-sink.js';
import { parseConfig } from '../lambdas/core/contracts/validation.js';
import { isMutation } from '../lambdas/core/families/action-kinds.js';
import { type FamiliesConfig, familiesConfigSchema } from '../lambdas/core/families/config.js';
import { familyId, familyKey } from '../lambdas/core/families/model.js';
import type { FamilyLogSink } from '../lambdas/core/families/ports.js';
import {
  type ReconcileReport,
  type ReportedAction,
  reconcileFamilies,
} from '../lambdas/core/families/run.js';
import {
  createFamilyEngine,
  type FamilyEngineParts,
  familyDocumentClient,
} from '../lambdas/wiring/families.js';
import { AWS_OPTIONS, CODER_OPTIONS, COMMON_OPTIONS, parseCommandArgs } from './args.js';
import { connectToCoder, createCliCoderClient, resolveCoderTarget } from './coder.js';
import { readConfigSection } from './config-file.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { familiesProgress } from './families-progress.js';
import { type CliIo, CliOutput, heading, plural, renderTable } from './output.js';
import { createProgressMeter } from './progress.js';
import { didYouMean } from './suggest.js';
import { FAMILIES_USAGE } from './usage.js';

const FAMILIES_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CODER_OPTIONS,
  ...AWS_OPTIONS,
  family: { type: 'string' },
  config: { type: 'string' },
  template: { type: 'string', multiple: true },
  'ledger-table': { type: 'string' },
  'lock-table': { type: 'string' },
} as const;

/** Where the ownership ledger lives for this run. */
export type LedgerSource =
  | { kind: 'dynamodb'; table: string; lockTable: string }
  | { kind: 'none' }
  | { kind: 'memory' };

export const NO_LEDGER_NOTICE =
  'No --ledger-table: this plan reads no ledger, so it cannot plan deletions or stops of children ' +
  '(ownership comes only from the ledger, never from names). Children the controller already created ' +
  'show up as name conflicts. Pass --ledger-table (the deployed DynamoDB table) for the real plan.';

/** The JSON document of `families plan|apply --json`. */
export interface FamiliesResult {
  readonly command: 'families plan' | 'families apply';
  readonly coderUrl: string;
  readonly ledger: LedgerSource;
  readonly templates: readonly string[];
  readonly notices: readonly string[];
  readonly report: ReconcileReport;
}

/**
 * Every --template names a template Coder has (that the token can see): a typo would otherwise plan
 * nothing and say "0 families checked", as if all were well. Template names are case-insensitive.
 */
const requireTemplates = async (wanted: readonly string[], client: CoderClient, coderUrl: string) => {
  const known = [...new Set((await client.listTemplates()).map((t) => t.name))].sort();
  const lower = new Set(known.map((name) => name.toLowerCase()));
  const missing = wanted.filter((name) => !lower.has(name.toLowerCase()));
  if (missing.length === 0) return;
  const listed =
    known.length === 0
      ? 'the token sees no template at all'
      : `its templates: ${known.slice(0, 12).join(', ')}${known.length > 12 ? `, … (${known.length})` : ''}`;
  const lines = missing.map(
    (name) => `no template "${name}" in Coder at ${coderUrl}${didYouMean(name, known)}`,
  );
  throw new UsageError(`${lines.join('\n')} (${listed})`);
};

/** Templates to manage: --template, else the config's, else every template the token can see. */
const resolveConfig = async (
  values: { config?: string | undefined; template?: string[] | undefined },
  client: CoderClient,
  out: CliOutput,
  coderUrl: string,
): Promise<FamiliesConfig> => {
  const section = values.config ? await readConfigSection(values.config, 'families') : undefined;
  if (values.config && section === undefined) {
    throw new CliError(`--config ${values.config} has no "families" section`);
  }
  const base = (section ?? {}) as Record<string, unknown>;
  let templates = values.template ?? (base.templates as string[] | undefined);
  if (!templates || templates.length === 0) {
    templates = (await client.listTemplates()).map((t) => t.name);
    if (templates.length === 0)
      throw new CliError('Coder has no templates the token can see: nothing to manage');
    out.progress(`No --template or --config: every template is managed (${templates.join(', ')})`);
  } else if (values.template) {
    await requireTemplates(values.template, client, coderUrl);
  }
  return parseConfig(
    familiesConfigSchema,
    { ...base, templates },
    values.config ? `--config ${values.config} (families)` : 'families options',
  );
};

/**
 * Engine log lines at a terminal: warnings and errors only (a lock that could not be released, a
 * failure record not written); progress comes from the engine's events (families-progress.ts).
 */
export const warningsLog = (out: CliOutput): FamilyLogSink => {
  const sink = (family: string | undefined): LogSink => ({
    debug() {},
    info() {},
    warn(message, extra) {
      // An action's failure or conflict is in the result table; here only what is not.
      if (message === 'family action' || message === 'family action failed') return;
      const detail = extra?.error ? `: ${String(extra.error)}` : '';
      out.warn(`${family ? `${family}: ` : ''}${message}${detail}`);
    },
    error(message, extra) {
      const detail = extra?.error ? `: ${String(extra.error)}` : '';
      out.warn(`${family ? `${family}: ` : ''}${message}${detail}`);
    },
  });
  return { ...sink(undefined), forFamily: (family) => sink(family) };
};

const childOf = (action: ReportedAction): string =>
  'childName' in action && action.childName !== undefined ? action.childName : '-';

/** The report as a table: one row per action, with its outcome and reason. */
export const renderFamiliesReport = (report: ReconcileReport): string => {
  const lines: string[] = [];
  const mutations = report.actions.filter(isMutation);
  if (report.actions.length === 0) {
    lines.push(
      `Nothing to do: ${plural(report.families, 'family', 'families')} checked, all as they should be.`,
    );
  } else {
    const rows = report.actions.map((a) => [
      familyId(a.family),
      a.kind,
      childOf(a),
      a.outcome,
      a.error ? `${a.reason} (${a.error})` : a.reason,
    ]);
    lines.push(renderTable(['FAMILY', 'ACTION', 'CHILD', 'OUTCOME', 'REASON'], rows));
    lines.push('');
    if (mutations.length === 0) lines.push('Nothing to change (the rows above are reports only).');
  }
  const s = report.summary;
  const verb = report.dryRun ? 'would create' : 'created';
  const created = report.dryRun ? s.childrenMissing : s.created;
  const parts = [
    plural(report.families, 'family', 'families'),
    `${created} ${verb}`,
    `${report.dryRun ? mutations.filter((a) => a.kind !== 'create-child').length : s.removed} ${report.dryRun ? 'other changes' : 'removed'}`,
    plural(report.conflicts, 'conflict'),
    plural(report.failures, 'failure'),
  ];
  if (report.skippedLocked.length > 0)
    parts.push(`${report.skippedLocked.length} locked by another run (skipped)`);
  if (s.hardLimited > 0) parts.push(`${s.hardLimited} hard-limited`);
  lines.push(
    `${report.dryRun ? 'Plan' : 'Applied'}: ${parts.join(', ')}; ${report.coder.requests} Coder requests in ${s.durationMs} ms.`,
  );
  if (report.incomplete?.reason === 'deadline')
    lines.push(`Cut short (deadline): ${report.incomplete.detail}.`);
  else if (report.incomplete) lines.push(`Paced by Coder's provisioners: ${report.incomplete.detail}.`);
  else if (report.pacing) lines.push(`Provisioners: ${report.pacing.reason}.`);
  return lines.join('\n');
};

export const runFamiliesCommand = async (args: readonly string[], io: CliIo): Promise<number> => {
  const sub = args[0];
  if (sub === '--help' || sub === '-h') {
    io.stdout(`${FAMILIES_USAGE}\n`);
    return EXIT.ok;
  }
  if (sub !== 'plan' && sub !== 'apply') {
    throw new UsageError(
      sub === undefined || sub.startsWith('-')
        ? 'families needs a subcommand: plan or apply'
        : `unknown subcommand "families ${sub}": use plan or apply${didYouMean(sub, ['plan', 'apply'])}`,
      FAMILIES_USAGE,
    );
  }
  const command = `families ${sub}` as const;
  const values = parseCommandArgs(args.slice(1), FAMILIES_OPTIONS, command, FAMILIES_USAGE);
  const out = new CliOutput(io, values.json === true);
  if (values.help) {
    io.stdout(`${FAMILIES_USAGE}\n`);
    return EXIT.ok;
  }
  let scope: { owner: string; parent: string } | undefined;
  if (values.family !== undefined) {
    const match = /^([^/\s]+)\/([^/\s]+)$/.exec(values.family);
    if (!match?.[1] || !match[2]) {
      throw new UsageError(
        `--family must be OWNER/NAME (e.g. alice/my-team), got "${values.family}"`,
        FAMILIES_USAGE,
      );
    }
    scope = { owner: match[1], parent: match[2] };
  }
  const ledgerTable = values['ledger-table'];
  if (sub === 'apply' && !ledgerTable) {
    throw new UsageError(
      'families apply needs the ledger: pass --ledger-table (the deployed DynamoDB table); the ledger is the only record of which children the controller owns',
      FAMILIES_USAGE,
    );
  }
  if (values['lock-table'] && !ledgerTable) {
    throw new UsageError('--lock-table goes with --ledger-table', FAMILIES_USAGE);
  }

  const target = await resolveCoderTarget(values, io, out, command, FAMILIES_USAGE);
  if (!target) throw new UsageError(`${command} needs Coder's URL and token`, FAMILIES_USAGE);
  const client = createCliCoderClient(target);
  await connectToCoder(client, target, out);
  const config = await resolveConfig(values, client, out, target.url);

  let source: LedgerSource = { kind: 'none' };
  let store: FamilyEngineParts['store'];
  const notices: string[] = [];
  if (ledgerTable) {
    const lockTable = values['lock-table'] ?? ledgerTable;
    const region = values.region;
    store = {
      documentClient: familyDocumentClient(new DynamoDBClient(region ? { region } : {})),
      ledgerTable,
      lockTable,
    };
    source = { kind: 'dynamodb', table: ledgerTable, lockTable };
  } else {
    notices.push(NO_LEDGER_NOTICE);
  }
  const meter = createProgressMeter(io, out.json);
  const engine = createFamilyEngine({
    config,
    client,
    ...(store ? { store } : {}),
    log: warningsLog(out),
    progress: familiesProgress(out, meter, { showActions: sub === 'apply' }),
    newRunId: () => `cli-${randomUUID()}`,
  });
  const { ledger } = engine;
  if (store) {
    out.progress(`Reading the ledger from DynamoDB table ${store.ledgerTable} …`);
    await ledger.loadOwner('-');
  }

  let unmanagedTemplate = false;
  if (scope) {
    const workspace = await client.getWorkspaceByOwnerAndName(scope.owner, scope.parent);
    if (!workspace) {
      const known = (await ledger.loadOwner(scope.owner)).children.some(
        (c) => c.parent === scope.parent.toLowerCase(),
      );
      if (!known) {
        throw new CliError(
          `no workspace "${scope.parent}" owned by "${scope.owner}" in Coder at ${target.url}${ledgerTable ? ', and the ledger has no family of that name' : ''}: check --family OWNER/NAME (\`coder list --all\` shows owners and names)`,
        );
      }
    } else if (!config.templates.some((t) => t.toLowerCase() === workspace.template_name.toLowerCase())) {
      unmanagedTemplate = true;
      notices.push(
        `${scope.owner}/${scope.parent} uses template "${workspace.template_name}", which is not managed (${config.templates.join(', ')}): it is not a family`,
      );
    }
  }

  out.progress(
    `${sub === 'plan' ? 'Planning' : 'Reconciling'} ${scope ? `family ${scope.owner}/${scope.parent}` : 'every family'} …`,
  );
  const applying = sub === 'apply';
  const report = await reconcileFamilies(engine, {
    scope: scope ? { kind: 'family', ...familyKey(scope.owner, scope.parent) } : { kind: 'all' },
    dryRun: !applying,
    trigger: 'operator',
  });
  meter.done();
  if (scope && report.families === 0 && !unmanagedTemplate) {
    notices.push(
      `${scope.owner}/${scope.parent} is not a family: its ${config.countParameter} parameter is not 1 or more and the ledger records no children for it`,
    );
  }

  if (out.json) {
    const result: FamiliesResult = {
      command,
      coderUrl: target.url,
      ledger: source,
      templates: config.templates,
      notices,
      report,
    };
    out.document(result);
  } else {
    out.print(heading(`${command}: ${target.url}`));
    for (const notice of notices) out.print(`NOTE: ${notice}\n`);
    out.print(renderFamiliesReport(report));
    if (sub === 'plan' && report.actions.some(isMutation))
      out.print('Run `coder-fleet families apply` (with --ledger-table) to carry this out.');
  }
  return report.failures > 0 ? EXIT.failure : EXIT.ok;
};
