import { KVError, type KVErrorCode } from '../shared/errors.js';

/** Where an error happened, to pick the code and write a message that says what failed. */
export interface ErrorContext {
  /** Command name, e.g. `GET` or `EVALSHA`. */
  command: string;
  /** True inside a script call: server error replies then mean the script failed. */
  script?: string;
  /** Driver name for the message. */
  driver: string;
}

const connectionCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);

// Class names of the client libraries' own (non-reply) errors, checked by name so this
// module needs neither library at import time.
const connectionErrorNames = new Set([
  'ClientOfflineError',
  'SocketClosedUnexpectedlyError',
  'ClientClosedError',
  'DisconnectsClientError',
  'ReconnectStrategyError',
  'RootNodesUnavailableError',
  'ConnectionTimeoutError',
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
  // Redirections run out when a slot's master is unreachable during a cluster outage.
  'MaxCommandRedirectionsError',
]);

const timeoutErrorNames = new Set(['TimeoutError', 'SocketTimeoutError', 'CommandTimeoutDuringMaintenanceError', 'SocketTimeoutDuringMaintenanceError']);

const connectionMessages = [
  'Connection is closed',
  "Stream isn't writeable",
  'None of startup nodes is available',
  'Failed to refresh slots cache',
  "Cluster isn't ready",
  'The client is closed',
  'The client is offline',
  'Socket closed unexpectedly',
  'connect ECONNREFUSED',
  'Connection timeout',
  'Too many Cluster redirections',
];

const replyErrorNames = new Set(['ReplyError', 'ErrorReply', 'SimpleError', 'BlobError']);

function codeOfReply(message: string, inScript: boolean): KVErrorCode {
  const prefix = message.slice(0, message.indexOf(' ') === -1 ? message.length : message.indexOf(' '));
  switch (prefix) {
    case 'WRONGTYPE':
      return inScript ? 'SCRIPT_ERROR' : 'WRONG_TYPE';
    case 'CROSSSLOT':
      return 'CROSS_SLOT';
    case 'WRONGPASS':
    case 'NOAUTH':
    case 'NOPERM':
      return 'AUTH_FAILED';
    case 'NOSCRIPT':
      return 'SCRIPT_ERROR';
    case 'LOADING':
    case 'MASTERDOWN':
    case 'CLUSTERDOWN':
    case 'TRYAGAIN':
      return 'CONNECTION_LOST';
    default:
      break;
  }
  if (/^ERR (invalid password|invalid username-password pair|AUTH <password> called without)/i.test(message)) return 'AUTH_FAILED';
  if (inScript) return 'SCRIPT_ERROR';
  if (/^ERR (Error running script|Error compiling script|user_script)/.test(message)) return 'SCRIPT_ERROR';
  return 'COMMAND_FAILED';
}

function describe(error: unknown): { name: string; message: string; code: string | undefined } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.constructor?.name ?? error.name, message: error.message, code: typeof code === 'string' ? code : undefined };
  }
  return { name: typeof error, message: String(error), code: undefined };
}

/** The {@link KVErrorCode} for an error thrown by ioredis or node-redis (or a socket under them). */
export function classifyRedisError(error: unknown, inScript = false): KVErrorCode {
  if (error instanceof KVError) return error.code;
  const { name, message, code } = describe(error);
  const errorName = error instanceof Error ? error.name : name;
  if (replyErrorNames.has(name) || replyErrorNames.has(errorName)) return codeOfReply(message, inScript);
  // Handshake failures arrive wrapped ("Ready check failed: NOAUTH …") but still mean bad credentials.
  if (/\b(WRONGPASS|NOAUTH)\b|called without any password configured/.test(message)) return 'AUTH_FAILED';
  if (timeoutErrorNames.has(name) || timeoutErrorNames.has(errorName) || message === 'Command timed out') return 'TIMEOUT';
  if (code !== undefined && connectionCodes.has(code)) return 'CONNECTION_LOST';
  if (connectionErrorNames.has(name) || connectionErrorNames.has(errorName)) return 'CONNECTION_LOST';
  if (connectionMessages.some((text) => message.includes(text))) return 'CONNECTION_LOST';
  // Some client paths surface reply errors as plain Errors carrying the server's text.
  if (/^[A-Z]{3,}[A-Z_]* /.test(message)) return codeOfReply(message, inScript);
  return 'COMMAND_FAILED';
}

/** Wraps any client error in a {@link KVError} with a stable code, keeping the original as `cause`. */
export function toKVError(error: unknown, context: ErrorContext): KVError {
  if (error instanceof KVError) return error;
  const code = classifyRedisError(error, context.script !== undefined);
  const original = error instanceof Error ? error.message : String(error);
  const what = context.script !== undefined ? `script "${context.script}" (${context.command})` : context.command;
  return new KVError(code, `${context.driver}: ${what} failed: ${original}`, { cause: error });
}
