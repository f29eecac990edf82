/** The narrow logging surface core code and adapters speak, so tests can pass a plain recorder. */
export interface LogSink {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** A LogSink that drops everything: for CLI runs and tests that do not assert on logs. */
export const silentLog: LogSink = { debug() {}, info() {}, warn() {}, error() {} };
