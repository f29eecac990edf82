import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { FunctionName } from '../../lambdas/wiring/names.js';
import { ESM_REQUIRE_SHIM, HANDLERS_DIR, LAMBDA_NODE_TARGET } from './function-bundling.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ControllerFunctionProps
  extends Omit<
    NodejsFunctionProps,
    'entry' | 'runtime' | 'architecture' | 'bundling' | 'handler' | 'logGroup'
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
 * Every Lambda of the controller, with the defaults fixed once: Node.js 22 on ARM64, an ESM
 * bundle that includes the AWS SDK v3 clients (pinned versions, not the runtime's), X-Ray
 * tracing, and a log group with a retention period.
 */
export class ControllerFunction extends NodejsFunction {
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
      entry: path.join(projectRoot, HANDLERS_DIR, `${handlerName}.ts`),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: handlerName,
        ...environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: LAMBDA_NODE_TARGET,
        minify: true,
        sourceMap: true,
        // Bundle the SDK clients: pinned versions and a faster cold start than the runtime's copy.
        externalModules: [],
        banner: ESM_REQUIRE_SHIM,
        mainFields: ['module', 'main'],
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
