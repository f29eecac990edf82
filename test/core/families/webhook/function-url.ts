import type { LambdaFunctionURLEvent } from 'aws-lambda';

export const PATH_SECRET = 'k7Hq2Vn9Lp4Xw8Rt3Zm6Bc1Fd5Gs0JyA';

/** A Lambda Function URL event as AWS delivers it (payload format 2.0) for a POST from Coder. */
export const functionUrlEvent = (
  options: {
    path?: string;
    body?: string | undefined;
    method?: string;
    headers?: Record<string, string>;
    isBase64Encoded?: boolean;
  } = {},
): LambdaFunctionURLEvent => {
  const path = options.path ?? `/${PATH_SECRET}`;
  const method = options.method ?? 'POST';
  const body = 'body' in options ? options.body : '{}';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Go-http-client/1.1',
      'x-forwarded-for': '203.0.113.10',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      host: 'abcdefghijklmnopqrstuvwxyz123456.lambda-url.us-east-1.on.aws',
      'x-amzn-trace-id': 'Root=1-65f1c2a3-0123456789abcdef01234567',
      ...(body !== undefined
        ? { 'content-length': String(Buffer.byteLength(body, options.isBase64Encoded ? 'base64' : 'utf8')) }
        : {}),
      ...options.headers,
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz123456',
      domainName: 'abcdefghijklmnopqrstuvwxyz123456.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz123456',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: 'Go-http-client/1.1' },
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jun/2025:12:00:00 +0000',
      timeEpoch: 1748779200000,
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
};

/** A LogSink that keeps every line as JSON text, so tests can search everything that was logged. */
export const recordingLog = () => {
  const lines: string[] = [];
  const write =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      lines.push(JSON.stringify({ level, message, ...extra }));
    };
  return {
    lines,
    sink: { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') },
  };
};

/** Records addMetric calls as `name=value`. */
export const recordingMetrics = () => {
  const published: Array<{ name: string; value: number }> = [];
  const metrics = {
    addMetric(name: string, _unit: string, value: number) {
      published.push({ name, value });
    },
  };
  const total = (name: string) =>
    published.filter((m) => m.name === name).reduce((sum, m) => sum + m.value, 0);
  return { metrics, published, total };
};
