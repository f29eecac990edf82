import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { FunctionName } from '../../lambdas/contracts/names.js';
import { HANDLERS_DIR } from './function-bundling.js';

/**
 * The package's root: the nearest folder above this file with a package.json. From source that is
 * the repository (lib/common/ → ../..); from the compiled package, dist/js/lib/common/ → ../../../..
 */
const packageRoot = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('coder-fleet-controller: cannot find its own package.json');
    dir = parent;
  }
  return dir;
})();

export class BundleNotFoundError extends Error {
  override readonly name = 'BundleNotFoundError';
}

/**
 * The function's code: the prebuilt bundle folder `dist/<handler>/` when it exists (always, in the
 * published package: no esbuild, no lock file needed), else, inside this repository, the handler
 * bundled from source at synth by scripts/bundle.ts with the same settings `npm run build` uses.
 */
export const controllerFunctionCode = (handlerName: FunctionName, root = packageRoot): lambda.Code => {
  const prebuilt = path.join(root, 'dist', handlerName);
  if (existsSync(path.join(prebuilt, 'index.mjs'))) return lambda.Code.fromAsset(prebuilt);
  const source = path.join(root, HANDLERS_DIR, `${handlerName}.ts`);
  const script = path.join(root, 'scripts', 'bundle.ts');
  if (!existsSync(source) || !existsSync(script)) {
    throw new BundleNotFoundError(
      `coder-fleet-controller: no prebuilt Lambda bundle at ${prebuilt}. The published package ships one per function; reinstall it (npm install coder-fleet-controller), or in its repository run \`npm run build\`.`,
    );
  }
  return lambda.Code.fromAsset(root, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling always answers (or fails with the reason).
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
      // Also what tells CDK's staging cache one handler's asset from another's.
      command: ['scripts/bundle.ts', '--handler', handlerName],
      local: {
        tryBundle(outputDir: string): boolean {
          const run = spawnSync(
            process.execPath,
            ['--import', 'tsx', script, '--handler', handlerName, '--outdir', outputDir],
            { cwd: root, encoding: 'utf8' },
          );
          if (run.status !== 0) {
            throw new Error(
              `bundling ${handlerName} from source failed: ${run.stderr || run.error?.message}; run \`npm run build\` to see the esbuild errors`,
            );
          }
          return true;
        },
      },
    },
  });
};

export interface ControllerFunctionProps
  extends Omit<
    lambda.FunctionProps,
    'code' | 'runtime' | 'architecture' | 'handler' | 'logGroup' | 'tracing'
  > {
  /** Base name of the handler file in lambdas/handlers/, e.g. `families-reconcile`. */
  readonly handlerName: FunctionName;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Every Lambda of the controller, with the defaults fixed once: Node.js 22 on ARM64, the handler's
 * lean ESM bundle (the AWS SDK v3 clients included: pinned versions, not the runtime's), X-Ray
 * tracing (the tracer is loaded on the first traced invocation), and a log group with a retention
 * period.
 */
export class ControllerFunction extends lambda.Function {
  readonly logGroupForFunction: logs.LogGroup;
  /** Powertools `service` name (the handler's base name): the dimension of this function's EMF metrics. */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: ControllerFunctionProps) {
    const { handlerName, logRetention, environment, ...rest } = props;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      timeout: Duration.seconds(60),
      memorySize: 512,
      ...rest,
      code: controllerFunctionCode(handlerName),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        POWERTOOLS_SERVICE_NAME: handlerName,
        ...environment,
      },
    });
    this.logGroupForFunction = logGroup;
    this.serviceName = handlerName;
    // Findings caused by the defaults this construct fixes, acknowledged once here; anything a
    // capability adds (IAM5 wildcards among them) is acknowledged, with its reason, where it is added.
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: the bundles target node22, the Lambda runtime the project tests on.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'AWSLambdaBasicExecutionRole only lets the function write its own logs.',
    });
  }
}
