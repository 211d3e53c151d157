// The root logger: created once by the composition root and passed down (children per controller
// and per reconcile). JSON lines by default; `pretty` renders them for people through pino-pretty.
// Secrets are redacted by path wherever they appear as fields, so a careless `log.info({ secret })`
// or a logged request never prints a token.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Field names that carry secrets, at the top level and one or two levels down. */
const SECRET_FIELDS = [
  'token',
  'password',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'bearerToken',
  'adminToken',
  'controllerToken',
  'secret',
  'auth',
] as const;

export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((field) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(field) ? field : `["${field}"]`;
  const dot = key.startsWith('[') ? '' : '.';
  return [key, `*${dot}${key}`, `*.*${dot}${key}`, `req.headers${dot}${key}`];
});

export const REDACTED = '[redacted]';

export interface LoggerConfig {
  level?: LogLevel;
  /** Human-readable output (pino-pretty); JSON lines otherwise. */
  pretty?: boolean;
  /** Fields on every line, e.g. `{ component: 'controller' }`. */
  base?: Record<string, unknown>;
  /** Where lines go; stdout by default. Tests pass a sink. */
  destination?: DestinationStream;
}

export function createLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    base: config.base ?? null,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (config.destination) return pino(options, config.destination);
  if (config.pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(options);
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}
